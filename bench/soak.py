"""Soak: minutes of mixed load with payments against one `twin serve`; per minute its RSS,
throughput and p99. Not a test: it measures and prints.

    python -m bench.soak                  # 10 minutes (the target: last minute within 20 % of the
    python -m bench.soak --minutes 2      #   first, RSS flat after the first minute)
    python -m bench.soak --probe-only     # only the stall probe below

The load (seeded, `--workers` concurrent keep-alive clients), on the tutorhub spec:
  40 % list a page of `sys_enrollmentPayment` · 15 % get one · 10 % update one (a pool of 200)
  20 % a Stripe payment: `POST /stripe/v1/payment_intents` confirmed with a test card (1 in 10
       declined), with an Idempotency-Key, as the SDK sends it; each emits events that the fake
       delivers, signed, to the twin's payment callback
   5 % a refund of a recent payment · 10 % control reads (services, journal, the latest Stripe events)

First, the stall probe: 1,500 payment intents, then every page of `GET /__twin/stripe/events`
(1,000 a page) is read while `GET /__twin/services` is timed every 50 ms: the slowest control answer
shows whether anything held the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from . import scenario as scenario_mod
from .client import Client, admin_token
from .servers import HOST, Server, free_port, rss_bytes

STRIPE = {"Authorization": "Bearer sk_test_soak", "Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


def twin_server(spec: Path, log_dir: Path, history: int | None) -> Server:
    port = free_port()
    extra = ["--stripe-history", str(history)] if history is not None else []
    return Server("twin", [sys.executable, "-m", "twin", "serve", "--host", HOST, "--port", str(port),
                           "--spec", str(spec), *extra],
                  port, ready_path="/__twin/services", cpu=None, log_path=log_dir / "twin.log")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Load:
    """The mixed workload: what each request is, and what it needs (tokens, ids)."""

    def __init__(self, base: str, token: str, scen: scenario_mod.Scenario, pool: list[str], seed: int) -> None:
        self.base = base
        self.auth = {"Authorization": f"Bearer {token}", **JSON}
        self.scen = scen
        self.pool = pool
        self.rng = random.Random(seed)
        self.intents: list[str] = []
        self.counter = 0

    def next(self) -> tuple[str, str, Any, dict[str, str], str]:
        """(method, url, body, headers, kind) of the next request."""
        roll = self.rng.random()
        scen, base = self.scen, self.base + self.scen.base_path
        self.counter += 1
        if roll < 0.40:
            return "GET", base + scen.list.template, None, self.auth, "list"
        if roll < 0.55:
            rid = self.rng.choice(self.pool)
            return "GET", base + scen.get.template.replace("{" + str(scen.get.id_param) + "}", rid), None, self.auth, "get"
        if roll < 0.65:
            rid = self.rng.choice(self.pool)
            url = base + scen.get.template.replace("{" + str(scen.get.id_param) + "}", rid)
            return "PATCH", url, {"paymentStatus": f"soak{self.counter % 7}"}, self.auth, "update"
        if roll < 0.85:
            card = "pm_card_chargeDeclined" if self.rng.random() < 0.1 else "pm_card_visa"
            body = f"amount={1000 + self.counter % 500}&currency=usd&confirm=true&payment_method={card}"
            headers = {**STRIPE, "Idempotency-Key": f"soak-{self.counter}"}
            return "POST", self.base + "/stripe/v1/payment_intents", body, headers, "payment"
        if roll < 0.90 and self.intents:
            intent = self.intents[-1 - self.rng.randrange(min(50, len(self.intents)))]
            return "POST", self.base + "/stripe/v1/refunds", f"payment_intent={intent}&amount=100", STRIPE, "refund"
        path = self.rng.choice(["/__twin/services", "/__twin/journal?limit=100", "/__twin/stripe/events?limit=20"])
        return "GET", self.base + path, None, {}, "control"


async def worker(session: aiohttp.ClientSession, load: Load, until: float, samples: list[tuple[float, float, int]]) -> None:
    while time.monotonic() < until:
        method, url, body, headers, kind = load.next()
        started = time.perf_counter()
        kwargs: dict[str, Any] = {"headers": headers}
        if isinstance(body, str):
            kwargs["data"] = body
        elif body is not None:
            kwargs["json"] = body
        try:
            async with session.request(method, url, **kwargs) as response:
                data = await response.read()
                status = response.status
        except aiohttp.ClientError:
            status, data = 0, b""
        elapsed = time.perf_counter() - started
        samples.append((time.monotonic(), elapsed, status))
        if kind == "payment" and status == 200 and b'"succeeded"' in data:
            intent = data.split(b'"id": "', 1)[1].split(b'"', 1)[0].decode()
            load.intents.append(intent)
            del load.intents[:-200]


async def soak(base: str, pid: int, load: Load, minutes: float, workers: int) -> list[dict[str, float]]:
    samples: list[tuple[float, float, int]] = []
    rows: list[dict[str, float]] = []
    start = time.monotonic()
    until = start + minutes * 60
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(worker(session, load, until, samples)) for _ in range(workers)]
        minute = 0
        while minute < minutes:
            await asyncio.sleep(max(0.0, start + (minute + 1) * 60 - time.monotonic()))
            lo, hi = start + minute * 60, start + (minute + 1) * 60
            window = [s for s in samples if lo <= s[0] < hi]
            del samples[:len(window)]
            latencies = [s[1] * 1000 for s in window]
            row = {"minute": minute + 1, "rps": len(window) / 60, "p50": percentile(latencies, 0.5),
                   "p99": percentile(latencies, 0.99), "rss": rss_bytes(pid) / 2**20,
                   "errors": sum(1 for s in window if s[2] == 0 or s[2] >= 500)}
            rows.append(row)
            print(f"  {row['minute']:>3.0f}  {row['rps']:>8.0f}  {row['p50']:>7.1f}  {row['p99']:>7.1f}  "
                  f"{row['rss']:>7.1f}  {row['errors']:>6.0f}", flush=True)
            minute += 1
        await asyncio.gather(*tasks)
    return rows


async def probe(base: str, intents: int) -> dict[str, float]:
    """`intents` payment intents, then every page of the control event list while timing another control call."""
    result: dict[str, float] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8)) as session:
        async def pay(number: int) -> None:
            body = f"amount={500 + number}&currency=usd&confirm=true&payment_method=pm_card_visa"
            async with session.post(base + "/stripe/v1/payment_intents", data=body, headers=STRIPE) as response:
                await response.read()

        started = time.perf_counter()
        for batch in range(0, intents, 8):
            await asyncio.gather(*(pay(n) for n in range(batch, min(batch + 8, intents))))
        result["create_s"] = time.perf_counter() - started
        async with session.post(base + "/__twin/stripe/drain", json={"timeout": 120}) as response:
            await response.read()

        listing_done = asyncio.Event()
        pages = 0
        events = 0

        async def list_all() -> None:
            nonlocal pages, events
            cursor = None
            t0 = time.perf_counter()
            while True:
                url = base + "/__twin/stripe/events?limit=1000" + (f"&ending_before={cursor}" if cursor else "")
                async with session.get(url) as response:
                    page = await response.json()
                pages += 1
                events += page["count"]
                if not page["has_more"]:
                    break
                cursor = page["events"][0]["id"]
            result["list_s"] = time.perf_counter() - t0
            listing_done.set()

        async def time_control() -> list[float]:
            times = []
            while not listing_done.is_set():
                t0 = time.perf_counter()
                async with session.get(base + "/__twin/services") as response:
                    await response.read()
                times.append(time.perf_counter() - t0)
                await asyncio.sleep(0.05)
            return times

        _, times = await asyncio.gather(list_all(), time_control())
        result.update(pages=pages, events=events, control_max_ms=max(times) * 1000, control_calls=len(times))
        for name, path in (("state_ms", "/__twin/state"), ("stripe_state_ms", "/__twin/stripe/state"),
                           ("events_default_ms", "/__twin/stripe/events")):
            t0 = time.perf_counter()
            async with session.get(base + path) as response:
                await response.read()
            result[name] = (time.perf_counter() - t0) * 1000
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak (default 10)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--probe-intents", type=int, default=1500, help="payment intents before the stall probe")
    parser.add_argument("--probe-only", action="store_true", help="run the stall probe, no soak")
    parser.add_argument("--stripe-history", type=int, default=None, help="passed to twin serve (default: its own)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    scen = scenario_mod.load()
    load_avg = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    with tempfile.TemporaryDirectory() as tmp, twin_server(scen.spec_path, Path(tmp), args.stripe_history).running() as server:
        assert server.process is not None
        base, pid = server.url, server.process.pid
        result = asyncio.run(probe(base, args.probe_intents))
        print(f"stall probe: {args.probe_intents} payment intents in {result['create_s']:.1f} s; "
              f"{result['events']:.0f} events listed in {result['pages']:.0f} pages in {result['list_s'] * 1000:.0f} ms; "
              f"GET /__twin/services meanwhile: {result['control_calls']:.0f} calls, slowest {result['control_max_ms']:.0f} ms")
        print(f"  GET /__twin/state {result['state_ms']:.0f} ms, /__twin/stripe/state {result['stripe_state_ms']:.0f} ms, "
              f"/__twin/stripe/events {result['events_default_ms']:.0f} ms; RSS {rss_bytes(pid) / 2**20:.0f} MB")
        if args.probe_only:
            return 0
        client = Client(HOST, server.port)
        token = admin_token(client, scen.project)
        client.token = token
        path = scen.base_path + scen.create.template
        pool = [client.json("POST", path, scen.create_body(i))[scen.obj]["id"] for i in range(200)]
        client.close()
        load = Load(base, token, scen, pool, args.seed)
        print(f"soak: {args.minutes:g} min, {args.workers} clients, twin pid {pid}")
        print("  min     req/s  p50 ms  p99 ms  RSS MB  errors")
        rows = asyncio.run(soak(base, pid, load, args.minutes, args.workers))
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        change = (last["rps"] - first["rps"]) / first["rps"] * 100 if first["rps"] else 0.0
        warm = rows[1] if len(rows) > 2 else rows[0]
        print(f"throughput last vs first minute: {change:+.1f} % (target within ±20 %); "
              f"RSS after warm-up {warm['rss']:.0f} → {last['rss']:.0f} MB ({last['rss'] - warm['rss']:+.0f} MB); "
              f"p99 {first['p99']:.0f} → {last['p99']:.0f} ms")
    load_avg = os.getloadavg()
    print(f"machine load average at the end: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
