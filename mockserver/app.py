"""The aiohttp application: every service at its base path, the control API, CORS, faults."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from specs.build import LoadedSpec, default_spec_paths, load_specs

from . import authapi, control, docs, envelope
from .clock import Clock
from .cors import CorsPolicy
from .engine import ApiResponse, OperationHandler, elapsed_ms, json_response
from .errors import ApiError
from .faults import FaultSet
from .guard import ControlGuard
from .keys import CORS_POLICY, FAULTS, GUARD, KEEPER, SETTINGS, STRIPE, WORLD
from .mutants import ActiveMutants
from .persistence.keeper import Keeper
from .persistence.sqlite import SqliteBackend
from .seeding import seed_world
from .settings import DEFAULT_WEBHOOK_SECRET, Settings
from .specindex import ServiceSpec, load_service
from .stripe import FakeStripe, mount
from .workflows import Workflow, workflow_for
from .world import World

log = logging.getLogger("twin")

FLUSH_INTERVAL = 0.1  # seconds between saves of changes made outside requests (webhook subscribers)
CONTROL_PREFIX = "/__twin"
MIN_SECRET_BYTES = 32
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


def _preflight_answer(request: web.Request, grant_origin: Callable[[web.StreamResponse], None]) -> web.Response:
    """A preflight's 204: the origin as `grant_origin` grants it, then the methods and headers."""
    response = web.Response(status=204)
    grant_origin(response)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers") or CORS_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _preflight(request: web.Request, policy: CorsPolicy) -> web.Response:
    return _preflight_answer(request, lambda response: _cors(request, response, policy))


def _refused(error: ApiError, now: Any) -> web.Response:
    return json_response(envelope.error(error.status, error.message, error.detail, now()), error.status)


def _grant(request: web.Request, response: web.StreamResponse) -> None:
    """CORS for a control call the guard let through: its same-site origin, with credentials."""
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"


def _control_preflight(request: web.Request) -> web.Response:
    return _preflight_answer(request, lambda response: _grant(request, response))


def twin_middleware(world: World, faults: FaultSet, cors: CorsPolicy | None = None,
                    guard: ControlGuard | None = None, keeper: Keeper | None = None
                    ) -> Callable[..., Awaitable[web.StreamResponse]]:
    """CORS, the control plane's guard, injected faults, the error envelope for unknown routes and
    crashes, the journal, and (with a state file) saving what the request changed before its answer
    leaves.

    Service routes answer CORS by `cors` (the frontend's origins); control routes (`/__twin/*`) only
    to the callers `guard` lets through (see guard.py), whatever `cors` allows.
    A closure over the world, the faults and the policies, so the hot path does no application look-ups."""
    policy = cors or CorsPolicy()
    guard = guard or ControlGuard()
    journal = world.journal
    revision = world.revision
    now = world.clock.now
    clock_stamp = world.clock.timestamp

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        method = request.method
        path = request.path
        control = path.startswith(CONTROL_PREFIX)
        if control:
            # Checked before anything runs: a refused call changes nothing and is granted no CORS.
            origin = request.headers.get("Origin")
            if method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                if origin is not None and not guard.origin_allowed(origin):
                    return _refused(ApiError(403, "errMsg_crossSiteControlRequest",
                                             f"the control API does not answer pages from {origin}"), now)
                return _control_preflight(request)
            refusal = guard.check(method, request.headers)
            if refusal is not None:
                return _refused(refusal, now)
        elif method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return _preflight(request, policy)
        started = time.perf_counter()
        if method not in READS:
            # Whatever it is (control API, Stripe, a callback), it may change what reads answer.
            revision.bump()
        response: web.StreamResponse | None = None
        if faults.faults and not control:
            fault = faults.take(method, path)
            if fault is not None:
                if fault.latency_ms:
                    await asyncio.sleep(fault.latency_ms / 1000)
                if fault.status:
                    body = envelope.error(fault.status, fault.message, f"injected fault on {fault.path}", now())
                    response = json_response(body, fault.status)
        if response is None:
            try:
                response = await handler(request)
            except web.HTTPMethodNotAllowed as error:
                body = envelope.error(405, "errMsg_methodNotAllowed", f"{method} is not defined for {path}", now())
                response = json_response(body, 405, {"Allow": ", ".join(sorted(error.allowed_methods))})
            except web.HTTPNotFound:
                body = envelope.error(404, "errMsg_routeNotFound", f"no route {method} {path}", now())
                response = json_response(body, 404)
            except web.HTTPException:
                if keeper is not None:
                    keeper.flush()  # a redirect or error page after a change: save it all the same
                raise
            except Exception:  # a bug in the twin must still answer in the guide's envelope
                log.exception("unhandled error on %s %s", method, path)
                body = envelope.error(500, "errMsg_internalServerError", "the twin failed; see its log", now())
                response = json_response(body, 500)
        if keeper is not None and keeper.pending():
            failure = await keeper.saved()
            if failure is not None:  # not saved: the client must not take the change as acknowledged
                body = envelope.error(503, "errMsg_stateNotSaved", failure, now())
                response = json_response(body, 503)
        if control:
            _grant(request, response)  # the guard refused every origin that is not same-site
            return response
        _cors(request, response, policy)
        api, user = (response.api, response.user_id) if isinstance(response, ApiResponse) else (None, None)
        journal.append((clock_stamp(), method, path, request.query_string, response.status, api, user,
                        elapsed_ms(started)))
        return response

    return middleware


