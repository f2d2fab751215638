"""The aiohttp application: every service at its base path (the service plane), the control API
and the docs under `/__twin` (the control plane), the fake Stripe and the auth API; what each
request goes through around its handler is in pipeline.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from specs.build import LoadedSpec, default_spec_paths, load_specs

from . import authapi, control, docs, routing
from .clock import Clock
from .cors import CorsPolicy
from .engine import MAX_BODY_BYTES, OperationHandler
from .faults import FaultSet
from .guard import ControlGuard
from .keys import CORS_POLICY, FAULTS, GUARD, KEEPER, SETTINGS, STRIPE, WORLD
from .mutants import ActiveMutants
from .persistence.keeper import Keeper
from .persistence.sqlite import SqliteBackend
from .pipeline import CONTROL_PREFIX, Pipeline
from .seeding import seed_world
from .settings import DEFAULT_WEBHOOK_SECRET, Settings
from .specindex import ServiceSpec, load_service
from .stripe import FakeStripe
from .stripe.apps import control_app, public_app
from .workflows import Workflow, workflow_for
from .world import World

log = logging.getLogger("twin")

FLUSH_INTERVAL = 0.1  # seconds between saves of changes made outside requests (webhook subscribers)
MIN_SECRET_BYTES = 32


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


def add_service_routes(app: web.Application, world: World, pipeline: Pipeline, *,
                       read_cache: bool = True) -> dict[str, Workflow]:
    """One route per operation at `<base path><path>`, through `pipeline`'s service plane; mixed-case
    routes also answer in lower case (the backends' router is case-insensitive). Returns each
    service's workflow by slug."""
    workflows: dict[str, Workflow] = {}
    resources: dict[str, web.Resource] = {}
    for state in world.services.values():
        spec = state.spec
        workflow = workflows[spec.slug] = workflow_for(spec)
        # Literal paths first: the router offers a request to the resources filed under the same
        # path prefix in the order they were added, and `/orders/{id}` is filed under `/orders`:
        # a `POST /orders` need not be tried against it (and its trailing-slash twin) first.
        for op in sorted(spec.operations, key=lambda op: "{" in op.path):
            handler = OperationHandler(world, state, op, workflow, read_cache=read_cache).handle
            route = pipeline.service_route(handler)
            path = spec.base_path + op.path
            lower = spec.base_path + "".join(
                part if part.startswith("{") else part.lower() for part in _segments(op.path)
            )
            for variant in dict.fromkeys([path, lower]):
                _add_route(app, op.method, variant, route, resources)
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


def mount_stripe(app: web.Application, control_plane: web.Application, world: World, workflows: dict[str, Workflow],
                 pipeline: Pipeline, *, seed: int = 0) -> FakeStripe:
    """The fake Stripe under /stripe on the service plane (its control API under /__twin/stripe, on
    the control plane), with a webhook endpoint for every service's payment callback route."""
    settings = app[SETTINGS]
    public_url = settings.base_url
    stripe = FakeStripe(world.clock, seed=seed, public_base_url=public_url,
                        webhook_secret=settings.webhook_secret or DEFAULT_WEBHOOK_SECRET,
                        history=settings.stripe_history or None)
    app.add_subapp(stripe.mount_path, public_app(stripe, around=[pipeline.serve]))
    control_plane.add_subapp("/stripe", control_app(stripe, around=[pipeline.control]))
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
        pipeline = Pipeline(world, faults, cors, guard, keeper)
        # No application has a middleware: every route's handler runs inside its plane, composed when
        # the route is added (routing.py), so no request pays aiohttp's per-request chain.
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app[WORLD] = world
        app[CORS_POLICY] = cors
        app[FAULTS] = faults
        app[GUARD] = guard
        app[SETTINGS] = settings
        control_plane = web.Application(client_max_size=MAX_BODY_BYTES)
        workflows = add_service_routes(app, world, pipeline, read_cache=settings.read_cache)
        stripe = mount_stripe(app, control_plane, world, workflows, pipeline, seed=seed)
        authapi.add_routes(app, world, guides, through=pipeline.service_route)
        # After the Stripe control app: the control plane's fallback is added with its routes.
        routing.add_routes(control_plane, [*control.routes(), *docs.routes()], [pipeline.control])
        app.add_subapp(CONTROL_PREFIX, control_plane)
        # Last, and filed under "/": a request nothing else takes gets the envelope's 404 or 405.
        app.router.add_route("*", "/{tail:.*}", pipeline.unknown_route())
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
