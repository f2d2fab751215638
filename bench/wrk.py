"""Drive one request with wrk, pinned to its own core, and read requests/s and p50/p99 latency.

    taskset -c 1 wrk -t1 -c32 -d10s --latency -s request.lua http://127.0.0.1:PORT/path

The Lua script sets the method, headers and body, and its `done` hook prints the exact figures as
one line (`BENCH {...}`); wrk's `--latency` table is kept in the raw output and read as a fallback.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import tools

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass
class Result:
    """What one wrk run measured."""

    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors + answers with status >= 400
    raw: str
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server used during the run (0 when not measured)

    @property
    def cpu_us_per_request(self) -> float:
        """The server's CPU time per request: unlike requests/s, barely moved by other work on the machine."""
        return self.server_cpu / self.requests * 1e6 if self.requests else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"rps": round(self.requests_per_sec, 1), "p50_ms": round(self.p50_ms, 3), "p99_ms": round(self.p99_ms, 3),
                "requests": self.requests, "errors": self.errors,
                "cpu_us_per_request": round(self.cpu_us_per_request, 1)}


def _lua_string(text: str) -> str:
    """A double-quoted Lua string literal (every byte outside printable ASCII as a decimal escape)."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in '"\\' or byte < 32 or byte > 126:
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def script(path: Path, method: str, headers: dict[str, str], body: str | None = None) -> Path:
    """Write the Lua script of one request."""
    lines = [f"wrk.method = {_lua_string(method)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")
    path.write_text("\n".join(lines) + "\n" + _DONE)
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _parse_duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str, *, require_hook: bool = False) -> Result:
    """Read wrk's output (the BENCH line when present, else the --latency table). With
    `require_hook`, a missing BENCH line is an error: wrk ignores a Lua script it cannot run."""
    rps_match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bench = re.search(r"^BENCH (\{.*\})$", output, re.M)
    if bench is None and require_hook:
        raise RuntimeError(f"wrk did not run the Lua script (its done hook printed nothing):\n{output}")
    if bench:
        data = json.loads(bench.group(1))
        duration = data["duration_us"] / 1e6
        errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
        rps = float(rps_match.group(1)) if rps_match else data["requests"] / duration
        return Result(rps, data["p50_us"] / 1000, data["p99_us"] / 1000, data["requests"], errors, output, duration)
    if not rps_match:
        raise ValueError(f"no Requests/sec in wrk output:\n{output}")
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in ([\d.]+\w+)", output)
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    return Result(
        float(rps_match.group(1)),
        _parse_duration(p50.group(1)) if p50 else float("nan"),
        _parse_duration(p99.group(1)) if p99 else float("nan"),
        int(total.group(1)) if total else 0, errors, output,
        _parse_duration(total.group(2)) / 1000 if total else 0.0,
    )


def combine(results: list[Result]) -> Result:
    """Several runs of one request as one: requests/s over the total time, the median p50, the
    worst p99."""
    seconds = sum(r.seconds for r in results)
    requests = sum(r.requests for r in results)
    rps = requests / seconds if seconds else statistics.mean(r.requests_per_sec for r in results)
    return Result(rps, statistics.median(r.p50_ms for r in results), max(r.p99_ms for r in results), requests,
                  sum(r.errors for r in results), "\n".join(r.raw for r in results), seconds,
                  sum(r.server_cpu for r in results))


def run(url: str, lua: Path, *, duration: float, connections: int, threads: int = 1, cpu: int | None = 1) -> Result:
    """One wrk run against `url`."""
    command = [tools.wrk(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
               "--timeout", "5s", "-s", str(lua), url]
    if cpu is not None:
        command = [tools.taskset(), "-c", str(cpu), *command]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    return parse(completed.stdout, require_hook=True)