def load_mutant_catalog() -> None:
    """Register every defect: rule mutants live with their rules (imported with the workflows),
    response mutants in `mutant_catalog` (written alongside the conformance suite)."""
    import importlib

    for state_module in ("mockserver.workflows.tutorhub", "mockserver.workflows.workforceos",
                         "mockserver.workflows.airbnb", "mockserver.mutant_catalog"):
        try:
            importlib.import_module(state_module)
        except ModuleNotFoundError as error:
            if error.name != state_module:
                raise


def load_services(spec_paths: Sequence[Path | LoadedSpec] | None = None) -> list[ServiceSpec]:
    """The services of the given specs: loaded ones, or spec files, guide files and folders of either
    (guides built in memory; see `specs.build.load_specs`). Default: every committed spec."""
    sources = list(spec_paths or default_spec_paths())
    loaded = [s for s in sources if isinstance(s, LoadedSpec)]
    paths = [s for s in sources if not isinstance(s, LoadedSpec)]
    return [load_service(s) for s in loaded + (load_specs(paths) if paths else [])]


def add_service_routes(app: web.Application, world: World, *, read_cache: bool = True) -> dict[str, Workflow]:
    """One route per operation at `<base path><path>`; mixed-case routes also answer in lower case
    (the backends' router is case-insensitive). Returns each service's workflow by slug."""
    workflows: dict[str, Workflow] = {}
    resources: dict[str, web.Resource] = {}
    for state in world.services.values():
        spec = state.spec
        workflow = workflows[spec.slug] = workflow_for(spec)
        # Literal paths first: the router offers a request to the resources filed under the same
        # path prefix in the order they were added, and `/orders/{id}` is filed under `/orders`:
        # a `POST /orders` need not be tried against it (and its trailing-slash twin) first.
        for op in sorted(spec.operations, key=lambda op: "{" in op.path):
            handler = OperationHandler(world, state, op, workflow, read_cache=read_cache)
            path = spec.base_path + op.path
            lower = spec.base_path + "".join(
                part if part.startswith("{") else part.lower() for part in _segments(op.path)
            )
            for route in dict.fromkeys([path, lower]):
                _add_route(app, op.method, route, handler.handle, resources)
    return workflows


def _add_route(app: web.Application, method: str, path: str, handler: Any, resources: dict[str, web.Resource]) -> None:
    """A route as the backends' (Express) router takes it: with or without a trailing slash, and a
    GET also answering HEAD (its headers, no body).

    One resource per path, holding every method on it (`resources`, path → resource): the router
    tries the resources sharing a path prefix one by one, so a create must not first be offered
    to the get, update and delete of the same path. The first route for a path and method wins,
    as the router's order did before."""
    for variant in (path, path.rstrip("/") + "/") if path != "/" else (path,):
        resource = resources.get(variant)
        if resource is None:
            resource = resources[variant] = app.router.add_resource(variant)
        taken = {route.method for route in resource}
        for verb in ("HEAD", "GET") if method == "GET" else (method,):
            if verb not in taken:
                resource.add_route(verb, handler)


