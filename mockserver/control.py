"""The control API under `/__twin/`: personas and tokens, reset, state, journal, clock, fixtures,
faults, bulk records and mutants. The guard in front of it (guard.py) keeps foreign web pages out
and asks for a token when one is configured; large answers are streamed (streaming.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from .context import Context
from .crud import new_record, normalize
from .engine import json_response
from .envelope import error as envelope_error
from .errors import ApiError
from .faults import fault_from_json
from .keys import FAULTS, STRIPE, WORLD
from .mutants import available
from .pipeline import CONTROL_PREFIX
from .routing import Handler
from .store import Table
from .streaming import TableRecords, stream_json
from .workflows import workflow_for
from .world import World

PREFIX = CONTROL_PREFIX


def _world(request: web.Request) -> World:
    return request.config_dict[WORLD]


def _error(error: ApiError, request: web.Request) -> web.Response:
    return json_response(envelope_error(error.status, error.message, error.detail, _world(request).clock.now()), error.status)


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "errMsg_invalidJsonBody", f"the body is not valid JSON: {error}") from None




def _guarded(func: Handler) -> Handler:
    """The handler with its ApiErrors answered in the error envelope."""
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await func(request)
        except ApiError as error:
            return _error(error, request)
    wrapper.__doc__ = func.__doc__
    return wrapper


@_guarded
async def services(request: web.Request) -> web.Response:
    """The mounted services."""
    world = _world(request)
    return json_response({"services": [
        {"slug": slug, "project": s.spec.project, "service": s.spec.service, "basePath": s.spec.base_path,
         "spec": s.spec.spec_file, "docs": f"{PREFIX}/docs/{slug}", "tenantHeader": s.spec.tenant_header, "operations": len(s.spec.operations),
         "objects": {name: len(table) for name, table in s.tables.items()}}
        for slug, s in world.services.items()
    ]}, 200)


@_guarded
async def spec_document(request: web.Request) -> web.Response:
    """The OpenAPI document a mounted service is served from (built in memory when it came from a
    guide), so a client or `twin verify` can read what the twin serves."""
    world = _world(request)
    slug = request.match_info["slug"]
    state = world.services.get(slug)
    if state is None:
        raise ApiError(404, "errMsg_serviceNotFound", f"no service {slug!r}; mounted: {sorted(world.services)}")
    return json_response(state.spec.document, 200)


@_guarded
async def personas(request: web.Request) -> web.Response:
    """Every persona with a ready-to-use bearer token (`?project=` narrows it)."""
    world = _world(request)
    project = request.query.get("project") or None
    _known_project(world, project)
    return json_response({"personas": [p.public(world.auth.token_for(p)) for p in world.personas(project)]}, 200)


def _known_project(world: World, project: Any) -> None:
    """404 naming `project` and the known ones when the twin serves no such project (None: any)."""
    if project is not None and project not in world.projects:
        raise ApiError(404, "errMsg_projectNotFound",
                       f"no project {project!r}; the twin serves: {', '.join(sorted(world.projects))}")


@_guarded
async def login(request: web.Request) -> web.Response:
    """Log in as a persona: `{"project": "tutorhub", "persona": "student1"}` → the persona and token."""
    world = _world(request)
    data = await _json(request)
    if not isinstance(data, dict) or not data.get("persona"):
        raise ApiError(400, "errMsg_personaIsRequired", "give 'persona' (and 'project' when names repeat)")
    project = data.get("project") or None
    _known_project(world, project)
    matches = [p for p in world.personas(project) if p.name == data["persona"] or p.email == data["persona"]]
    if not matches:
        where = f"project {project!r}" if project else "any project"
        names = sorted({p.name for p in world.personas(project)})
        raise ApiError(404, "errMsg_personaNotFound",
                       f"no persona {data['persona']!r} in {where}; its personas: {', '.join(names)} "
                       f"(GET {PREFIX}/personas lists them with roles)")
    if len(matches) > 1:
        raise ApiError(400, "errMsg_projectIsRequired", f"{data['persona']!r} exists in several projects; give 'project'")
    persona = matches[0]
    return json_response(persona.public(world.auth.token_for(persona)), 200)


@_guarded
async def reset(request: web.Request) -> web.Response:
    """Back to the seed (records, fixtures, clock offset, faults)."""
    world = _world(request)
    world.clock.reset()
    world.reset()
    request.config_dict[FAULTS].clear()
    stripe = request.config_dict.get(STRIPE)
    if stripe is not None:
        stripe.reset()
    return json_response({"status": "OK", "reset": True}, 200)


@_guarded
async def state(request: web.Request) -> web.StreamResponse:
    """The whole state as JSON (streamed: a big twin keeps answering other requests meanwhile)."""
    return await stream_json(request, _world(request).dump(records=TableRecords))


@_guarded
async def put_state(request: web.Request) -> web.Response:
    """Replace the state with a dump from `GET /__twin/state`."""
    data = await _json(request)
    if not isinstance(data, dict) or "services" not in data:
        raise ApiError(400, "errMsg_stateIsNotValid", "send a document from GET /__twin/state")
    _world(request).restore(data)
    return json_response({"status": "OK"}, 200)


@_guarded
async def journal(request: web.Request) -> web.Response:
    """The latest requests (newest last); `?limit=` (default 100)."""
    try:
        limit = max(1, min(int(request.query.get("limit", "100")), 2000))
    except ValueError:
        raise ApiError(400, "errMsg_limitIsNotAValidInteger", "limit must be an integer") from None
    entries = _world(request).journal_entries(limit)
    return json_response({"count": len(entries), "entries": entries}, 200)


@_guarded
async def clock(request: web.Request) -> web.Response:
    """GET: the twin's now. POST `{"advanceSeconds": n}`, `{"set": ISO}`, `{"freeze": true}` or `{"reset": true}`."""
    world = _world(request)
    if request.method == "POST":
        data = await _json(request)
        if not isinstance(data, dict):
            raise ApiError(400, "errMsg_clockBodyIsNotValid", "send a JSON object")
        if data.get("reset"):
            world.clock.reset()
        if "set" in data:
            try:
                moment = datetime.fromisoformat(str(data["set"]).replace("Z", "+00:00"))
            except ValueError:
                raise ApiError(400, "errMsg_setIsNotAValidDate", "set must be an ISO-8601 date-time") from None
            if moment.tzinfo is None:
                raise ApiError(400, "errMsg_setNeedsATimezone", "set must carry a timezone (e.g. Z)")
            world.clock.reset()
            world.clock.freeze(moment)
        if data.get("freeze"):
            world.clock.freeze()
        if "advanceSeconds" in data:
            seconds = data["advanceSeconds"]
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
                raise ApiError(400, "errMsg_advanceSecondsIsNotANumber", "advanceSeconds must be a number")
            world.clock.advance(seconds)
    return json_response({"now": world.now_iso(), "frozen": world.clock.frozen}, 200)


