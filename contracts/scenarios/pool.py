"""Records prepared from the spec alone, for the scenarios that need data on any guide.

`Pool` holds the records of each data object that this run made (they may be changed) or can read;
`body_for` and `path_for` fill an operation's body and path parameters from it (relations with the
ids of pooled records, `user` relations with the caller's own id, the rest synthesized from the
guide's types and enum options); `seed` makes a few records of each data object without a recipe.
The coverage scenario and the generic filter and paging scenarios build on it.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from ..spec import OperationFacts, PropertyFacts
from ..target import Identity
from .base import ScenarioContext
from .lookups import any_tenant, list_all
from .recipes import recipes_for

_random = random.Random()


def identities(ctx: ScenarioContext) -> list[Identity]:
    """The identities with a token: the one Schemathesis calls as first, then the target's others."""
    first = ctx.target.generated_identity()
    out = [first] if first is not None and first.token else []
    out += [i for i in ctx.target.identities.values() if i.token and i not in out]
    return out


def tenant_of(ctx: ScenarioContext, identity: Identity) -> str | None:
    """The tenant header value `identity`'s calls carry (its own tenant, else any; None: no tenant header)."""
    if not ctx.spec.tenant_header:
        return None
    return identity.tenant or any_tenant(ctx)


class Pool:
    """Records by data object: those this run created first (they may be changed), then readable ones."""

    def __init__(self, ctx: ScenarioContext) -> None:
        self.ctx = ctx
        self.own: dict[str, list[dict[str, Any]]] = {}
        self.seen: dict[str, list[dict[str, Any]]] = {}
        self._foreign: dict[str, list[dict[str, Any]]] = {}

    def add(self, obj: str, record: dict[str, Any], own: bool) -> None:
        target = self.own if own else self.seen
        rows = target.setdefault(obj, [])
        if all(r.get("id") != record.get("id") for r in rows):
            rows.append(record)

    def load(self) -> None:
        """Read every list the identities can read; rows this run created count as its own."""
        created = self.ctx.tally.ledger.ids(self.ctx.target.name)
        for op in self.ctx.spec.operations.values():
            if not (op.action == "list" and op.method == "GET" and op.data_object in self.ctx.spec.objects):
                continue
            for identity in identities(self.ctx):
                if op.path_params and (op.path_params != ("userId",) or not identity.user_id):
                    continue
                api = self.ctx.api(identity.name)
                rows, _ = list_all(api, op, path={"userId": identity.user_id} if op.path_params else None,
                                       tenant=tenant_of(self.ctx, identity), limit=200)
                for row in rows:
                    if isinstance(row.get("id"), str):
                        self.add(op.data_object, row, row["id"] in created)
        # records the run made that no list shows with their id (select lists) are still its own
        for item in self.ctx.tally.ledger.live(self.ctx.target.name):
            self.add(item.object, {"id": item.id}, own=True)

    def foreign(self, obj: str) -> list[dict[str, Any]]:
        """Active records of an object another service owns, as the target names them (hook or data
        `<object>`/`<object>s`; a twin's fixtures), cached."""
        if obj not in self._foreign:
            found: list[dict[str, Any]] | None = None
            for name in (obj, f"{obj}s"):
                try:
                    found = self.ctx.target.records(name, self.ctx.session)
                except (RuntimeError, requests.RequestException):
                    found = None
                if found:
                    break
            hook = self.ctx.target.hooks.get("fixtures")
            if not found and hook is not None:
                try:
                    answer = hook.call(self.ctx.session, object=obj)
                except (RuntimeError, requests.RequestException):
                    answer = None
                rows = answer.get("records") if isinstance(answer, dict) else answer
                found = [r for r in rows or [] if isinstance(r, dict)]
            self._foreign[obj] = [r for r in found or [] if r.get("id") and r.get("isActive", True)]
        return self._foreign[obj]

    def records(self, obj: str, writable: bool) -> list[dict[str, Any]]:
        return list(self.own.get(obj, [])) + ([] if writable else list(self.seen.get(obj, [])))

    def value(self, name: str, obj: str, writable: bool, pick: int = 0) -> Any:
        """A value for a parameter called `name` of an operation on `obj`, from the pool (None: none).
        For an operation that writes (`writable`), ids are only ever those of records this run made."""
        if name in ("id", f"{obj}Id"):
            rows = self.records(obj, writable)
            return rows[-1 - pick % len(rows)]["id"] if rows else None
        if name.endswith("Id") and name[:-2] in self.ctx.spec.objects:
            rows = self.records(name[:-2], writable)
            return rows[-1 - pick % len(rows)]["id"] if rows else None
        own_ids = {r.get("id") for rows in self.own.values() for r in rows}
        for source in [obj, *[o for o in self.ctx.spec.objects if o != obj]]:
            for row in reversed(self.records(source, writable)):
                value = row.get(name)
                if value in (None, "", []):
                    continue
                if writable and _looks_like_id(value) and value not in own_ids:
                    continue  # never aim a write at a record someone else owns
                return value
        return None


