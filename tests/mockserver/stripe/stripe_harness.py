"""A fake Stripe served for real on 127.0.0.1 from a background thread (the stripe SDK is synchronous),
plus webhook receivers and the shop's success/cancel pages the checkout redirects to."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import unused_port

from mockserver.clock import Clock
from mockserver.stripe import FakeStripe, mount

API_KEY = "sk_test_twin_0123456789"


@dataclass
class Receiver:
    """A webhook endpoint in the test: records every request; answers the scripted statuses, then 200."""

    script: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append((body, dict(request.headers)))
        status = self.script.pop(0) if self.script else 200
        return web.Response(status=status, text="ok" if status < 300 else "not now")

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received]


class StripeServer:
    """The twin's fake Stripe mounted as the twin mounts it: `/stripe` and `/__twin/stripe`."""

    def __init__(self, retry_delays: tuple[float, ...] = (0.05, 0.05, 0.05, 0.05), **options: Any) -> None:
        self.clock = Clock()
        self.fake = FakeStripe(self.clock, retry_delays=retry_delays, **options)
        self.receivers: dict[str, Receiver] = {}
        self.port = unused_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.fake.public_base_url = self.url
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-stripe", daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> StripeServer:
        self._thread.start()
        self.run(self._serve())
        return self

    async def _serve(self) -> None:
        app = web.Application()
        mount(app, self.fake)
        app.router.add_post("/hooks/{name}", self._hook)
        app.router.add_get("/shop/{page}", self._shop)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _hook(self, request: web.Request) -> web.Response:
        return await self.receivers[request.match_info["name"]].handle(request)

    async def _shop(self, request: web.Request) -> web.Response:
        page = request.match_info["page"]
        session = request.query.get("session_id", "")
        html = f"<!doctype html><title>{page}</title><h1 id='result'>{page}</h1><p id='session'>{session}</p>"
        return web.Response(text=html, content_type="text/html")

    def stop(self) -> None:
        if self._runner is not None:
            self.run(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 20) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a function on the server's thread (the fake's state lives there)."""
        async def invoke() -> Any:
            return function(*args, **kwargs)
        return self.run(invoke())

    def receiver(self, name: str, *, events: list[str] | None = None, script: list[int] | None = None,
                 secret: str | None = None, delay: float = 0.0) -> tuple[Receiver, dict[str, Any]]:
        """A new webhook receiver at /hooks/<name>, registered with the fake; returns it and its endpoint."""
        receiver = self.receivers[name] = Receiver(list(script or []), delay)
        endpoint = self.call(self.fake.add_webhook_endpoint, f"{self.url}/hooks/{name}", secret, events)
        return receiver, endpoint

    def drain(self) -> None:
        assert self.run(self.fake.drain(10))

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Call the control API (`/__twin/stripe…`) with a JSON body."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/__twin/stripe{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def raw(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], bytes]:
        """A plain HTTP request to the server (path from the root)."""
        request = urllib.request.Request(f"{self.url}{path}", data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()
