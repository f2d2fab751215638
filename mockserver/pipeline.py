"""What every request goes through around its handler, on one of two planes.

- The *service plane* (the services' operations, the auth API, the fake Stripe): CORS by the
  frontend's origins, injected faults, the journal.
- The *control plane* (`/__twin/*`: the control API, the docs, Stripe's control API): the guard
  first (guard.py), so a refused call changes nothing and is granted no CORS.

Both: a write bumps the read cache's revision, an unknown route or a crash answers in the guides'
error envelope, and with a state file what the request changed is saved before its answer leaves.

Each route's handler runs inside its plane's method (`serve` or `control`), composed when the route
is added (routing.py): no application has a middleware, so no request pays aiohttp's per-request
middleware chain.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiohttp import web

from . import envelope
from .cors import CorsPolicy
from .engine import ApiResponse, json_response
from .errors import ApiError
from .faults import FaultSet
from .guard import ControlGuard
from .persistence.keeper import Keeper
from .routing import Handler, compose, no_route
from .world import World

log = logging.getLogger("twin")

CONTROL_PREFIX = "/__twin"
READS = frozenset({"GET", "HEAD", "OPTIONS"})
CORS_HEADERS = "Authorization, Content-Type, mbx-company-codename, Idempotency-Key, Stripe-Signature, X-Requested-With"


def _cors(request: web.Request, response: web.StreamResponse, policy: CorsPolicy) -> None:
    origin = request.headers.get("Origin")
    if not origin:
        response.headers["Access-Control-Allow-Origin"] = "*"
        return
    response.headers["Vary"] = "Origin"
    if policy.allows(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"


def _grant(request: web.Request, response: web.StreamResponse) -> None:
    """CORS for a control call the guard let through: its same-site origin, with credentials."""
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"


def _preflight_answer(request: web.Request, grant_origin: Callable[[web.StreamResponse], None]) -> web.Response:
    """A preflight's 204: the origin as `grant_origin` grants it, then the methods and headers."""
    response = web.Response(status=204)
    grant_origin(response)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers") or CORS_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _is_preflight(request: web.Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