def mount_stripe(app: web.Application, world: World, workflows: dict[str, Workflow], *, seed: int = 0) -> FakeStripe:
    """The fake Stripe under /stripe (its control API under /__twin/stripe), with a webhook endpoint
    for every service's payment callback route."""
    settings = app[SETTINGS]
    public_url = settings.base_url
    stripe = FakeStripe(world.clock, seed=seed, public_base_url=public_url,
                        webhook_secret=settings.webhook_secret or DEFAULT_WEBHOOK_SECRET,
                        history=settings.stripe_history or None)
    mount(app, stripe, control_path=f"{CONTROL_PREFIX}/stripe")
    app[STRIPE] = stripe
    for slug, workflow in workflows.items():
        state = world.services[slug]
        for op in state.spec.operations:
            if op.api in workflow.webhook_apis:
                stripe.add_webhook_endpoint(public_url + state.spec.base_path + op.path,
                                            description=f"{slug} {op.api}")
    return stripe


def _segments(path: str) -> list[str]:
    import re

    return re.split(r"(\{\w+\})", path)


def create_app(
    spec_paths: Sequence[Path | LoadedSpec] | None = None,
    *,
    seed: int = 0,
    clock: Clock | None = None,
    state_file: Path | None = None,
    active_mutants: list[str] | None = None,
    settings: Settings | None = None,
    auth_guides: list[Path] | None = None,
) -> web.Application:
    """The twin as an aiohttp application (used by `twin serve` and by tests).

    `settings`: the twin's configuration (see settings.py; default: `twin serve`'s defaults);
    `active_mutants`: deliberate defects to start with (see mutants.py);
    `auth_guides`: projects' authentication guides refining their auth API (see authapi.py).
    Each call builds a twin of its own: nothing it changes is shared with another app."""
    from specs.auth import read_auth_guide

    settings = settings or Settings()
    secret = settings.jwt_secret
    if secret and len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes (HS256, RFC 7518 §3.2); "
                         f"this one has {len(secret.encode())}")
    load_mutant_catalog()
    mutants = ActiveMutants(active_mutants or [])
    # The state file first: a file the twin cannot use is refused before anything is built.
    backend = SqliteBackend(state_file, sync=settings.state_sync or "normal") if state_file else None
    try:
        world = World(load_services(spec_paths), seed=seed, clock=clock, secret=secret or None, mutants=mutants,
                      seeders=[seed_world])
        keeper = Keeper(backend, world) if backend is not None else None
        guides = [read_auth_guide(path) for path in auth_guides or []]
        faults = FaultSet()
        cors = CorsPolicy(settings.cors_origins)
        guard = ControlGuard.build(token=settings.control_token, origins=settings.control_origins,
                                   public_url=settings.public_url)
        app = web.Application(middlewares=[twin_middleware(world, faults, cors, guard, keeper)],
                              client_max_size=64 * 1024 * 1024)
        app[WORLD] = world
        app[CORS_POLICY] = cors
        app[FAULTS] = faults
        app[GUARD] = guard
        app[SETTINGS] = settings
        control.add_routes(app)
        docs.add_routes(app)
        workflows = add_service_routes(app, world, read_cache=settings.read_cache)
        stripe = mount_stripe(app, world, workflows, seed=seed)
        authapi.add_routes(app, world, guides)
        if keeper is not None:
            keeper.start(stripe)
            app[KEEPER] = keeper
            app.cleanup_ctx.append(_keeping)
    except BaseException:
        if backend is not None:
            backend.close()
        raise
    return app


async def _keeping(app: web.Application) -> AsyncIterator[None]:
    """While the twin runs, save changes made outside requests; at its stop, save the rest and close."""
    keeper = app[KEEPER]

    async def flush_now_and_then() -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            if keeper.pending():
                keeper.flush()
            await keeper.backend.upkeep()

    task = asyncio.create_task(flush_now_and_then())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    keeper.close()
