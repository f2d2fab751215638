"""The generic engine's actions — create, get, list, update, delete — driven by the spec alone.

Workflow modules call the same helpers (`new_record`, `find_one`, `save`, `list_records`) when a
business rule wraps a standard action, so there is one implementation of each step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from . import mutants
from .clock import isoformat
from .context import Context, Result
from .errors import ApiError, forbidden, not_found
from .filters import Condition, condition_for, exact, select
from .normalforms import NORMAL_FORMS
from .projection import present
from .samples import sample
from .specindex import DataObjectSpec, FieldPlan, options
from .store import Table

TENANT_LEAK = mutants.rule_mutant("tenant-leak", "reads and writes ignore the tenant header")
SOFT_DELETE_VISIBLE = mutants.rule_mutant("soft-delete-visible", "a soft-deleted record is still returned by get")
VERSION_FROZEN = mutants.rule_mutant("version-frozen", "updates do not increment recordVersion")
FILTER_IGNORED = mutants.rule_mutant("filter-ignored", "list filters are ignored")
PAGING_TOTAL_WRONG = mutants.rule_mutant("paging-total-wrong", "paging.totalRowCount counts only the page")

_DEFAULTS = {"Boolean": False, "Integer": 0, "Double": 0.0, "Number": 0.0, "String": "", "Text": "", "Object": {}}


def normalize(obj: DataObjectSpec, values: dict[str, Any]) -> dict[str, Any]:
    """Canonical dates, integral Integers and `<enum>_idx` for every enum value in `values`."""
    out = dict(values)
    for name, value in values.items():
        prop = obj.properties.get(name)
        if prop is None:
            continue
        if prop["type"] in NORMAL_FORMS:
            out[name] = NORMAL_FORMS[prop["type"]](value)
        if name in obj.enum_index:
            out[f"{name}_idx"] = obj.enum_index[name].get(value) if value is not None else None
    return out


def new_record(ctx: Context, values: dict[str, Any], obj: DataObjectSpec | None = None) -> dict[str, Any]:
    """A complete new record of `obj` from `values`: defaults, session binds, tenant, system fields.

    A required property the caller cannot send (it is not a create parameter) is bound the way the
    backend would: the tenant field to the caller's company, an ID to the caller, an enum to its
    first option, other types to their empty value. Dates are stored in canonical form, each enum
    is followed by its `_idx`; keys come in the guide's order: id, properties, system fields. One
    pass: this runs on every create.
    """
    obj = obj or ctx.obj
    now = isoformat(ctx.now)
    record: dict[str, Any] = {"id": ctx.world.new_id()}
    for f in obj.fields:
        name = f.name
        value = values.get(name, _ABSENT)
        if value is _ABSENT or (value is None and f.required):
            value = _unsent(ctx, obj, f, now)
        elif f.normal is not None:
            value = f.normal(value)
        record[name] = value
        if f.enum_index is not None:
            record[f.idx_name] = f.enum_index.get(value) if value is not None else None
    record["isActive"] = True
    record["recordVersion"] = 1
    record["createdAt"] = record["updatedAt"] = now
    record["_owner"] = ctx.identity.user_id
    return record


_ABSENT: Any = object()


def _unsent(ctx: Context, obj: DataObjectSpec, f: FieldPlan, now: str) -> Any:
    """The value of a property a create did not send (or sent as null while it is required)."""
    if f.name == obj.tenant_field and ctx.company is not None:
        return ctx.company["id"]
    if not f.required:
        return [] if f.is_array else None
    if f.is_array:
        return []
    if f.type == "ID":
        # A session bind (the caller) unless it points at another record, which must be named.
        rel = obj.relation(f.name)
        return ctx.identity.user_id if rel is None or rel["target"] == "user" else None
    if f.type == "Enum":
        return next(iter(options(f.prop)), None)
    if f.type == "Date":
        return now
    return _DEFAULTS.get(f.type)


def check_references(ctx: Context, record: dict[str, Any], obj: DataObjectSpec | None = None,
                     only: set[str] | None = None) -> None:
    """Every relation value must point at an existing record (404 naming the field otherwise)."""
    obj = obj or ctx.obj
    for rel in obj.relations:
        prop = rel["property"]
        if only is not None and prop not in only:
            continue
        value = record.get(prop)
        target = rel["target"]
        if value is None:
            if obj.properties.get(prop, {}).get("required"):
                raise not_found(f"errMsg_{target}NotFound", f"{prop}: no {target} given")
            continue
        # Where records of the target live: this service, another served service of the project,
        # the project's fixtures (a target owned elsewhere may be in both).
        places: list[tuple[Table, DataObjectSpec | None]] = []
        if target in ctx.state.tables:
            places.append((ctx.state.tables[target], ctx.state.spec.data_objects[target]))
        else:
            if (elsewhere := ctx.world.owned_elsewhere(ctx.project, target, ctx.state.spec.slug)) is not None:
                places.append(elsewhere)
            if (fixture := ctx.foreign(target)) is not None:
                places.append((fixture, None))
        if not places:
            continue  # a target the twin has no fixtures for cannot be checked
        for rid in value if isinstance(value, list) else [value]:
            if not any(_holds(ctx, table, target_obj, rid) for table, target_obj in places):
                raise not_found(f"errMsg_{target}NotFound", f"{prop}: no {target} with id {rid}")


def _holds(ctx: Context, table: Table, obj: DataObjectSpec | None, rid: Any) -> bool:
    """True when `table` has a record `rid` the caller's tenant may point at."""
    found = table.get(rid) if isinstance(rid, str) else None
    return found is not None and (obj is None or _same_tenant(ctx, obj, found))


