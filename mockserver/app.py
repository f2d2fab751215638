"""The aiohttp application: every service at its base path, the control API, CORS, faults."""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from specs.build import LoadedSpec, default_spec_paths, load_specs

from . import envelope, mutants
from .clock import Clock
from .cors import CORS_POLICY, CorsPolicy
from .engine import ApiResponse, OperationHandler, json_response
from .faults import FaultSet
from .specindex import ServiceSpec, load_service
from .stripe import FakeStripe
from .workflows import Workflow, workflow_for
from .world import World

log = logging.getLogger("twin")

WORLD = web.AppKey("world", World)
FAULTS = web.AppKey("faults", FaultSet)
SETTINGS = web.AppKey("settings", dict)
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


def _preflight(request: web.Request, policy: CorsPolicy) -> web.Response:
    response = web.Response(status=204)
    _cors(request, response, policy)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers") or CORS_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def twin_middleware(world: World, faults: FaultSet, cors: CorsPolicy | None = None) \
        -> Callable[..., Awaitable[web.StreamResponse]]:
    """CORS, injected faults, the error envelope for unknown routes and crashes, the journal.

    A closure over the world and the faults, so the hot path does no application look-ups."""
    policy = cors or CorsPolicy()
    journal = world.journal
    revision = world.revision
    now = world.clock.now
    clock_stamp = world.clock.timestamp

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        method = request.method
        if method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return _preflight(request, policy)
        started = time.perf_counter()
        if method not in READS:
            # Whatever it is (control API, Stripe, a callback), it may change what reads answer.
            revision.bump()
        path = request.path
        control = path.startswith(CONTROL_PREFIX)
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
                raise
            except Exception:  # a bug in the twin must still answer in the guide's envelope
                log.exception("unhandled error on %s %s", method, path)
                body = envelope.error(500, "errMsg_internalServerError", "the twin failed; see its log", now())
                response = json_response(body, 500)
        _cors(request, response, policy)
        if not control:
            api, user = (response.api, response.user_id) if isinstance(response, ApiResponse) else (None, None)
            journal.append((clock_stamp(), method, path, request.query_string, response.status, api, user,
                            round((time.perf_counter() - started) * 1000, 3)))
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
    for state in world.services.values():
        spec = state.spec
        workflow = workflows[spec.slug] = workflow_for(spec)
        for op in spec.operations:
            handler = OperationHandler(world, state, op, workflow, read_cache=read_cache)
            path = spec.base_path + op.path
            lower = spec.base_path + "".join(
                part if part.startswith("{") else part.lower() for part in _segments(op.path)
            )
            for route in dict.fromkeys([path, lower]):
                _add_route(app, op.method, route, handler.handle)
    return workflows


def _add_route(app: web.Application, method: str, path: str, handler: Any) -> None:
    """A route as the backends' (Express) router takes it: with or without a trailing slash, and a
    GET also answering HEAD (its headers, no body)."""
    for variant in (path, path.rstrip("/") + "/") if path != "/" else (path,):
        if method == "GET":
            app.router.add_get(variant, handler, allow_head=True)
        else:
            app.router.add_route(method, variant, handler)


def mount_stripe(app: web.Application, world: World, workflows: dict[str, Workflow], *, seed: int = 0) -> FakeStripe:
    """The fake Stripe under /stripe (its control API under /__twin/stripe), with a webhook endpoint
    for every service's payment callback route."""
    settings = app[SETTINGS]
    public_url = str(settings.get("public_url") or "http://127.0.0.1:8080").rstrip("/")
    stripe = FakeStripe(world.clock, seed=seed, public_base_url=public_url,
                        webhook_secret=str(settings.get("webhook_secret") or "whsec_twin_test"))
    app.add_subapp("/stripe", stripe.app())
    app.add_subapp(f"{CONTROL_PREFIX}/stripe", stripe.control_app())
    with warnings.catch_warnings():
        # Workflows reach it as app["twin.stripe"]; a plain key keeps that spelling for everyone.
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["twin.stripe"] = stripe
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
    settings: dict[str, Any] | None = None,
    auth_guides: list[Path] | None = None,
) -> web.Application:
    """The twin as an aiohttp application (used by `twin serve` and by tests).

    `settings["cors_origins"]`: origins allowed besides loopback ones (see cors.py);
    `auth_guides`: projects' authentication guides refining their auth API (see authapi.py)."""
    from specs.auth import read_auth_guide

    from . import authapi, control

    load_mutant_catalog()
    mutants.activate(active_mutants or [])
    world = World(load_services(spec_paths), seed=seed, clock=clock)
    if state_file is not None and state_file.exists():
        import orjson

        world.restore(orjson.loads(state_file.read_bytes()))
    guides = [read_auth_guide(path) for path in auth_guides or []]
    faults = FaultSet()
    cors = CorsPolicy((settings or {}).get("cors_origins") or ())
    app = web.Application(middlewares=[twin_middleware(world, faults, cors)], client_max_size=64 * 1024 * 1024)
    app[WORLD] = world
    app[CORS_POLICY] = cors
    app[FAULTS] = faults
    app[SETTINGS] = {"state_file": state_file, **(settings or {})}
    control.add_routes(app)
    workflows = add_service_routes(app, world, read_cache=bool(app[SETTINGS].get("read_cache", True)))
    mount_stripe(app, world, workflows, seed=seed)
    authapi.add_routes(app, world, guides)
    if state_file is not None:
        app.on_shutdown.append(_save_state)
    return app


async def _save_state(app: web.Application) -> None:
    import orjson

    path = app[SETTINGS]["state_file"]
    path.write_bytes(orjson.dumps(app[WORLD].dump()))