@_guarded
async def fixtures_list(request: web.Request) -> web.Response:
    """The foreign fixture records of a project's object (`/__twin/fixtures/tutorhub/lessonSlot`)."""
    table = _fixture_table(request)
    return json_response({"records": table.records()}, 200)


@_guarded
async def fixtures_patch(request: web.Request) -> web.Response:
    """Change one fixture record, e.g. `PATCH /__twin/fixtures/tutorhub/lessonSlot/<id> {"status": "completed"}`."""
    world = _world(request)
    table = _fixture_table(request)
    record = table.get(request.match_info["id"], include_inactive=True)
    if record is None:
        raise ApiError(404, "errMsg_fixtureNotFound", f"no {table.name} with id {request.match_info['id']}")
    changes = await _json(request)
    if not isinstance(changes, dict) or not changes or "id" in changes:
        raise ApiError(400, "errMsg_fixtureChangesAreNotValid", "send a JSON object of fields to change (not id)")
    enums = world.projects[request.match_info["project"]].enums.get(table.name, {})
    for name, value in list(changes.items()):
        if name in enums:
            if value not in enums[name]:
                raise ApiError(400, f"errMsg_{name}isNotAValidEnumOption", f"{name} must be one of: {', '.join(enums[name])}")
            changes[f"{name}_idx"] = enums[name].index(value)
    updated = table.replace({**record, **changes})
    return json_response({"record": updated}, 200)