class Pipeline:
    """The steps around every handler, closed over the world, the faults and the policies (the hot
    path does no application look-ups)."""

    def __init__(self, world: World, faults: FaultSet, cors: CorsPolicy | None = None,
                 guard: ControlGuard | None = None, keeper: Keeper | None = None) -> None:
        self.faults = faults
        self.policy = cors or CorsPolicy()
        self.guard = guard or ControlGuard()
        self.keeper = keeper
        self._journal = world.journal
        self._revision = world.revision
        self._now = world.clock.now
        self._stamp = world.clock.timestamp

    # -- the service plane -------------------------------------------------------------------------
    async def serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Run `handler` on the service plane."""
        method = request.method
        if method == "OPTIONS" and _is_preflight(request):
            return _preflight_answer(request, lambda response: _cors(request, response, self.policy))
        started = time.perf_counter()
        if method not in READS:
            # Whatever it is (an operation, Stripe, a callback), it may change what reads answer.
            self._revision.bump()
        response: web.StreamResponse | None = None
        if self.faults.faults:
            response = await self._fault(method, request.path)
        if response is None:
            try:
                response = await handler(request)
            except Exception as error:  # every failure is answered (see _failed)
                response = self._failed(request, error)
        saved = self.keeper is not None and self.keeper.pending()
        if saved:
            response = await self._saved(response)
        _cors(request, response, self.policy)
        api, user = (response.api, response.user_id) if isinstance(response, ApiResponse) else (None, None)
        # The request's URL and the time in seconds: decoding the path and query and rounding the
        # time wait until someone reads the journal (World.journal_entries); 5 k instructions a request.
        self._journal.append((self._stamp(), method, request.rel_url, response.status, api, user,
                              time.perf_counter() - started))
        if not saved:  # (a saved change's answer already waited for its batch's commit: the same burst)
            # The answers of one loop turn leave together, once every handler of the turn has run, rather
            # than one between each two handlers: a busy client is then woken once per burst, not once per
            # answer. On loopback the sender pays the receiver's wake-up inside its own write; measured,
            # that was a third of the twin's kernel time per request under load (docs/performance.md).
            await asyncio.sleep(0)
        return response

    def service_route(self, handler: Handler) -> Handler:
        """`handler` as a route of the service plane."""
        return compose(handler, [self.serve])

    # -- the control plane -------------------------------------------------------------------------
    async def control(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Run `handler` on the control plane: the guard first, then only same-site CORS."""
        method = request.method
        # Checked before anything runs: a refused call changes nothing and is granted no CORS.
        if _is_preflight(request):
            origin = request.headers.get("Origin")
            if origin is not None and not self.guard.origin_allowed(origin):
                return self._error(ApiError(403, "errMsg_crossSiteControlRequest",
                                              f"the control API does not answer pages from {origin}"))
            return _preflight_answer(request, lambda response: _grant(request, response))
        refusal = self.guard.check(method, request.headers)
        if refusal is not None:
            return self._error(refusal)
        if method not in READS:
            self._revision.bump()  # a reset, a state load, a bulk insert…
        try:
            response = await handler(request)
        except Exception as error:  # every failure is answered (see _failed)
            response = self._failed(request, error)
        if self.keeper is not None and self.keeper.pending():
            response = await self._saved(response)
        _grant(request, response)  # the guard refused every origin that is not same-site
        return response

    # -- shared steps ------------------------------------------------------------------------------
    def unknown_route(self) -> Handler:
        """The root's last route, for a request no route takes: 404, or 405 naming the methods the
        path has, in the envelope (the control plane's sub-application has a fallback of its own)."""
        return self.service_route(no_route)

    def _failed(self, request: web.Request, error: Exception) -> web.StreamResponse:
        """The answer to what a handler raised (called in its `except`; a plain function, so the
        request path has no extra coroutine): 405 and 404 in the envelope; a redirect or error page
        after a change saved first, then raised on (as a 503 when the change could not be saved: the
        client must not take it as done); anything else is a bug in the twin, answered in the
        envelope's 500 and logged."""
        method = request.method
        if isinstance(error, web.HTTPMethodNotAllowed):
            return self._error(ApiError(405, "errMsg_methodNotAllowed", f"{method} is not defined for {request.path}"),
                               {"Allow": ", ".join(sorted(error.allowed_methods))})
        if isinstance(error, web.HTTPNotFound):
            return self._error(ApiError(404, "errMsg_routeNotFound", f"no route {method} {request.path}"))
        if isinstance(error, web.HTTPException):
            failure = self.keeper.flush() if self.keeper is not None else None
            if failure is not None:
                return self._error(_not_saved(failure))
            raise error
        log.error("unhandled error on %s %s", method, request.path, exc_info=error)
        return self._error(ApiError(500, "errMsg_internalServerError", "the twin failed; see its log"))

    async def _fault(self, method: str, path: str) -> web.Response | None:
        fault = self.faults.take(method, path)
        if fault is None:
            return None
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if not fault.status:
            return None
        return self._error(ApiError(fault.status, fault.message, f"injected fault on {fault.path}"))

    async def _saved(self, response: web.StreamResponse) -> web.StreamResponse:
        """`response` once what the request changed is saved; a 503 when it could not be."""
        assert self.keeper is not None
        failure = await self.keeper.saved()
        if failure is None:
            return response
        return self._error(_not_saved(failure))

    def _error(self, error: ApiError, headers: dict[str, str] | None = None) -> web.Response:
        """`error` in the guides' error envelope."""
        return json_response(envelope.error(error.status, error.message, error.detail, self._now()), error.status,
                             headers)


def _not_saved(failure: str) -> ApiError:
    """A change the state file could not take: the client must not take it as acknowledged."""
    return ApiError(503, "errMsg_stateNotSaved", failure)
