"""How long `twin verify` takes against a fresh local twin: wall and CPU time of the run (the verify
process with its engine processes, and the twin), and the wall time of each layer per service.

    .venv/bin/python -m bench.verify [--runs 1] [--spec SLUG …] [--port N] [--verify-args "…"] [--wait-idle S]

The twin serves every committed spec; `--spec` narrows what is verified.

The machine's load is printed with the numbers: on a busy machine wall time follows the CPU share
the run gets, CPU time does not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import servers, tools


@dataclass
class Measurement:
    """One `twin verify` run."""

    wall: float
    cpu: float  # user + system of twin verify and its children
    twin_cpu: float
    exit_code: int
    report: dict[str, Any]

    def lines(self) -> list[str]:
        counts = self.report.get("counts", {})
        total = sum(counts.values()) or 1
        out = [f"wall {self.wall:.1f}s  CPU {self.cpu:.1f}s (twin verify)  +{self.twin_cpu:.1f}s (twin)  exit {self.exit_code}  "
               f"{total} rule checks: {counts.get('pass', 0)} passed, {counts.get('fail', 0)} failed, "
               f"{counts.get('skip', 0)} skipped ({100 * counts.get('skip', 0) / total:.1f} %)"]
        for service, spent in sorted((self.report.get("durations") or {}).items()):
            layers = "  ".join(f"{layer} {seconds:5.1f}s" for layer, seconds in spent.items())
            out.append(f"  {service:<38} {layers}")
        return out


def children_cpu() -> float:
    """User + system CPU seconds of this process's waited-for children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(twin: servers.Server, args: list[str], folder: Path) -> Measurement:
    """Run `twin verify` once against `twin` (reset first) and measure it."""
    import urllib.request

    request = urllib.request.Request(f"{twin.url}/__twin/reset", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
    report_path = folder / "verify.json"
    command = [str(Path(sys.executable).parent / "twin"), "verify", "--base-url", twin.url, "--json", str(report_path),
               "-q", *args]
    twin_before, cpu_before, started = twin.cpu_seconds(), children_cpu(), time.perf_counter()
    completed = subprocess.run(command, cwd=tools.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - started
    if not report_path.exists():
        raise RuntimeError(f"twin verify wrote no report (exit {completed.returncode}): {completed.stderr.decode()[-2000:]}")
    return Measurement(wall=wall, cpu=children_cpu() - cpu_before, twin_cpu=twin.cpu_seconds() - twin_before,
                       exit_code=completed.returncode, report=json.loads(report_path.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs against the same (reset) twin (default 1)")
    parser.add_argument("--spec", nargs="*", default=[], help="services to verify: slugs or projects (default: all)")
    parser.add_argument("--verify-args", default="", help="more `twin verify` options, e.g. \"--phases coverage\"")
    parser.add_argument("--port", type=int, default=0, help="port of the twin (default: a free one)")
    parser.add_argument("--wait-idle", type=float, default=0.0, help="wait up to S seconds for an idle machine first")
    options = parser.parse_args(argv)
    if options.wait_idle:
        tools.wait_idle(options.wait_idle)
    port = options.port or servers.free_port()
    twin = servers.Server("twin", [str(Path(sys.executable).parent / "twin"), "serve", "--port", str(port)], port,
                          ready_path="/__twin/services", cpu=None)
    twin.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-verify-") as folder:
            for run in range(1, options.runs + 1):
                load = os.getloadavg()[0]
                result = measure(twin, [*shlex.split(options.verify_args), *(["--spec", *options.spec] if options.spec else [])],
                                 Path(folder))
                print(f"run {run}/{options.runs} ({tools.cpu_count()} cores, load {load:.1f} before the run)")
                print("\n".join(result.lines()), flush=True)
    finally:
        twin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