def _looks_like_id(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


_END_WORDS = re.compile(r"(end|out|expir|until|finish|due|to$|close)", re.IGNORECASE)


def synthesize(prop: PropertyFacts | None, name: str, tag: str, base: datetime | None = None) -> Any:
    """A value of the guide's type for a property no record offers. Dates fall on `base` (a far
    future day, so made-up stays and bookings do not collide), ends (`checkOut`, `expiryDate`, …) two
    days later."""
    kind = (prop.type if prop else "String").lower()
    if prop is not None and prop.enum:
        value: Any = prop.enum[0]
    elif kind == "id":
        value = str(uuid.uuid4())
    elif kind == "date":
        day = base or (datetime.now(UTC) + timedelta(days=1))
        if _END_WORDS.search(name):
            day += timedelta(days=2)
        value = day.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    elif kind == "integer":
        value = 1
    elif kind in ("double", "number", "float"):
        value = 10.0
    elif kind == "boolean":
        value = False
    elif kind == "object":
        value = {}
    else:
        value = f"suite {name} {tag}"
    return [value] if prop is not None and prop.is_array else value


def body_for(ctx: ScenarioContext, pool: Pool, op: OperationFacts, identity: Identity, writable: bool,
          full: bool = False, pick: int = 0) -> dict[str, Any]:
    obj = ctx.spec.objects.get(op.data_object)
    props = obj.properties if obj else {}
    relations = {r.get("property"): r.get("target") for r in (obj.relations if obj else ())}
    body: dict[str, Any] = {}
    tag = ctx.unique()
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=_random.randint(400, 3000))
    minimal = op.action == "create" and op.default_api is not None and not full
    # records of other services this one points at (a listing, a course pack): their ids, and the
    # fields they share with the body (a listing's hostId)
    borrowed: dict[str, Any] = {}
    foreign_ids: dict[str, Any] = {}
    for prop_name, target in relations.items():
        if writable:
            break  # a write other than a create never aims at a record the run did not make (a tutor to ban)
        if target and target != "user" and target not in ctx.spec.objects and prop_name in op.body:
            found = pool.foreign(str(target))
            if found:
                record = found[hash(tag) % len(found)]
                foreign_ids[str(prop_name)] = record.get("id")
                borrowed.update({k: v for k, v in record.items() if k not in ("id", "isActive") and v not in (None, "")})
    for name in op.body:
        if name not in op.required_body and minimal:
            continue  # optional fields may carry cross-field rules; the required ones make a valid record
        if relations.get(name) == "user" and identity.user_id:
            value: Any = identity.user_id
        elif name in foreign_ids:
            value = foreign_ids[name]
        elif name in borrowed and name in props and not props[name].enum:
            value = borrowed[name]
        elif relations.get(name) in ctx.spec.objects:
            rows = pool.records(str(relations[name]), False)
            value = rows[-1]["id"] if rows else None
        else:
            value = None
        if value is None and not minimal:
            value = pool.value(name, op.data_object, writable, pick)
        if value is None and (name in op.required_body or (full and name in props and props[name].type != "ID")):
            value = synthesize(props.get(name), name, tag, base)
        if value is not None:
            if props.get(name) is not None and props[name].is_array and not isinstance(value, list):
                value = [value]
            body[name] = value
    return body


def path_for(ctx: ScenarioContext, pool: Pool, op: OperationFacts, identity: Identity, writable: bool,
          pick: int = 0) -> dict[str, Any] | None:
    path = {}
    for name in op.path_params:
        value = identity.user_id if name == "userId" else pool.value(name, op.data_object, writable, pick)
        if value is None:
            return None
        path[name] = value
    return path


def create_as(ctx: ScenarioContext, pool: Pool, obj: str, identity: Identity) -> dict[str, Any] | None:
    """One record of `obj` made by `identity`: with every body field first (so filters have values to
    match), else with the required ones only. None when neither is accepted."""
    op = ctx.spec.op(str(ctx.spec.objects[obj].default_apis["create"]))
    path = path_for(ctx, pool, op, identity, True)
    if path is None:
        return None
    api = ctx.api(identity.name)
    for full in (True, False):
        reply = api.call(op.api, path=path, body=body_for(ctx, pool, op, identity, False, full=full), tenant=tenant_of(ctx, identity))
        if reply.ok and isinstance(reply.data, dict):
            pool.add(obj, reply.data, own=True)
            return reply.data
    return None


def seed(ctx: ScenarioContext, count: int = 3) -> None:
    """A few records of each deletable data object the project has no recipe for, made by several
    users in turn (prepared from the spec; the clean-up deletes them again)."""
    with_recipe = {item.object for item in recipes_for(ctx.target.project)}
    objects = [name for name, obj in ctx.spec.objects.items()
               if name not in with_recipe and obj.default_apis.get("create") and obj.default_apis.get("delete")
               and obj.default_apis["create"] in ctx.spec.operations]
    if not objects:
        return
    pool = shared_pool(ctx)
    writers = identities(ctx)
    for obj in _parents_first(ctx, objects):
        made = 0
        for attempt in range(len(writers) * 2):
            if made >= count:
                break
            if create_as(ctx, pool, obj, writers[attempt % len(writers)]) is not None:
                made += 1


def _parents_first(ctx: ScenarioContext, objects: list[str]) -> list[str]:
    """Objects ordered so that the targets of an object's relations come before it."""
    ordered: list[str] = []

    def visit(name: str, trail: tuple[str, ...] = ()) -> None:
        if name in ordered or name in trail:
            return
        for relation in ctx.spec.objects[name].relations:
            if relation.get("target") in objects:
                visit(str(relation["target"]), (*trail, name))
        ordered.append(name)
    for name in objects:
        visit(name)
    return ordered


def shared_pool(ctx: ScenarioContext) -> Pool:
    """The run's pool for this target, loaded on first use."""
    pool = ctx._scratch.get("pool")
    if pool is None:
        pool = ctx._scratch["pool"] = Pool(ctx)
        pool.load()
    return pool


def parent_id(ctx: ScenarioContext, obj: str, actor: str) -> str | None:
    """The id of a record of `obj` to list children under: one this run made, else the last the actor can list."""
    pool = shared_pool(ctx)
    rows = pool.records(obj, False)
    return str(rows[-1]["id"]) if rows else None
