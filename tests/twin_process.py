"""`twin serve` as a user runs it: the real command in a subprocess, for the tests that need it.

`twin_serve(*args)` starts it on a free port (or the one given), waits until it answers and stops it
when the block ends; its output goes to a file, so a chatty twin never blocks on a full pipe, and a
twin that does not start fails with what it printed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TWIN = BIN / "twin"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TwinProcess:
    """A running `twin serve`: its URL, port, process and what it printed so far."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = log

    def output(self) -> str:
        """Everything the twin printed (stdout and stderr) so far."""
        return self._log.read_text(encoding="utf-8", errors="replace") if self._log.exists() else ""

    def stop(self, how: signal.Signals = signal.SIGTERM, timeout: float = 60) -> str:
        """Send `how` (unless it has exited already), wait for the exit, answer its output."""
        if self.process.poll() is None:
            self.process.send_signal(how)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.output()

    def wait_until_answering(self, timeout: float) -> None:
        """Poll the control API until it answers anything (a guarded one answers 401)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/__twin/services", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"twin serve exited with {self.process.returncode}: {self.output()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"twin serve did not answer within {timeout:.0f}s: {self.stop()}") from None
                time.sleep(0.1)


@contextmanager
def twin_serve(*args: str, port: int | None = None, env: Mapping[str, str] | None = None,
               stop: signal.Signals = signal.SIGTERM, ready_timeout: float = 90) -> Iterator[TwinProcess]:
    """`twin serve --port PORT *args` (run from the repository root, `env` over the environment)
    until the block ends, then stopped with `stop`. A busy machine starts it slowly: hence 90 s."""
    chosen = port or free_port()
    with tempfile.TemporaryDirectory(prefix="twin-serve-") as folder:
        log = Path(folder) / "output.log"
        with log.open("wb") as sink:
            process = subprocess.Popen([str(TWIN), "serve", "--port", str(chosen), *args], cwd=ROOT,
                                       env={**os.environ, **(env or {})}, stdout=sink, stderr=subprocess.STDOUT)
        twin = TwinProcess(process, chosen, log)
        try:
            twin.wait_until_answering(ready_timeout)
            yield twin
        finally:
            twin.stop(stop)
