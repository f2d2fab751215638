"""Install and locate the benchmark's outside tools: Prism and WireMock (npm, into bench/.tools/),
wrk and taskset (Debian packages), Java and Node (expected on the machine; apt as a fallback).

Nothing is downloaded from anywhere but the npm registry and Debian's package archive.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TOOLS = BENCH / ".tools"
RESULTS = BENCH / "results"

# Pinned so that runs compare like with like.
# 5.16.0 (latest today) crashes at start-up in its default multi-process mode on Node 20
# (`node:cluster` default import is undefined), so the last release that starts is pinned.
PRISM_PACKAGE = "@stoplight/prism-cli@5.14.2"
WIREMOCK_PACKAGE = "wiremock@3.13.2"


class ToolError(RuntimeError):
    """A tool the benchmark needs is missing and could not be installed."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        raise ToolError(f"{' '.join(packages)} missing and not root: apt-get install {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log(f"apt-get install {' '.join(packages)}")
    result = subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        result = subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise ToolError(f"apt-get install {' '.join(packages)} failed:\n{result.stderr[-2000:]}")


def _which_or_apt(command: str, package: str) -> str:
    path = shutil.which(command)
    if path is None:
        _apt_install(package)
        path = shutil.which(command)
    if path is None:
        raise ToolError(f"{command} not found after installing {package}")
    return path


def wrk() -> str:
    """The wrk binary (Debian package `wrk`)."""
    return _which_or_apt("wrk", "wrk")


def taskset() -> str:
    """The taskset binary (Debian package `util-linux`)."""
    return _which_or_apt("taskset", "util-linux")


def java() -> str:
    """A Java runtime for WireMock's standalone jar (Java 17 is expected; apt as a fallback)."""
    return _which_or_apt("java", "openjdk-17-jre-headless")


def node() -> str:
    """Node, which runs Prism."""
    return _which_or_apt("node", "nodejs")


def _installed(package: str) -> bool:
    """True when bench/.tools holds exactly the pinned `name@version`."""
    name, version = package.rsplit("@", 1)
    manifest = TOOLS / "node_modules" / name / "package.json"
    if not manifest.exists():
        return False
    return bool(json.loads(manifest.read_text()).get("version") == version)


def prism() -> Path:
    """Prism's CLI script (run it with node), installed into bench/.tools/ from the npm registry if
    missing."""
    path = TOOLS / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
    if not path.exists() or not _installed(PRISM_PACKAGE):
        _npm_install()
    if not path.exists():
        raise ToolError(f"{path} missing after npm install")
    return path


def wiremock_jar() -> Path:
    """WireMock's standalone jar, which the `wiremock` npm package ships."""
    build = TOOLS / "node_modules" / "wiremock" / "build"
    jars = sorted(build.glob("wiremock-standalone-*.jar")) if build.exists() else []
    if not jars or not _installed(WIREMOCK_PACKAGE):
        _npm_install()
        jars = sorted(build.glob("wiremock-standalone-*.jar"))
    if not jars:
        raise ToolError(f"no wiremock-standalone jar under {build} after npm install")
    return jars[-1]


def _npm_install() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError("npm not found: install Node 20 (it comes with npm)")
    TOOLS.mkdir(parents=True, exist_ok=True)
    package_json = TOOLS / "package.json"
    if not package_json.exists():
        package_json.write_text('{"name": "twin-bench-tools", "private": true}\n')
    log(f"npm install {PRISM_PACKAGE} {WIREMOCK_PACKAGE} into {TOOLS}")
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(TOOLS),
         PRISM_PACKAGE, WIREMOCK_PACKAGE],
        capture_output=True, text=True, cwd=TOOLS,
    )
    if result.returncode != 0:
        raise ToolError(f"npm install failed:\n{result.stderr[-2000:]}")


def pinned_run(kind: str, out: Path | None, server_cpu: int, load_cpu: int) -> Path | None:
    """The results folder of a run that pins the server and wrk to two different cores, with wrk and
    taskset ready; None (and the reason on stderr) on a machine without two such cores."""
    if cpu_count() < 2 or max(server_cpu, load_cpu) >= (os.cpu_count() or 1):
        print("need two cores (server and wrk on different cores)", file=sys.stderr)
        return None
    run_dir = out or RESULTS / f"{kind}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    run_dir.mkdir(parents=True, exist_ok=True)
    # Installed or located first, so that no install lands inside a measurement.
    wrk()
    taskset()
    return run_dir


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return idle, sum(fields)


def cpu_busy(seconds: float = 1.0) -> float:
    """The fraction of the machine's CPU time spent busy over the next `seconds`."""
    import time

    idle1, total1 = _cpu_times()
    time.sleep(seconds)
    idle2, total2 = _cpu_times()
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


def wait_idle(limit: float, threshold: float = 0.15) -> float:
    """Wait up to `limit` seconds for the machine to be idle (other work busy < `threshold` of the
    CPU); returns the last busy fraction seen."""
    import time

    deadline = time.monotonic() + limit
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        log(f"machine busy ({busy:.0%} CPU in use by other work): waiting")
        busy = cpu_busy(2.0)
    return busy
