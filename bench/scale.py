"""How the twin's gets, filtered lists and memory grow with the number of stored records.

    python -m bench.scale [--sizes 10000,100000,1000000]

Starts two `twin serve` on the tutorhub enrollmentManagement spec (pinned to one core; this driver
runs on the other): the *engine* twin with `--no-read-cache`, which computes every answer, and a
*cached* twin with its read cache on. For each size in turn it tops two data objects up to that
many records on both through the control API's bulk insert (`POST /__twin/records/{service}/{object}`,
batches of 20k), then times sequential requests on one keep-alive connection:

- on the engine twin, every timed request distinct (another id, another search text, another
  page: what a frontend's search box and pager send), so nothing is answered from a cache;
- on the cached twin, one request repeated (a frontend re-reading unchanged data): after the first,
  answers are replays of the read cache. These lines are labelled "repeated, read cache on"; the
  targets are checked on the engine's lines.

Queries: `enrollment`: a get by id, and a list filtered by the declared enum filter
`paymentConfirmation` (indexed); `sys_enrollmentPayment`: a get by id; a list filtered by the
declared ID filter `orderId` (indexed); partial-match string filters (trigram index): `paymentStatus`
(six distinct values) with a piece of a status, `paymentId` (unique per record) with a piece of a
stored id as a search box sends it; and ID filter `ownerId` + partial `paymentStatus` together.

(No tutorhub object declares both an enum and a partial-match filter, hence two objects.) It also
reads the engine twin's resident memory (VmRSS) before and after each load, and reports the memory
per stored record beyond the record's raw JSON size. Prints p50/p99 at each size, how each grows
with size (the exponent k of time ∝ size^k between sizes: 0 = flat, 1 = linear) and the targets.
Exits 2 when a request fails; with --strict, 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import random
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from . import servers, tools
from .client import Client, admin_token, insert
from .compare import machine
from .scenario import DEFAULT_SPEC

DEFAULT_SIZES = "10000,100000,1000000"
BATCH = 20_000
PAGE = 25

# The targets.
FLAT_FACTOR = 2.0  # "flat": p50 at the largest size at most this many times the smallest size's
INDEXED_P50_MS_AT_1M = 20.0
PARTIAL_P50_MS_AT_1M = 10.0
MAX_EXPONENT = 1.15  # "grows at most linearly" (with room for timer noise)
MAX_OVERHEAD_BYTES = 1024


# -- record generators ----------------------------------------------------------------------------
def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


STRIPE_STATUSES = ["requires_payment_method", "requires_confirmation", "requires_action", "processing",
                   "succeeded", "canceled"]
LITERALS = ["started", "pending", "paid", "canceled", "failed"]
OWNERS = 1000


@dataclass
class Generator:
    rng: random.Random
    owners: list[str]
    fixtures: dict[str, list[str]]
    start: datetime = field(default_factory=lambda: datetime(2025, 1, 1, tzinfo=UTC))

    def payment(self, i: int) -> dict[str, Any]:
        rng = self.rng
        return {
            "ownerId": self.owners[i % len(self.owners)],
            "orderId": _id(rng),
            "paymentId": f"pi_{rng.getrandbits(96):024x}",
            "paymentStatus": STRIPE_STATUSES[rng.randrange(len(STRIPE_STATUSES))],
            "statusLiteral": LITERALS[rng.randrange(len(LITERALS))],
            "redirectUrl": f"https://app.tutorhub.test/payments/{i}/result" if i % 3 else None,
        }

    def enrollment(self, i: int) -> dict[str, Any]:
        rng, fx = self.rng, self.fixtures
        slots = fx.get("lessonSlot") or [_id(rng)]
        return {
            "coursePackId": rng.choice(fx.get("coursePack") or [_id(rng)]),
            "studentId": self.owners[i % len(self.owners)],
            "tutorProfileId": rng.choice(fx.get("tutorProfile") or [_id(rng)]),
            "lessonSlotIds": [rng.choice(slots) for _ in range(1 + i % 3)],
            "totalAmount": round(20 + rng.random() * 480, 2),
            "currency": "USD",
            "paymentStatus": ("pending", "paid", "refunded")[rng.randrange(3)],
            "refundStatus": ("notRequested", "eligible", "processed", "ineligible")[rng.randrange(4)],
            "enrollmentStatus": ("pending", "active", "completed", "canceled")[rng.randrange(4)],
            "enrolledAt": (self.start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "paymentConfirmation": ("pending", "processing", "paid", "canceled")[rng.randrange(4)],
        }


# -- queries --------------------------------------------------------------------------------------
@dataclass
class ObjectState:
    name: str
    make: Callable[[int], dict[str, Any]]
    count: int = 0
    rss_delta: int = 0
    ids: list[str] = field(default_factory=list)  # a sample of stored ids, spread over the table
    order_ids: list[str] = field(default_factory=list)
    payment_ids: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    json_bytes: float = 0.0


def _cased(rng: random.Random, text: str) -> str:
    """`text` in a random mix of upper and lower case (the filters are case-insensitive)."""
    return "".join(c.upper() if rng.random() < 0.5 else c for c in text)


def _piece(rng: random.Random, text: str, shortest: int, longest: int) -> str:
    length = rng.randint(shortest, min(longest, len(text)))
    start = rng.randrange(len(text) - length + 1)
    return text[start:start + length]


def _distinct(n: int, make: Callable[[random.Random], str], seed: int) -> list[str]:
    """`n` distinct paths (fewer only when `make` cannot produce that many)."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    for _ in range(n * 20):
        out[make(rng)] = None
        if len(out) >= n:
            break
    return list(out)