def _same_tenant(ctx: Context, obj: DataObjectSpec, record: dict[str, Any]) -> bool:
    if obj.tenant_field is None or ctx.company is None or ctx.world.mutants.is_active(TENANT_LEAK):
        return True
    return bool(record.get(obj.tenant_field) == ctx.company["id"])


def tenant_conditions(ctx: Context, obj: DataObjectSpec | None = None) -> list[Condition]:
    """Records of the caller's tenant only (nothing for services without tenants)."""
    obj = obj or ctx.obj
    if obj.tenant_field is not None and ctx.company is not None and not ctx.world.mutants.is_active(TENANT_LEAK):
        return [exact(obj.tenant_field, [ctx.company["id"]])]
    return []


def base_conditions(ctx: Context, obj: DataObjectSpec | None = None) -> list[Condition]:
    """What the caller may see of `obj` at all: its tenant, and its role's scope."""
    obj = obj or ctx.obj
    conditions = tenant_conditions(ctx, obj)
    scope = ctx.workflow.scope(ctx, obj.name)
    if scope:
        conditions += scope
    return conditions


def visible(ctx: Context, record: dict[str, Any], obj: DataObjectSpec | None = None) -> bool:
    """True when the caller's scope includes `record`."""
    return all(c.predicate(record) for c in base_conditions(ctx, obj))


def _is_id_param(obj: DataObjectSpec, name: str) -> bool:
    return name == "id" or name.lower() == f"{obj.name.lower()}id"


def find_one(ctx: Context, obj: DataObjectSpec | None = None, *, include_inactive: bool = False) -> dict[str, Any]:
    """The record the path addresses (by id, or by the property the path parameter names).

    404 when there is none or it lies in another tenant; 403 when it exists but the caller's role
    may not see it.
    """
    obj = obj or ctx.obj
    table = ctx.table(obj.name)
    if not ctx.path:
        return _callers_own(ctx, obj)
    # The record's own id when the path names it; other path parameters name its parent.
    name, value = next(((k, v) for k, v in ctx.path.items() if _is_id_param(obj, k)), next(iter(ctx.path.items())))
    record = None
    if _is_id_param(obj, name):
        record = table.get(value, include_inactive=include_inactive or ctx.world.mutants.is_active(SOFT_DELETE_VISIBLE))
        if record is not None and not record.get("isActive", True) and not include_inactive:
            record = record if ctx.world.mutants.is_active(SOFT_DELETE_VISIBLE) else None
    elif name in obj.properties:
        _, found = select(table, [exact(name, [value]), *tenant_conditions(ctx, obj)], 0, 1)
        record = found[0] if found else None
    parent = {k: v for k, v in ctx.path.items() if k != name and k in obj.properties}
    if record is not None and any(record.get(k) != v for k, v in parent.items()):
        record = None  # /preset-meals/{presetMealId}/lines/{presetLineId}: a line of another meal
    if record is None or not _same_tenant(ctx, obj, record):
        raise not_found(f"errMsg_{obj.name}NotFound", f"{name}: no {obj.name} with {name} {value}")
    if not visible(ctx, record, obj):
        raise forbidden("errMsg_accessDenied", f"this {ctx.role} may not access this {obj.name}")
    return record


def _callers_own(ctx: Context, obj: DataObjectSpec) -> dict[str, Any]:
    """A route naming no record (`GET /v1/macro-targets/me`): the caller's own, the latest one."""
    conditions = [*base_conditions(ctx, obj), exact("_owner", [ctx.user_id])]
    total, _ = select(ctx.table(obj.name), conditions, 0, 0)
    _, found = select(ctx.table(obj.name), conditions, max(total - 1, 0), 1)
    if not found:
        raise not_found(f"errMsg_{obj.name}NotFound", f"this {ctx.role} has no {obj.name} yet")
    latest: dict[str, Any] = found[0]
    return latest


def save(ctx: Context, record: dict[str, Any], changes: dict[str, Any], obj: DataObjectSpec | None = None) -> dict[str, Any]:
    """Apply `changes` to `record` as a new version (recordVersion + 1, updatedAt now).

    Changes that change nothing (none, or every value as stored) leave the record as it was, version
    and updatedAt included: a version counts changes, so a client can tell that nothing moved."""
    obj = obj or ctx.obj
    updated = {**record, **normalize(obj, changes)}
    if updated == record:
        return record
    if not ctx.world.mutants.is_active(VERSION_FROZEN):
        updated["recordVersion"] = int(record.get("recordVersion") or 0) + 1
    updated["updatedAt"] = isoformat(ctx.now)
    return ctx.table(obj.name).replace(updated)


