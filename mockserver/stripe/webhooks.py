"""Webhook delivery: Stripe's `Stripe-Signature`, asynchronous POSTs with bounded retries, a delivery log.

Each (event, endpoint) pair is one `Delivery`, sent by its own asyncio task so the API answer never
waits for it. A non-2xx answer or a connection error is retried after `retry_delays[i]` seconds,
at most `len(retry_delays) + 1` attempts in all; every attempt is recorded. First attempts to one
endpoint about one payment (its intent, charges, refunds and checkout session: one *lane*) go out
in event order, one at a time; different payments' events go out concurrently (up to
`CONCURRENCY` per endpoint), so a busy endpoint does not build an ever-growing queue. Retries do
not hold up later events (Stripe does not order retries either).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
import weakref
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
import orjson

from ..clock import Clock, isoformat

log = logging.getLogger("twin.stripe")
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
CONCURRENCY = 16  # first attempts in flight per endpoint
DEFAULT_TOLERANCE = 300


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed by the secret>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(payload: bytes | str, header: str | None, secret: str, tolerance: int = DEFAULT_TOLERANCE,
                     now: float | None = None) -> bool:
    """True when `header` signs `payload` with `secret` (any `v1` entry) and is at most `tolerance` s old.

    The same rules as `stripe.Webhook.construct_event`; `now` defaults to the wall clock (pass the
    twin's clock to judge age by it), `tolerance=0` skips the age check.
    """
    if not header or not secret:
        return False
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    expected = sign(body, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        return False
    current = time.time() if now is None else now
    return not tolerance or timestamp >= current - tolerance


@dataclass
class Endpoint:
    """Where events go: a URL, its signing secret, and the event types it wants (`*` for all)."""

    id: str
    url: str
    secret: str
    events: list[str]
    created: int
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events

    def public(self, *, with_secret: bool = False) -> dict[str, Any]:
        """The endpoint as Stripe's `webhook_endpoint` object (the secret only when just created)."""
        body: dict[str, Any] = {
            "id": self.id, "object": "webhook_endpoint", "api_version": None, "application": None,
            "created": self.created, "description": self.description, "enabled_events": list(self.events),
            "livemode": False, "metadata": dict(self.metadata), "status": "enabled", "url": self.url,
        }
        if with_secret:
            body["secret"] = self.secret
        return body


@dataclass
class Attempt:
    """One POST of a delivery: when, the HTTP status (None if no answer) and what went wrong."""

    number: int
    at: str
    status: int | None
    error: str | None
    duration_ms: float
    response: str | None = None


@dataclass
class Delivery:
    """One event sent to one endpoint, with all its attempts."""

    id: str
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    kind: str  # "original" | "redeliver" | "duplicate"
    created: str
    state: str = "pending"  # → "succeeded" | "failed" | "canceled"
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: str | None = None
    lane: str = field(default="", repr=False)  # the payment the event is about (not shown)

    def public(self) -> dict[str, Any]:
        # By hand rather than dataclasses.asdict, which deep-copies field by field (slow on a long log).
        return {"id": self.id, "event_id": self.event_id, "event_type": self.event_type,
                "endpoint_id": self.endpoint_id, "url": self.url, "kind": self.kind, "created": self.created,
                "state": self.state, "attempts": [dict(vars(a)) for a in self.attempts],
                "next_attempt_at": self.next_attempt_at}


class Dispatcher:
    """Sends events to endpoints and keeps the log of every attempt."""

    def __init__(self, clock: Clock, retry_delays: tuple[float, ...] = (0.5, 1, 2, 4), timeout: float = 10.0) -> None:
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.endpoints: dict[str, Endpoint] = {}
        # The delivery log by id (oldest first), by event, and the unfinished count per event: a
        # lookup never scans the log (an event list with thousands of events stayed O(n²) otherwise).
        self.deliveries: dict[str, Delivery] = {}
        self._by_event: dict[str, list[Delivery]] = {}
        self._pending: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsent: list[tuple[Delivery, Endpoint, bytes]] = []
        # Per loop (a lock belongs to the loop it first waited on): a lock and its users per
        # (endpoint, lane), dropped when unused; a semaphore per endpoint.
        self._lanes: dict[tuple[int, str, str], list[Any]] = {}
        self._gates: dict[tuple[int, str], asyncio.Semaphore] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._count = 0
        # One keep-alive client per loop: a session (and a new TCP connection) per attempt cost a
        # millisecond each and left thousands of sockets in TIME_WAIT under steady payments.
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = \
            weakref.WeakKeyDictionary()

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1

    def dispatch(self, event: dict[str, Any], kind: str = "original", endpoint_id: str | None = None,
                 payload: bytes | None = None) -> list[Delivery]:
        """Start delivering `event` to every endpoint that wants it (or only to `endpoint_id`)."""
        body = payload if payload is not None else encode(event)
        started = []
        for endpoint in list(self.endpoints.values()):
            if endpoint_id is not None and endpoint.id != endpoint_id:
                continue
            if endpoint_id is None and not endpoint.wants(event["type"]):
                continue
            self._count += 1
            delivery = Delivery(f"dlv_{self._count:06d}", event["id"], event["type"], endpoint.id, endpoint.url,
                                kind, isoformat(self.clock.now()), lane=_lane(event))
            self.deliveries[delivery.id] = delivery
            self._by_event.setdefault(delivery.event_id, []).append(delivery)
            self._pending[delivery.event_id] = self._pending.get(delivery.event_id, 0) + 1
            self._schedule(delivery, endpoint, body)
            started.append(delivery)
        return started

    def loop_running(self) -> bool:
        """Is the loop deliveries last ran on still running (so another thread can hand work to it)?"""
        return self._loop is not None and self._loop.is_running() and not self._loop.is_closed()

    def run_soon(self, awaitable: Any) -> None:
        """Run an awaitable on that loop, from any thread."""
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), self._loop)

    def pending(self, event_id: str | None = None) -> int:
        """How many deliveries (of one event, or all) have not finished."""
        return self._pending.get(event_id, 0) if event_id is not None else sum(self._pending.values())

    def of_event(self, event_id: str) -> list[Delivery]:
        """The deliveries of one event (oldest first)."""
        return list(self._by_event.get(event_id, ()))

    def settle(self, delivery: Delivery, state: str) -> None:
        """Finish a pending delivery as `succeeded`, `failed` or `canceled`."""
        if delivery.state != "pending":
            return
        delivery.state, delivery.next_attempt_at = state, None
        left = self._pending.get(delivery.event_id, 0) - 1
        if left > 0:
            self._pending[delivery.event_id] = left
        else:
            self._pending.pop(delivery.event_id, None)

    def trim(self, limit: int) -> None:
        """Forget the oldest finished deliveries beyond `limit` (pending ones always stay)."""
        excess = len(self.deliveries) - limit
        if excess <= 0:
            return
        doomed = []
        for delivery in self.deliveries.values():
            if delivery.state != "pending":
                doomed.append(delivery)
                if len(doomed) >= excess:
                    break
        for delivery in doomed:
            del self.deliveries[delivery.id]
            siblings = self._by_event.get(delivery.event_id)
            if siblings is not None:
                siblings.remove(delivery)
                if not siblings:
                    del self._by_event[delivery.event_id]

    def _schedule(self, delivery: Delivery, endpoint: Endpoint, body: bytes) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._loop = loop
            task = loop.create_task(self._deliver(delivery, endpoint, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif self._loop is not None and self._loop.is_running():
            # Called from another thread (a test driving a server thread): hand over to the server's loop.
            self._loop.call_soon_threadsafe(self._schedule, delivery, endpoint, body)
        else:
            self._unsent.append((delivery, endpoint, body))  # sent by the next drain()

    async def _deliver(self, delivery: Delivery, endpoint: Endpoint, body: bytes) -> None:
        loop = id(asyncio.get_running_loop())
        gate = self._gates.setdefault((loop, endpoint.id), asyncio.Semaphore(CONCURRENCY))
        for number in range(1, self.max_attempts + 1):
            if delivery.state != "pending":
                return
            if number == 1:
                key = (loop, endpoint.id, delivery.lane)
                lane = self._lanes.setdefault(key, [asyncio.Lock(), 0])
                lane[1] += 1
                try:
                    # The lane first (taken in event order), then a place among the endpoint's
                    # concurrent sends: no one holding a place ever waits for a lane.
                    async with lane[0], gate:
                        ok = await self._attempt(delivery, endpoint, body, number)
                finally:
                    lane[1] -= 1
                    if not lane[1]:
                        self._lanes.pop(key, None)
            else:
                ok = await self._attempt(delivery, endpoint, body, number)
            if ok:
                self.settle(delivery, "succeeded")
                return
            if number < self.max_attempts:
                delay = self.retry_delays[number - 1]
                delivery.next_attempt_at = isoformat(self.clock.now() + timedelta(seconds=delay))
                await asyncio.sleep(delay)
        self.settle(delivery, "failed")

    async def _attempt(self, delivery: Delivery, endpoint: Endpoint, body: bytes, number: int) -> bool:
        moment = self.clock.now()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   "Stripe-Signature": sign(body, endpoint.secret, int(moment.timestamp()))}
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        excerpt: str | None = None
        try:
            async with self._session().post(endpoint.url, data=body, headers=headers,
                                            allow_redirects=False) as response:
                status = response.status
                excerpt = (await response.text(errors="replace"))[:300]
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if status is not None and not 200 <= status < 300:
            error = f"HTTP {status}"
        delivery.attempts.append(Attempt(number, isoformat(moment), status, error,
                                         round((time.perf_counter() - started) * 1000, 1), excerpt))
        if error:
            log.info("webhook %s (%s) to %s: attempt %d failed: %s", delivery.event_id, delivery.event_type,
                     endpoint.url, number, error)
        return error is None

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = self._sessions[loop] = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout), connector=aiohttp.TCPConnector(limit=64))
        return session

    async def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every delivery has finished (retries included); False if `timeout` ran out first."""
        unsent, self._unsent = self._unsent, []
        for delivery, endpoint, body in unsent:
            self._schedule(delivery, endpoint, body)
        deadline = time.monotonic() + timeout
        current = asyncio.current_task()
        while True:
            tasks = {t for t in self._tasks if t is not current and not t.done()}
            if not tasks:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await asyncio.wait(tasks, timeout=remaining)

    async def close(self) -> None:
        """Stop the deliveries in flight on this loop (app shutdown); the log keeps them as `canceled`."""
        for delivery in list(self.deliveries.values()):
            self.settle(delivery, "canceled")
        loop = asyncio.get_running_loop()
        mine = [t for t in self._tasks if t.get_loop() is loop and t is not asyncio.current_task()]
        for task in mine:
            task.cancel()
        await asyncio.gather(*mine, return_exceptions=True)
        session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()

    def cancel_all(self) -> None:
        """Stop every delivery in flight and forget the log (used by reset)."""
        for delivery in list(self.deliveries.values()):
            self.settle(delivery, "canceled")
        for task in list(self._tasks):
            loop = task.get_loop()
            if loop.is_closed():
                continue
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                task.cancel()
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(task.cancel)
        self._tasks.clear()
        self._unsent.clear()
        self._lanes.clear()
        self._gates.clear()
        self.deliveries.clear()
        self._by_event.clear()
        self._pending.clear()
        self._count = 0


def _lane(event: dict[str, Any]) -> str:
    """The payment an event is about: its object's payment intent when it names one (charges,
    refunds, a paid checkout session), else the object itself."""
    obj = (event.get("data") or {}).get("object") or {}
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return str(intent or obj.get("id") or event.get("id"))


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable


def encode(event: dict[str, Any]) -> bytes:
    """The webhook body: the event as indented JSON, as Stripe sends it."""
    return orjson.dumps(event, option=orjson.OPT_INDENT_2)