BASE = "/enrollmentmanagement-api"
PAYMENTS = f"{BASE}/v1/enrollmentpayments"


def _enum_list(rng: random.Random) -> str:
    value = _cased(rng, rng.choice(("pending", "processing", "paid", "canceled")))
    return f"{BASE}/v1/enrollments?paymentConfirmation={value}&pageRowCount={PAGE}&pageNumber={rng.randint(1, 20)}"


def _status_list(rng: random.Random) -> str:
    needle = _cased(rng, _piece(rng, rng.choice(STRIPE_STATUSES), 3, 8))
    return f"{PAYMENTS}?paymentStatus={needle}&pageRowCount={PAGE}&pageNumber={rng.randint(1, 5)}"


def _payment_id_search(state: ObjectState) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        # 4-8 characters of a stored payment id (past its "pi_" prefix), as a user pastes or types them.
        needle = _cased(rng, _piece(rng, rng.choice(state.payment_ids)[3:], 4, 8))
        return f"{PAYMENTS}?paymentId={needle}&pageRowCount={PAGE}"
    return make


def _mixed(state: ObjectState) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        needle = _cased(rng, _piece(rng, rng.choice(STRIPE_STATUSES), 3, 8))
        return f"{PAYMENTS}?ownerId={rng.choice(state.owners)}&paymentStatus={needle}&pageRowCount={PAGE}"
    return make


@dataclass
class Query:
    key: str
    obj: str
    label: str
    kind: str  # get / indexed / partial / mixed
    paths: Callable[[ObjectState, int], list[str]]  # n distinct paths


QUERIES = [
    Query("enr.get", "enrollment", "enrollment: get by id", "get",
          lambda s, n: [f"{BASE}/v1/enrollments/{i}" for i in s.ids[:n]]),
    Query("enr.enum", "enrollment", "enrollment: enum filter paymentConfirmation", "indexed",
          lambda s, n: _distinct(n, _enum_list, 1)),
    Query("pay.get", "sys_enrollmentPayment", "payment: get by id", "get",
          lambda s, n: [f"{PAYMENTS[:-1]}/{i}" for i in s.ids[:n]]),
    Query("pay.id", "sys_enrollmentPayment", "payment: ID filter orderId", "indexed",
          lambda s, n: [f"{PAYMENTS}?orderId={o}&pageRowCount={PAGE}" for o in s.order_ids[:n]]),
    Query("pay.partial", "sys_enrollmentPayment", "payment: partial paymentStatus (6 values)", "partial",
          lambda s, n: _distinct(n, _status_list, 2)),
    Query("pay.search", "sys_enrollmentPayment", "payment: partial paymentId (unique), 4-8 chars", "partial",
          lambda s, n: _distinct(n, _payment_id_search(s), 3)),
    Query("pay.mixed", "sys_enrollmentPayment", "payment: ID ownerId + partial paymentStatus", "mixed",
          lambda s, n: _distinct(n, _mixed(s), 4)),
]


