"""Routes that carry their steps: the handler of each route is wrapped in what runs around it (the
pipeline's plane, the fake Stripe's request handling, …) once, when the route is added.

aiohttp runs an application's middlewares by composing them around the handler on every request,
and one application in the tree with a middleware puts every route of the server, those of the
root included, through its per-request chain. The twin's applications have no middleware: each
application adds its routes here, and a last route takes whatever else reaches it, so an unknown
path or method under its prefix goes through the same steps (and answers their 404 or 405).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Step(Protocol):
    """What runs around a handler: an aiohttp middleware's signature (`handler` is passed by name)."""

    def __call__(self, request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]: ...


def compose(handler: Handler, steps: Sequence[Step]) -> Handler:
    """`handler` inside `steps`, the first outermost (a step is called as `step(request, handler)`,
    like an aiohttp middleware)."""
    for step in reversed(steps):
        handler = functools.partial(step, handler=handler)
    return handler


def add_routes(app: web.Application, routes: Iterable[web.RouteDef], steps: Sequence[Step]) -> None:
    """`routes` on `app` (a sub-application), each inside `steps`; then, last (the router offers a
    request to the routes filed under one path prefix in the order they were added), the fallback
    taking every other path and method under the application's prefix, its own path included: it
    raises 405 naming the methods the path has, else 404, inside `steps`, which shape the answer."""
    for route in routes:
        web.RouteDef(route.method, route.path, compose(route.handler, steps), route.kwargs).register(app.router)
    fallback = compose(no_route, steps)
    app.router.add_route("*", "/{tail:.*}", fallback)
    app.router.add_route("*", "", fallback)  # the prefix itself (`/__twin`), which needs no slash


async def no_route(request: web.Request) -> web.StreamResponse:
    """Raise what the router would have: 405 with the methods some route of this path takes, else 404."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is request.match_info.route.resource:
            continue  # the fallback itself
        match, methods = await resource.resolve(request)
        if match is None:
            allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()
