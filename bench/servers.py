"""Start and stop each server under test as a subprocess on a free loopback port, pinned to one core.

Each server is started with `taskset -c CPU` (taskset execs the server, so the child's pid is the
server's own: its VmRSS is the server's memory), waits until it answers HTTP, and is stopped with
SIGTERM to its whole process group (SIGKILL after a grace period).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from . import tools

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc/<pid>/status (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in a process group (Prism may fork workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, …, utime (11), stime (12)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """One server process under test."""

    name: str
    command: list[str]
    port: int
    ready_path: str = "/"
    cpu: int | None = 0
    log_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 60.0
    cwd: Path = tools.ROOT  # where the command runs (`python -m twin` imports the code found there)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Server:
        command = list(self.command)
        if self.cpu is not None:
            command = [tools.taskset(), "-c", str(self.cpu), *command]
        log: BinaryIO | int = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
        tools.log(f"starting {self.name} on {self.url}" + (f" (cpu {self.cpu})" if self.cpu is not None else ""))
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=self.cwd, env={**os.environ, **self.env},
        )
        if not isinstance(log, int):
            log.close()  # the child holds its own copy
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} before it was ready{self._log_tail()}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                    response.read()
                return
            except urllib.error.HTTPError:
                return  # it answers HTTP: ready
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {self.startup_timeout:.0f}s{self._log_tail()}")

    def _log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return "\n--- " + str(self.log_path) + "\n" + self.log_path.read_text(errors="replace")[-3000:]
        return ""

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's whole process group."""
        return group_cpu_seconds(self.pid)

    def pause(self) -> None:
        """Freeze the server (its whole process group): a JVM compiling or collecting in the
        background would otherwise take CPU from the server being measured on the same core."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGCONT)

    @contextlib.contextmanager
    def alone(self, others: Iterable[Server]) -> Iterator[Server]:
        """This server running while the `others` are frozen."""
        frozen = [o for o in others if o is not self]
        for other in frozen:
            other.pause()
        try:
            yield self
        finally:
            for other in frozen:
                other.resume()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    @contextlib.contextmanager
    def running(self) -> Iterator[Server]:
        try:
            yield self.start()
        finally:
            self.stop()


def twin(spec: Path, *, cpu: int | None, log_dir: Path, read_cache: bool = True, name: str = "twin",
         state_file: Path | None = None, root: Path = tools.ROOT) -> Server:
    """`twin serve` on one spec (with `read_cache=False`, every read computed afresh; with a
    `state_file`, every write saved to it before the answer: the server is then `twin-state`);
    its log is `<name>.log`. `root`: the checkout whose code runs (default: this one)."""
    port = free_port()
    extra = [] if read_cache else ["--no-read-cache"]
    if state_file is not None:
        name = "twin-state" if name == "twin" else name
        for stale in (state_file, state_file.with_name(state_file.name + "-wal")):
            stale.unlink(missing_ok=True)
        extra += ["--state-file", str(state_file)]
    return Server(
        name, [sys.executable, "-m", "twin", "serve", "--host", HOST, "--port", str(port), "--spec", str(spec), *extra],
        port, ready_path="/__twin/services", cpu=cpu, log_path=log_dir / f"{name}.log", cwd=root,
    )


def prism(spec: Path, *, cpu: int | None, log_dir: Path) -> Server:
    """`prism mock` (static mode, the default) on a spec. Its log level is `warn`: at the default
    `info` it logs every request, which halves its throughput."""
    port = free_port()
    return Server(
        "prism", [tools.node(), str(tools.prism()), "mock", "-h", HOST, "-p", str(port), "--errors=false", "-v", "warn", str(spec)],
        port, ready_path="/__bench_ready", cpu=cpu, log_path=log_dir / "prism.log",
        env={"NODE_ENV": "production"},
    )


def wiremock(root_dir: Path, *, cpu: int | None, log_dir: Path, journal: bool = True) -> Server:
    """WireMock standalone serving the mappings under `root_dir/mappings`, per-request logging off.

    With `journal` (the default) WireMock keeps its request journal bounded to the twin's own
    journal size (2000): both servers then do the same bookkeeping per request, the like-for-like
    comparison. Without it WireMock records nothing, which is faster and not what the twin does."""
    port = free_port()
    journal_args = ["--max-request-journal-entries", "2000"] if journal else ["--no-request-journal"]
    return Server(
        "wiremock",
        [tools.java(), "-jar", str(tools.wiremock_jar()), "--port", str(port), "--bind-address", HOST,
         "--root-dir", str(root_dir), *journal_args, "--disable-request-logging", "--disable-banner"],
        port, ready_path="/__admin/mappings", cpu=cpu, log_path=log_dir / "wiremock.log",
    )


def bare(stub_file: Path, *, cpu: int | None, log_dir: Path) -> Server:
    """The bare aiohttp handler (bench/bare.py) serving the captured envelopes."""
    port = free_port()
    return Server(
        "bare-aiohttp", [sys.executable, "-m", "bench.bare", "--host", HOST, "--port", str(port), "--stubs", str(stub_file)],
        port, ready_path="/__bench_ready", cpu=cpu, log_path=log_dir / "bare.log",
    )