@dataclass
class Timing:
    p50_ms: float
    p99_ms: float
    samples: int
    total_rows: int | None  # the first request's totalRowCount (lists); median over requests when distinct
    distinct: bool = True
    cpu_ms: float | None = None  # the twin's CPU time per timed request (user + system), mean


def time_query(client: Client, paths: list[str], budget: float, max_reps: int,
               cpu: Callable[[], float] | None = None) -> Timing:
    """Sequential requests until `budget` seconds or `max_reps` (at least 5): each of `paths` once
    when it holds more than one (after one untimed request to a path of its own), else the one path
    repeated (after one untimed request to it)."""
    distinct = len(paths) > 1
    warm, timed = (paths[0], paths[1:]) if distinct else (paths[0], paths * max(max_reps, 5))
    client.request("GET", warm)
    cpu_before = cpu() if cpu else 0.0
    times: list[float] = []
    rows: list[int] = []
    spent = 0.0
    for path in timed:
        if len(times) >= 5 and (spent >= budget or len(times) >= max_reps):
            break
        answer = client.request("GET", path)
        if answer.status != 200:
            raise RuntimeError(f"GET {path} answered {answer.status}: {answer.body[:300]!r}")
        times.append(answer.seconds)
        spent += answer.seconds
        paging = answer.json().get("paging") if not rows or distinct else None
        if paging:
            rows.append(paging["totalRowCount"])
    cpu_ms = (cpu() - cpu_before) * 1000 / len(times) if cpu else None
    times.sort()
    p99 = times[min(len(times) - 1, math.ceil(0.99 * len(times)) - 1)]
    total_rows = int(statistics.median(rows)) if rows else None
    return Timing(statistics.median(times) * 1000, p99 * 1000, len(times), total_rows, distinct, cpu_ms)


# -- loading --------------------------------------------------------------------------------------
def load_to(clients: list[Client], servers_: list[servers.Server], slug: str, state: ObjectState, target: int,
            batch: int) -> float:
    """Insert records into every twin until the object holds `target`; returns seconds spent on the
    first (the engine twin, whose memory is measured)."""
    spent = 0.0
    before = servers_[0].rss()
    while state.count < target:
        n = min(batch, target - state.count)
        rows = orjson.dumps({"records": [state.make(state.count + i) for i in range(n)]})
        for at, client in enumerate(clients):
            started = time.perf_counter()
            total = insert(client, slug, state.name, rows)
            if at == 0:
                spent += time.perf_counter() - started
            if total != state.count + n:
                raise RuntimeError(f"{state.name}: expected {state.count + n} records, the twin holds {total}")
        state.count += n
    state.rss_delta += servers_[0].rss() - before
    return spent