def _fixture_table(request: web.Request) -> Table:
    world = _world(request)
    project, name = request.match_info["project"], request.match_info["object"]
    table = world.foreign(project, name)
    if table is None:
        raise ApiError(404, "errMsg_fixtureObjectNotFound", f"project {project!r} has no fixture object {name!r}")
    return table


@_guarded
async def faults(request: web.Request) -> web.Response:
    """GET the active faults; POST one (`{"path": "*/v1/enrollments*", "status": 503, "latencyMs": 0,
    "count": 2, "method": "GET"}`); DELETE them all."""
    fault_set = request.config_dict[FAULTS]
    if request.method == "POST":
        fault_set.add(fault_from_json(await _json(request)))
    elif request.method == "DELETE":
        fault_set.clear()
    return json_response({"faults": [f.public() for f in fault_set.faults]}, 200)


@_guarded
async def records(request: web.Request) -> web.Response:
    """Bulk insert `{"records": [{...}, ...]}` into a service's data object (system fields filled).

    For seeding large data sets (benchmarks, demos): no role or business checks, only the shape.
    """
    world = _world(request)
    slug, name = request.match_info["service"], request.match_info["object"]
    state = world.services.get(slug)
    if state is None or name not in state.tables:
        raise ApiError(404, "errMsg_objectNotFound", f"no data object {name!r} in service {slug!r}")
    data = await _json(request)
    rows = data.get("records") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ApiError(400, "errMsg_recordsAreRequired", "send {\"records\": [ {...}, ... ]}")
    obj = state.spec.data_objects[name]
    ctx = Context.system(world, state)
    table = state.tables[name]
    # All or nothing: the records are built first, letting other requests run between chunks (a
    # batch of 20k must not hold them for a second), and stored in one go, so no other request's
    # commit to the state file, nor any read, ever sees part of the batch.
    built = []
    for number, row in enumerate(rows, 1):
        values = {k: v for k, v in row.items() if k in obj.properties}
        record = new_record(ctx, normalize(obj, values), obj)
        if isinstance(row.get("_owner"), str):
            record["_owner"] = row["_owner"]
        built.append(record)
        if not number % 2000:
            await asyncio.sleep(0)
    for record in built:
        table.insert(record)
    table.catch_up()  # index the batch now, not on the next search
    return json_response({"inserted": len(rows), "total": len(table)}, 200)


@_guarded
async def mutant_state(request: web.Request) -> web.Response:
    """GET the known and active defects; POST `{"active": [...]}` switches them (for the suite's tests).
    They are this twin's own: another twin in the same process keeps its own."""
    active = _world(request).mutants
    if request.method == "POST":
        data = await _json(request)
        names = data.get("active") if isinstance(data, dict) else None
        if not isinstance(names, list):
            raise ApiError(400, "errMsg_activeIsRequired", "send {\"active\": [names]}")
        try:
            active.activate(names)
        except ValueError as error:
            raise ApiError(400, "errMsg_unknownMutant", str(error)) from None
    return json_response({"available": available(), "active": active.names()}, 200)


@_guarded
async def roles(request: web.Request) -> web.Response:
    """Each service's role table (which roles may call which API)."""
    world = _world(request)
    return json_response({slug: workflow_for(s.spec).describe()
                          for slug, s in world.services.items()}, 200)


def routes() -> list[web.RouteDef]:
    """The control API's routes, relative to the control plane's mount (`PREFIX`)."""
    return [
        web.get("/services", services),
        web.get("/specs/{slug}", spec_document),
        web.get("/personas", personas),
        web.post("/login", login),
        web.post("/reset", reset),
        web.get("/state", state),
        web.put("/state", put_state),
        web.get("/journal", journal),
        web.route("*", "/clock", clock),
        web.get("/fixtures/{project}/{object}", fixtures_list),
        web.patch("/fixtures/{project}/{object}/{id}", fixtures_patch),
        web.route("*", "/faults", faults),
        web.post("/records/{service}/{object}", records),
        web.route("*", "/mutants", mutant_state),
        web.get("/roles", roles),
    ]
