"""The server's CPU time per request: the twin (in memory and with a state file) against the bare
aiohttp ceiling, on the requests `bench.compare` measures.

    python -m bench.cpu [--servers twin,twin-state,bare] [--requests get,list,create] [--seconds 3] [--rounds 3]
    python -m bench.cpu --against main --requests create     # this checkout's twin against main's

Requests/s move with whatever else runs on the machine; the CPU time a server spends per request
moves far less (it counts only the time the server actually ran). Each server runs pinned to one
core, wrk to the other; for every run the server's user + system time is read from `/proc` before
and after, and divided by the requests wrk completed. The figure printed is the median over the
rounds. `bare µs / twin µs` is then the share of the bare ceiling's requests/s the twin reaches
when both saturate their core, which is what `bench.compare`'s twin/bare column measures on a
quiet machine.

`--against REV` also runs the twin of another revision (checked out into a temporary git worktree,
removed afterwards) as `twin@REV`, interleaved with this checkout's: the way to tell whether a
change made the twin faster when the machine's own speed drifts by more than the change.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from . import servers, stubs, tools, wrk
from .compare import LABELS, REQUEST_LABELS, REQUESTS, prepare_twin, requests_for, scripts, verify
from .scenario import DEFAULT_OBJECT, DEFAULT_SPEC, load

SERVERS = ("twin", "twin-state", "bare")


@dataclasses.dataclass
class Sample:
    """One wrk run: the requests completed and the server CPU seconds they took."""

    requests: int
    cpu: float
    errors: int

    @property
    def us(self) -> float:
        return self.cpu / self.requests * 1e6 if self.requests else float("nan")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default=",".join(SERVERS), help=f"comma-separated, from {', '.join(SERVERS)}")
    parser.add_argument("--requests", default=",".join(REQUESTS), help=f"comma-separated, from {', '.join(REQUESTS)}")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server and request; the median is printed")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server-cpu", type=int, default=0, help="core of the server under test (default 0)")
    parser.add_argument("--load-cpu", type=int, default=1, help="core of wrk (default 1)")
    parser.add_argument("--no-read-cache", action="store_true", help="twins compute every read afresh")
    parser.add_argument("--against", metavar="REV", default=None,
                        help="also measure the twin of git revision REV (interleaved), as twin@REV")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--object", default=DEFAULT_OBJECT)
    parser.add_argument("--out", type=Path, default=None, help="folder for logs (default bench/results/cpu-<time>)")
    args = parser.parse_args(argv)
    args.servers = [s for s in args.servers.split(",") if s]
    args.requests = [r for r in args.requests.split(",") if r]
    unknown = set(args.servers) - set(SERVERS) | set(args.requests) - set(REQUESTS)
    if unknown:
        parser.error(f"unknown servers or requests: {', '.join(sorted(unknown))}")
    if "twin-state" in args.servers and "create" not in args.requests:
        parser.error("twin-state differs from the twin on writes only: include the create")
    return args


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """Revision `rev` of this repository in a temporary worktree (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="twin-against-")) / "tree"
    git = ["git", "-C", str(tools.ROOT)]
    added = subprocess.run([*git, "worktree", "add", "--detach", str(folder), rev], capture_output=True, text=True)
    if added.returncode != 0:
        raise SystemExit(f"bench.cpu: cannot check out {rev!r}: {added.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(folder)], capture_output=True)


def run(up: dict[str, servers.Server], targets: dict[str, dict[str, tuple[str, Path]]],
        args: argparse.Namespace) -> dict[str, dict[str, list[Sample]]]:
    """Every server × request, `--rounds` times, interleaved; the others frozen meanwhile."""
    samples: dict[str, dict[str, list[Sample]]] = {name: {r: [] for r in by} for name, by in targets.items()}
    for name, by in targets.items():  # a short warm-up run of each
        with up[name].alone(up.values()):
            for url, lua in by.values():
                wrk.run(url, lua, duration=1, connections=args.connections, cpu=args.load_cpu)
    for round_no in range(1, args.rounds + 1):
        for request in args.requests:
            for name, by in targets.items():
                if request not in by:
                    continue
                url, lua = by[request]
                with up[name].alone(up.values()):
                    before = up[name].cpu_seconds()
                    result = wrk.run(url, lua, duration=args.seconds, connections=args.connections, cpu=args.load_cpu)
                    sample = Sample(result.requests, up[name].cpu_seconds() - before, result.errors)
                samples[name][request].append(sample)
                tools.log(f"round {round_no} {name:10} {request:7} {sample.us:7.1f} µs/request "
                          f"({result.requests_per_sec:.0f} req/s, p99 {result.p99_ms:.1f} ms, errors {result.errors})")
    return samples


def report(samples: dict[str, dict[str, list[Sample]]], args: argparse.Namespace) -> bool:
    """Print the medians and the ratios; returns False when a run had errors."""
    print()
    print(f"Server CPU per request — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; wrk -t1 -c{args.connections}, "
          f"{args.rounds} × {args.seconds:g} s per server and request, server on cpu {args.server_cpu}")
    print(f"\n{'request':26} {'server':13} {'µs/req median':>14} {'min':>7} {'max':>7}")
    clean = True
    median: dict[str, dict[str, float]] = {}
    for request in args.requests:
        for name in [*SERVERS, *(n for n in samples if n not in SERVERS)]:
            runs = samples.get(name, {}).get(request)
            if not runs:
                continue
            clean &= all(s.errors == 0 for s in runs)
            values = [s.us for s in runs]
            median.setdefault(name, {})[request] = statistics.median(values)
            print(f"{REQUEST_LABELS[request]:26} {LABELS.get(name, name):13} {statistics.median(values):14.1f} "
                  f"{min(values):7.1f} {max(values):7.1f}")
    if "bare" in median:
        print("\nexpected share of the bare ceiling's req/s (bare µs / twin µs):")
        for name in ("twin", "twin-state"):
            for request, us in median.get(name, {}).items():
                bare = median["bare"].get(request)
                if bare:
                    print(f"  {LABELS[name]:11} {REQUEST_LABELS[request]:26} {100 * bare / us:5.0f} %")
    if "create" in median.get("twin", {}) and "create" in median.get("twin-state", {}):
        print(f"\nstate file: a create costs {median['twin-state']['create']:.1f} µs against "
              f"{median['twin']['create']:.1f} µs in memory "
              f"({100 * median['twin']['create'] / median['twin-state']['create']:.0f} % of the in-memory req/s)")
    against = next((n for n in median if n.startswith("twin@")), None)
    if against is not None and "twin" in median:
        print(f"\nthis checkout's twin against {against} (the same rounds, interleaved):")
        for request, us in median["twin"].items():
            other = median[against].get(request)
            if other:
                print(f"  {REQUEST_LABELS[request]:26} {us:7.1f} µs against {other:7.1f} µs: "
                      f"{100 * (other - us) / other:+5.1f} % less CPU per request")
    if not clean:
        print("\nsome runs had errors (status >= 400 or socket errors): the figures are not comparable")
    return clean


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the servers are stopped
    run_dir = tools.pinned_run("cpu", args.out, args.server_cpu, args.load_cpu)
    if run_dir is None:
        return 2
    scenario = load(args.spec.resolve(), args.object)
    targets: dict[str, dict[str, tuple[str, Path]]] = {}
    with contextlib.ExitStack() as stack:
        up: dict[str, servers.Server] = {}
        exchanges = None
        twins: list[tuple[str, Path]] = [(name, tools.ROOT) for name in ("twin", "twin-state") if name in args.servers]
        if args.against:
            twins.append((f"twin@{args.against}", stack.enter_context(checkout(args.against))))
        for name, root in twins:
            state_file = run_dir / "twin-state.db" if name == "twin-state" else None
            # The other revision's own copy of the spec, when the spec is part of the checkout.
            spec = root / scenario.spec_path.relative_to(tools.ROOT) \
                if scenario.spec_path.is_relative_to(tools.ROOT) else scenario.spec_path
            server = up[name] = stack.enter_context(servers.twin(
                spec, cpu=args.server_cpu, log_dir=run_dir, read_cache=not args.no_read_cache,
                state_file=state_file, name=name, root=root).running())
            token, captured = prepare_twin(server, scenario)
            exchanges = exchanges or captured
            folder = run_dir / name.replace("/", "_")
            folder.mkdir(exist_ok=True)
            lua = scripts(captured, token, folder)
            wanted = [r for r in args.requests if r == "create"] if name == "twin-state" else args.requests
            targets[name] = {e.name: (server.url + e.path, lua[e.name]) for e in captured if e.name in wanted}
        if "bare" in args.servers:
            token = "bench-token"
            exchanges = exchanges or stubs.sample_exchanges(requests_for(scenario, "3fbc6b68-32a6-4e4b-91f6-2e4ba9239f9d"))
            stubs.save(exchanges, run_dir / "exchanges.json")
            server = up["bare"] = stack.enter_context(
                servers.bare(run_dir / "exchanges.json", cpu=args.server_cpu, log_dir=run_dir).running())
            verify(server, exchanges, token)
            lua = scripts(exchanges, token, run_dir)
            targets["bare"] = {e.name: (server.url + e.path, lua[e.name]) for e in exchanges if e.name in args.requests}
        samples = run(up, targets, args)
    return 0 if report(samples, args) else 2


if __name__ == "__main__":
    sys.exit(main())