def sample_ids(client: Client, state: ObjectState, list_path: str, want: int) -> None:
    """Ids (and order and payment ids) spread over the table — pages of 100 from start to end — and
    the mean raw JSON size of a stored record (as the list answers it, with its system fields)."""
    data_name = None
    rows: list[dict[str, Any]] = []
    pages = max(1, state.count // 100)
    wanted_pages = max(1, math.ceil(want / 100))
    for page in sorted({1 + (pages - 1) * k // max(1, wanted_pages - 1) for k in range(wanted_pages)}):
        answer = client.json("GET", f"{list_path}?pageRowCount=100&pageNumber={page}")
        data_name = data_name or next(k for k, v in answer.items() if isinstance(v, list) and k not in ("filters", "uiPermissions"))
        rows += answer[data_name]
    random.Random(state.count).shuffle(rows)
    state.ids = [r["id"] for r in rows]
    state.order_ids = [r["orderId"] for r in rows if r.get("orderId")]
    state.payment_ids = [r["paymentId"] for r in rows if r.get("paymentId")]
    sizes = [len(orjson.dumps(r)) for r in rows]
    state.json_bytes = statistics.mean(sizes) if sizes else 0.0


def fixture_ids(client: Client, project: str) -> dict[str, list[str]]:
    out = {}
    for name in ("coursePack", "lessonSlot", "tutorProfile", "user"):
        answer = client.request("GET", f"/__twin/fixtures/{project}/{name}")
        if answer.status == 200:
            out[name] = [r["id"] for r in answer.json().get("records", [])]
    return out


# -- report ---------------------------------------------------------------------------------------
def exponent(n1: int, t1: float, n2: int, t2: float) -> float:
    if t1 <= 0 or t2 <= 0 or n1 == n2:
        return float("nan")
    return math.log(t2 / t1) / math.log(n2 / n1)


def _fmt_size(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (f"{n // 1000}k" if n % 1000 == 0 else str(n))


def _table(sizes: list[int], timings: dict[str, dict[int, Timing]]) -> None:
    print(f"{'query':58}" + "".join(f"{_fmt_size(n) + ' p50/p99 ms':>22}" for n in sizes))
    for query in QUERIES:
        if query.key not in timings:
            continue
        cells = []
        for n in sizes:
            t = timings[query.key].get(n)
            cells.append(f"{t.p50_ms:9.2f} /{t.p99_ms:8.2f}  " if t else f"{'—':>22}")
        print(f"{query.label:58}" + "".join(f"{c:>22}" for c in cells))


def report(sizes: list[int], timings: dict[str, dict[int, Timing]], memory: dict[str, dict[int, dict[str, float]]],
           loads: dict[str, dict[int, float]], extra: dict[str, Any],
           cached: dict[str, dict[int, Timing]] | None = None) -> bool:
    print()
    print(f"Twin scale benchmark — {extra['date']}, {extra['machine']}")
    print(f"twin on cpu {extra['server_cpu']}, this driver on cpu {extra['load_cpu']}; sequential requests on one "
          f"keep-alive connection, up to {extra['budget']:g} s or {extra['max_reps']} requests per query and size")
    print()
    print("engine (twin --no-read-cache; every timed request distinct: other ids, search texts, pages):")
    _table(sizes, timings)
    print()
    print("the engine twin's CPU time per request (user + system, mean over the timed requests; less "
          "sensitive than latency to other work on the machine):")
    print(f"{'query':58}" + "".join(f"{_fmt_size(n) + ' CPU ms':>22}" for n in sizes))
    for query in QUERIES:
        if query.key in timings:
            print(f"{query.label:58}" + "".join(
                f"{t.cpu_ms:20.2f}  " if (t := timings[query.key].get(n)) and t.cpu_ms is not None else f"{'—':>22}"
                for n in sizes))
    if cached:
        print()
        print("repeated, read cache on (one request repeated on a twin with its read cache: replays, not the engine):")
        _table(sizes, cached)
    print()
    print("growth of p50 with size (k in time ∝ size^k; 0 = flat, 1 = linear):")
    for query in QUERIES:
        if query.key not in timings:
            continue
        steps = []
        for a, b in itertools.pairwise(sizes):
            ta, tb = timings[query.key].get(a), timings[query.key].get(b)
            if ta and tb:
                steps.append(f"{_fmt_size(a)}→{_fmt_size(b)}: ×{tb.p50_ms / ta.p50_ms:.2f} (k={exponent(a, ta.p50_ms, b, tb.p50_ms):.2f})")
        print(f"  {query.label:58} " + "   ".join(steps))
    print()
    print("rows matched by the filters (median totalRowCount over the distinct requests): " + "; ".join(
        f"{q.key} " + "/".join(str(timings[q.key][n].total_rows) for n in sizes if n in timings[q.key])
        for q in QUERIES if q.key in timings and q.kind != "get"))
    print()
    print(f"{'memory':24}" + "".join(f"{_fmt_size(n):>34}" for n in sizes))
    for obj, by_size in memory.items():
        cells = []
        for n in sizes:
            m = by_size.get(n)
            cells.append(f"{m['rss_mib']:7.0f} MiB, {m['per_record']:5.0f} B/rec (+{m['overhead']:4.0f})" if m else "—")
        print(f"{obj:24}" + "".join(f"{c:>34}" for c in cells))
    print("  (ΔRSS of the twin over the object's loads / records, and in brackets beyond the record's raw JSON "
          "size; MiB is the whole twin)")
    print(f"other work on the machine used {extra['busy_before']:.0%} of the CPU just before the run"
          + (" (figures are noisy: latencies include waiting for a CPU; see the CPU table)"
             if extra["busy_before"] > 0.15 else ""))
    print("load time (s): " + "; ".join(f"{obj} " + "/".join(f"{by[n]:.1f}" for n in sizes if n in by) for obj, by in loads.items()))

    ok = True
    print("\ntargets:")

    def check(passed: bool, text: str) -> None:
        nonlocal ok
        ok &= passed
        print(f"  [{'PASS' if passed else 'FAIL'}] {text}")

    smallest, largest = sizes[0], sizes[-1]
    for query in QUERIES:
        by = timings.get(query.key, {})
        if smallest not in by or largest not in by or smallest == largest:
            continue
        factor = by[largest].p50_ms / by[smallest].p50_ms
        if query.kind in ("get", "indexed"):
            check(factor <= FLAT_FACTOR, f"{query.label}: flat with size (p50 ×{factor:.2f} from {_fmt_size(smallest)} to "
                  f"{_fmt_size(largest)}; at most ×{FLAT_FACTOR:g})")
        else:
            k = exponent(smallest, by[smallest].p50_ms, largest, by[largest].p50_ms)
            check(k <= MAX_EXPONENT, f"{query.label}: grows at most linearly (k={k:.2f} from {_fmt_size(smallest)} to "
                  f"{_fmt_size(largest)})")
        if query.kind == "indexed" and 1_000_000 in by:
            check(by[1_000_000].p50_ms < INDEXED_P50_MS_AT_1M,
                  f"{query.label}: p50 < {INDEXED_P50_MS_AT_1M:g} ms at 1M (measured {by[1_000_000].p50_ms:.2f} ms)")
        if query.kind in ("partial", "mixed") and 1_000_000 in by:
            check(by[1_000_000].p50_ms < PARTIAL_P50_MS_AT_1M,
                  f"{query.label}: p50 < {PARTIAL_P50_MS_AT_1M:g} ms at 1M (measured {by[1_000_000].p50_ms:.2f} ms)")
    for obj, by_size in memory.items():
        m = by_size.get(largest)
        if m:
            check(m["overhead"] < MAX_OVERHEAD_BYTES, f"{obj}: memory < {MAX_OVERHEAD_BYTES} B per record beyond its raw "
                  f"JSON ({m['json']:.0f} B) at {_fmt_size(largest)} (measured +{m['overhead']:.0f} B)")
    return ok


# -- main -----------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"record counts, ascending (default {DEFAULT_SIZES})")
    parser.add_argument("--objects", default="enrollment,sys_enrollmentPayment",
                        help="which data objects (default both: enrollment,sys_enrollmentPayment)")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"records per bulk insert (default {BATCH})")
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of requests per query and size (default 2)")
    parser.add_argument("--max-reps", type=int, default=300, help="most requests per query and size (default 300)")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the spec (default: tutorhub enrollmentManagement)")
    parser.add_argument("--server-cpu", type=int, default=0, help="core of the twin (default 0)")
    parser.add_argument("--load-cpu", type=int, default=1, help="core of this driver (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated records (default 1)")
    parser.add_argument("--no-cached", dest="cached", action="store_false",
                        help="skip the second twin (read cache on) and its repeated-request lines")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--out", type=Path, help="directory for the log and results (default bench/results/scale-<time>)")
    args = parser.parse_args(argv)
    args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    args.objects = [o.strip() for o in args.objects.split(",") if o.strip()]
    unknown = set(args.objects) - {q.obj for q in QUERIES}
    if unknown:
        parser.error(f"unknown objects: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the servers are stopped
    run_dir = args.out or tools.RESULTS / f"scale-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    run_dir.mkdir(parents=True, exist_ok=True)
    if tools.cpu_count() >= 2:
        os.sched_setaffinity(0, {args.load_cpu})
    cpu = args.server_cpu if tools.cpu_count() >= 2 else None
    engine = servers.twin(args.spec.resolve(), cpu=cpu, log_dir=run_dir, read_cache=False, name="twin-engine")
    cache = servers.twin(args.spec.resolve(), cpu=cpu, log_dir=run_dir, name="twin-cached") if args.cached else None
    timings: dict[str, dict[int, Timing]] = {}
    cached: dict[str, dict[int, Timing]] = {}
    memory: dict[str, dict[int, dict[str, float]]] = {}
    loads: dict[str, dict[int, float]] = {}
    extra: dict[str, Any] = {"date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "machine": machine(),
                             "server_cpu": args.server_cpu, "load_cpu": args.load_cpu, "budget": args.budget,
                             "max_reps": args.max_reps, "busy_before": tools.cpu_busy()}
    with contextlib.ExitStack() as stack:
        twins = [stack.enter_context(engine.running())]
        if cache is not None:
            twins.append(stack.enter_context(cache.running()))
        clients = [Client(servers.HOST, twin.port) for twin in twins]
        slug = clients[0].json("GET", "/__twin/services")["services"][0]["slug"]
        project = clients[0].json("GET", "/__twin/services")["services"][0]["project"]
        for client in clients:
            client.token = admin_token(client, project)
        rng = random.Random(args.seed)
        fixtures = fixture_ids(clients[0], project)
        owners = fixtures.get("user") or []
        owners = (owners + [_id(rng) for _ in range(OWNERS)])[:OWNERS]
        gen = Generator(rng, owners, fixtures)
        states = {
            "enrollment": ObjectState("enrollment", gen.enrollment),
            "sys_enrollmentPayment": ObjectState("sys_enrollmentPayment", gen.payment, owners=owners),
        }
        list_paths = {"enrollment": f"{BASE}/v1/enrollments", "sys_enrollmentPayment": PAYMENTS}
        extra["rss_start_mib"] = engine.rss() / 2**20
        tools.log(f"twin up, RSS {extra['rss_start_mib']:.0f} MiB")
        for size in args.sizes:
            for name in args.objects:
                state = states[name]
                seconds = load_to(clients, twins, slug, state, size, args.batch)
                loads.setdefault(name, {})[size] = seconds
                sample_ids(clients[0], state, list_paths[name], args.max_reps + 1)
                per_record = state.rss_delta / state.count
                memory.setdefault(name, {})[size] = {
                    "rss_mib": engine.rss() / 2**20, "per_record": per_record, "json": state.json_bytes,
                    "overhead": per_record - state.json_bytes,
                }
                tools.log(f"{name}: {state.count} records (loaded in {seconds:.1f} s), {per_record:.0f} B/record "
                          f"(raw JSON {state.json_bytes:.0f} B), twin RSS {engine.rss() / 2**20:.0f} MiB")
                for query in (q for q in QUERIES if q.obj == name):
                    paths = query.paths(state, args.max_reps + 1)
                    timing = time_query(clients[0], paths, args.budget, args.max_reps,
                                        lambda: servers.cpu_seconds(engine.pid))
                    timings.setdefault(query.key, {})[size] = timing
                    tools.log(f"  {_fmt_size(size):>5} {query.label:58} p50 {timing.p50_ms:8.2f} ms  "
                              f"p99 {timing.p99_ms:8.2f} ms  twin CPU {timing.cpu_ms:6.2f} ms/request  "
                              f"({timing.samples} distinct requests, {timing.total_rows} rows)")
                    if len(clients) > 1:
                        again = time_query(clients[1], paths[:1], args.budget, args.max_reps)
                        cached.setdefault(query.key, {})[size] = again
                        tools.log(f"  {_fmt_size(size):>5} {query.label:58} p50 {again.p50_ms:8.2f} ms  "
                                  f"p99 {again.p99_ms:8.2f} ms  (one request repeated, read cache on)")
        for client in clients:
            client.close()
    ok = report(args.sizes, timings, memory, loads, extra, cached)
    elapsed = time.monotonic() - started
    print(f"\n{elapsed:.0f} s; log and results.json in {run_dir}")
    (run_dir / "results.json").write_bytes(orjson.dumps({
        **extra, "sizes": args.sizes,
        "timings": {k: {str(n): t.__dict__ for n, t in by.items()} for k, by in timings.items()},
        "cached_repeated": {k: {str(n): t.__dict__ for n, t in by.items()} for k, by in cached.items()},
        "memory": {o: {str(n): m for n, m in by.items()} for o, by in memory.items()},
        "load_seconds": {o: {str(n): s for n, s in by.items()} for o, by in loads.items()},
        "targets": ok,
    }, option=orjson.OPT_INDENT_2))
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
