"""The ceiling: a bare aiohttp server whose handlers return the captured envelopes and do nothing
else (they read the request body, as any real handler must). It runs on the same event loop the twin
uses (uvloop when installed), so the twin's fraction of it is the share of aiohttp's own speed the
twin keeps.

    python -m bench.bare --port 8099 --stubs exchanges.json
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from .stubs import Exchange, load


def handler(exchange: Exchange) -> Callable[[web.Request], Awaitable[web.Response]]:
    body = exchange.response.encode()
    status = exchange.status

    async def handle(request: web.Request) -> web.Response:
        if request.body_exists:
            await request.read()
        return web.Response(body=body, status=status, content_type="application/json")

    return handle


async def ready(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app(exchanges: list[Exchange]) -> web.Application:
    app = web.Application()
    for exchange in exchanges:
        app.router.add_route(exchange.method, exchange.base_path + exchange.template, handler(exchange))
    app.router.add_get("/__bench_ready", ready)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stubs", type=Path, required=True, help="exchanges.json written by bench.compare")
    args = parser.parse_args()
    exchanges = load(args.stubs)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    web.run_app(create_app(exchanges), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