def _property_values(ctx: Context, obj: DataObjectSpec) -> dict[str, Any]:
    """The body's values of `obj`'s properties (a copy: callers add to it)."""
    body = ctx.body
    if body.keys() <= obj.properties.keys():  # the usual body: nothing to leave out
        return dict(body)
    return {k: v for k, v in body.items() if k in obj.properties}


def list_conditions(ctx: Context, obj: DataObjectSpec | None = None) -> tuple[list[Condition], list[dict[str, Any]]]:
    """Scope + path/query equality + declared filters, and the filters as the envelope echoes them."""
    obj = obj or ctx.obj
    conditions = base_conditions(ctx, obj)
    for name, value in {**ctx.path, **ctx.query}.items():
        if value is not None and name in obj.properties:
            conditions.append(exact(name, value if isinstance(value, list) else [value]))
    applied = []
    if not ctx.world.mutants.is_active(FILTER_IGNORED):
        for flt in ctx.op.filters:
            values = ctx.world.mutants.filter_values(ctx.filters.get(flt.name))
            if values:
                conditions.append(condition_for(flt.match, flt.property, values, ctx.now, flt.type))
                applied.append({"name": flt.name, "values": values})
    return conditions, applied


def list_records(ctx: Context, conditions: list[Condition], applied: list[dict[str, Any]] | None = None) -> Result:
    """One page of the matching records, presented, with the total for `paging`."""
    offset = (ctx.page_number - 1) * ctx.page_size
    # Full records answer as stored: their JSON goes into the answer without a decode and re-encode
    # (unless a response mutant needs to rewrite them as data).
    raw = ctx.op.full_record and not ctx.op.joins and not ctx.world.mutants.active_rewrites()
    total, window = select(ctx.table(), conditions, offset, ctx.page_size, raw=raw)
    if ctx.world.mutants.is_active(PAGING_TOTAL_WRONG):
        total = len(window)
    return Result(
        data=window if raw else [present(ctx, r) for r in window], total=total, page_number=ctx.page_number,
        page_size=ctx.page_size, filters=applied or [], presented=True,
    )


# -- the generic actions -------------------------------------------------------------------------
async def create(ctx: Context) -> Result:
    """Create a record from the body's property values; a path parameter naming a property (the
    parent in `POST /v1/preset-meals/{presetMealId}/lines`) sets it."""
    obj = ctx.obj
    values = _property_values(ctx, obj)
    if ctx.path:
        values.update({k: v for k, v in ctx.path.items() if k in obj.properties})
    record = new_record(ctx, values, obj)
    if obj.relations:
        check_references(ctx, record, obj)
    ctx.table(obj.name).insert(record)
    return Result(data=record)


async def get(ctx: Context) -> Result:
    """The record the path names."""
    return Result(data=find_one(ctx))


async def list_(ctx: Context) -> Result:
    """A filtered, scoped, paged list. A list under a parent (`/v1/preset-meals/{presetMealId}/lines`)
    answers 404 when that parent does not exist (or was deleted), as a get of it would."""
    if ctx.path:
        check_references(ctx, ctx.path, only=set(ctx.path))
    conditions, applied = list_conditions(ctx)
    return list_records(ctx, conditions, applied)


async def update(ctx: Context) -> Result:
    """Apply the body's property values to the record the path names."""
    record = find_one(ctx)
    changes = _property_values(ctx, ctx.obj)
    check_references(ctx, {**record, **changes}, only=set(changes))
    return Result(data=save(ctx, record, changes))


async def delete(ctx: Context) -> Result:
    """Soft delete: the answer shows `isActive: false`; later gets answer 404, lists leave it out."""
    record = find_one(ctx)
    return Result(data=save(ctx, record, {"isActive": False}))


async def shaped_answer(ctx: Context) -> Result:
    """An operation on no data object of the service (a summary, a status): answered in the shape
    of the guide's example — an empty list for lists — since the twin holds no data behind it."""
    if ctx.op.is_list:
        return Result(data=[], total=0, page_number=ctx.page_number, page_size=ctx.page_size, presented=True)
    return Result(data=sample(ctx.op.resource_schema, isoformat(ctx.now)), presented=True)


GENERIC = {"create": create, "get": get, "list": list_, "update": update, "delete": delete}


def generic_handler(action: str) -> Callable[[Context], Awaitable[Result]]:
    """The generic action for an operation's `action` (unknown actions behave like `get`)."""
    handler = GENERIC.get(action)
    if handler is None:
        raise ApiError(500, "errMsg_unsupportedAction", f"the twin has no generic {action!r} action")
    return handler
