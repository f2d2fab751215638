"""Scenarios every service gets, driven by the spec's facts and the project's recipes:
authentication probes, the CRUD life cycle, filters and paging."""

from __future__ import annotations

import functools
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..client import DEFAULT, Api
from ..spec import FilterFacts, ObjectFacts, OperationFacts
from ..target import ServiceTarget
from .base import ScenarioContext, Skip, StopScenario, scenario
from .lookups import any_tenant, list_all, tenant_for
from .pool import parent_id, seed
from .recipes import Recipe, differences, recipes_for, same_value

NIL_ID = "00000000-0000-4000-8000-000000000000"


# -- helpers shared by the project modules ---------------------------------------------------------
def has_paging(op: OperationFacts) -> bool:
    return op.is_list and op.method == "GET" and "pageRowCount" in op.query_params


def path_values(ctx: ScenarioContext, op: OperationFacts, actor: str) -> dict[str, Any] | None:
    """Path parameters a list call needs (the caller's own `userId`), or None when unknown."""
    values: dict[str, Any] = {}
    for name in op.path_params:
        if name == "userId":
            identity = ctx.identity(actor)
            if identity.user_id is None:
                return None
            values[name] = identity.user_id
        elif name.endswith("Id") and name[:-2] in ctx.spec.objects:
            # a child list (`/meals/{mealId}/lines`): under a parent record this run made, else one the actor sees
            parent = parent_id(ctx, name[:-2], actor)
            if parent is None:
                return None
            values[name] = parent
        else:
            return None
    return values


def default_api(obj: ObjectFacts, action: str) -> str:
    """The API name of the object's default `action` (KeyError when its guide declares none)."""
    api = obj.default_apis.get(action)
    if api is None:
        raise KeyError(f"{obj.name} has no default {action} API")
    return api


def create_record(ctx: ScenarioContext, item: Recipe, rule: str = "create-201") -> tuple[dict[str, Any], dict[str, Any]]:
    """Create one record with the recipe; answers (sent body, created record). Fails `rule` otherwise."""
    obj = ctx.spec.object(item.object)
    create = ctx.spec.op(default_api(obj, "create"))
    api = ctx.api(item.actor)
    body = item.body(ctx, ctx.unique())
    reply = api.call(create.api, body=body, tenant=tenant_for(ctx, item))
    ctx.expect(f"{rule}[{item.object}]", reply.status == create.status and isinstance(reply.data, dict),
               f"{reply.describe()}; expected {create.status} with the new {item.object}", operation=create.api)
    return body, reply.data


# -- authentication ------------------------------------------------------------------------------
def _probe_request(ctx: ScenarioContext, op: OperationFacts) -> tuple[dict[str, Any], Any]:
    path = {name: NIL_ID for name in op.path_params}
    body: dict[str, Any] | None = {} if op.method in ("POST", "PATCH", "PUT") else None
    return path, body


@scenario("auth.required", rules=("no-token-401", "bad-token-401"),
          title="every operation refuses a request without a token, or with a forged one, with 401")
def auth_required(ctx: ScenarioContext) -> None:
    """Every operation refuses a missing or forged bearer token with 401 and the error envelope."""
    api = ctx.anonymous()
    tenant = any_tenant(ctx)
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiJmb3JnZWQifQ.c2lnbmF0dXJl"
    for op in ctx.spec.operations.values():
        path, body = _probe_request(ctx, op)
        for rule, token in (("no-token-401", None), ("bad-token-401", forged)):
            reply = api.call(op.api, path=path, body=body, token=token, tenant=tenant)
            ctx.expect(rule, reply.status == 401, f"{reply.describe()}; expected 401", operation=op.api, fatal=False)


# -- CRUD life cycle -------------------------------------------------------------------------------
def _crud_rules(target: ServiceTarget) -> list[str]:
    rules = []
    for item in recipes_for(target.project):
        obj = target.spec.objects.get(item.object)
        if obj is None:
            continue
        apis = obj.default_apis
        names = ["create-201", "unknown-id-404", "create-without-body-400"]
        if apis.get("get"):
            names.append("get-returns-created")
        if apis.get("list"):
            names.append("list-includes-created")
        if apis.get("update") and item.update:
            names += ["update-increments-version", "get-after-update", "owner-unchanged"]
        if apis.get("delete"):
            names += ["delete-is-soft", "get-after-delete-404"]
            if apis.get("list"):
                names.append("list-after-delete-excludes")
        rules += [f"{n}[{item.object}]" for n in names]
    return rules


def _comparable(op: OperationFacts, record: dict[str, Any]) -> list[str]:
    return [k for k in record if k in op.fields]


@scenario("crud.lifecycle", rules=_crud_rules,
          title="create → get returns it; update increments recordVersion and moves updatedAt; delete is soft")
def crud_lifecycle(ctx: ScenarioContext) -> None:
    """The CRUD life cycle of every data object the project has a recipe for."""
    items = [i for i in recipes_for(ctx.target.project) if i.object in ctx.spec.objects]
    ctx.require(items, f"no recipe for the data objects of {ctx.target.name}")
    for item in items:
        try:
            _crud_one(ctx, item)
        except StopScenario as stop:  # one object's failure must not hide the others' verdicts
            seen = {r.rule for r in ctx.results}
            for rule in _crud_rules(ctx.target):
                if rule.endswith(f"[{item.object}]") and f"{ctx.scenario.name}/{rule}" not in seen:
                    ctx.skip_rule(rule, f"not reached: {stop}")


def _crud_one(ctx: ScenarioContext, item: Recipe) -> None:
    obj = ctx.spec.object(item.object)
    apis = obj.default_apis
    tag = f"[{item.object}]"
    try:
        if item.prepare:
            item.prepare(ctx)
        api = ctx.api(item.actor)
    except Skip as error:
        for rule in [r for r in _crud_rules(ctx.target) if r.endswith(tag)]:
            ctx.skip_rule(rule, str(error))
        return
    tenant = tenant_for(ctx, item)
    create = ctx.spec.op(default_api(obj, "create"))
    # the guide's required body parameters: an empty body is refused
    if create.required_body:
        reply = api.call(create.api, body={}, tenant=tenant)
        ctx.expect(f"create-without-body-400{tag}", reply.status == 400, f"{reply.describe()}; expected 400 (required: {list(create.required_body)})",
                   operation=create.api, fatal=False)
    else:
        ctx.skip_rule(f"create-without-body-400{tag}", "the create operation has no required body parameter", operation=create.api)
    sent, created = create_record(ctx, item)
    record_id = created.get("id")
    ctx.expect(f"create-201{tag}", isinstance(record_id, str) and created.get("recordVersion") == 1 and created.get("isActive") is True,
               f"created record: id={record_id!r}, recordVersion={created.get('recordVersion')!r}, isActive={created.get('isActive')!r}; "
               "expected an id, recordVersion 1, isActive true", operation=create.api)
    echoed = differences(sent, created, item.echo)
    ctx.expect(f"create-201{tag}", not echoed, f"the created record does not keep what was sent: {echoed}", operation=create.api)
    deleted = False
    if (delete_api := apis.get("delete")):
        def cleanup() -> None:
            if not deleted:
                api.call(delete_api, path={ctx.spec.op(delete_api).path_params[0]: record_id}, tenant=tenant,
                         judge_answer=False)
        ctx.cleanup(cleanup)
    get = ctx.spec.op(get_api) if (get_api := apis.get("get")) else None
    if get is not None:
        reply = api.call(get.api, path={get.path_params[0]: record_id}, tenant=tenant)
        keys = _comparable(get, created)
        diff = differences(created, reply.data or {}, keys) if isinstance(reply.data, dict) else ["no record"]
        ctx.expect(f"get-returns-created{tag}", reply.status == 200 and not diff,
                   f"{reply.describe()}; differences from the created record: {diff}", operation=get.api)
        unknown = api.call(get.api, path={get.path_params[0]: str(uuid.uuid4())}, tenant=tenant)
        ctx.expect(f"unknown-id-404{tag}", unknown.status == 404, f"{unknown.describe()}; expected 404", operation=get.api, fatal=False)
    lst = ctx.spec.op(list_api) if (list_api := apis.get("list")) else None
    if lst is not None:
        rows, first = list_all(api, lst, tenant=tenant)
        ctx.expect(f"list-includes-created{tag}", first.ok and any(r.get("id") == record_id for r in rows),
                   f"{first.describe()}; the list of {len(rows)} rows lacks the created {item.object} {record_id}", operation=lst.api)
    update_api = apis.get("update")
    if update_api and item.update:
        update = ctx.spec.op(update_api)
        path = {update.path_params[0]: record_id}
        unknown = api.call(update.api, path={update.path_params[0]: str(uuid.uuid4())}, body=item.update(ctx, created, ctx.unique()), tenant=tenant)
        ctx.expect(f"unknown-id-404{tag}", unknown.status == 404, f"{unknown.describe()}; expected 404", operation=update.api, fatal=False)
        time.sleep(0.012)  # timestamps have millisecond precision: let the clock move
        changes = item.update(ctx, created, ctx.unique())
        reply = api.call(update.api, path=path, body=changes, tenant=tenant)
        updated = reply.data if isinstance(reply.data, dict) else {}
        ctx.expect(f"update-increments-version{tag}", reply.status == update.status and bool(updated),
                   f"{reply.describe()}; expected {update.status} with the updated record", operation=update.api)
        problems = differences(changes, updated, list(changes))
        if updated.get("recordVersion") != created.get("recordVersion", 1) + 1:
            problems.append(f"recordVersion {created.get('recordVersion')} → {updated.get('recordVersion')} (expected +1)")
        if not _later(updated.get("updatedAt"), created.get("updatedAt")):
            problems.append(f"updatedAt {created.get('updatedAt')} → {updated.get('updatedAt')} (expected later)")
        if not same_value(created.get("createdAt"), updated.get("createdAt")):
            problems.append(f"createdAt changed {created.get('createdAt')} → {updated.get('createdAt')}")
        ctx.expect(f"update-increments-version{tag}", not problems, "; ".join(problems), operation=update.api, fatal=False)
        kept = [f"{key} {created.get(key)!r} → {updated.get(key)!r}" for key in ("id", "_owner")
                if key in created and updated.get(key) != created.get(key)]
        ctx.expect(f"owner-unchanged{tag}", not kept, f"an update changed system fields it must keep: {'; '.join(kept)}",
                   operation=update.api, fatal=False)
        if get is not None:
            again = api.call(get.api, path={get.path_params[0]: record_id}, tenant=tenant)
            if isinstance(again.data, dict) and "_owner" in created:
                ctx.expect(f"owner-unchanged{tag}", again.data.get("_owner") == created.get("_owner"),
                           f"{again.describe()}; after an update the record's _owner is {again.data.get('_owner')!r}, "
                           f"created with {created.get('_owner')!r}", operation=get.api, fatal=False)
            diff = differences(updated, again.data or {}, _comparable(get, updated)) if isinstance(again.data, dict) else ["no record"]
            ctx.expect(f"get-after-update{tag}", again.status == 200 and not diff,
                       f"{again.describe()}; differences from the update's answer: {diff}", operation=get.api)
    if delete_api:
        delete = ctx.spec.op(delete_api)
        unknown = api.call(delete.api, path={delete.path_params[0]: str(uuid.uuid4())}, tenant=tenant)
        ctx.expect(f"unknown-id-404{tag}", unknown.status == 404, f"{unknown.describe()}; expected 404", operation=delete.api, fatal=False)
        reply = api.call(delete.api, path={delete.path_params[0]: record_id}, tenant=tenant)
        gone = reply.data if isinstance(reply.data, dict) else {}
        ctx.expect(f"delete-is-soft{tag}", reply.status == delete.status and gone.get("isActive") is False,
                   f"{reply.describe()}; expected {delete.status} answering the record with isActive false (soft delete), "
                   f"got isActive={gone.get('isActive')!r}", operation=delete.api)
        deleted = True
        if get is not None:
            after = api.call(get.api, path={get.path_params[0]: record_id}, tenant=tenant)
            ctx.expect(f"get-after-delete-404{tag}", after.status == 404, f"{after.describe()}; a deleted record must answer 404",
                       operation=get.api, fatal=False)
        if lst is not None:
            rows, first = list_all(api, lst, tenant=tenant)
            ctx.expect(f"list-after-delete-excludes{tag}", first.ok and not any(r.get("id") == record_id for r in rows),
                       f"{first.describe()}; the list still shows the deleted {item.object} {record_id}", operation=lst.api, fatal=False)


def _unknown_id_rules(target: ServiceTarget) -> list[str]:
    return [f"unknown-id-404[{obj.default_apis['get']}]" for obj in target.spec.objects.values()
            if obj.default_apis.get("get") and obj.default_apis["get"] in target.spec.operations
            and len(target.spec.op(obj.default_apis["get"]).path_params) == 1]


@scenario("records.unknown-id", rules=_unknown_id_rules, title="reading a record by an id nobody has answers 404")
def unknown_id(ctx: ScenarioContext) -> None:
    """Every data object's get-by-id answers 404 (with the error envelope) to an id that names no record."""
    identity = ctx.target.generated_identity()
    if identity is None or not identity.token:
        ctx.skip("no identity to call as")
    ctx.require(not ctx.spec.tenant_required or identity.tenant or any_tenant(ctx),
                f"no tenant codename to send in {ctx.spec.tenant_header} (give an identity a tenant)")
    api = ctx.api(identity.name)
    for rule in _unknown_id_rules(ctx.target):
        op = ctx.spec.op(rule[len("unknown-id-404["):-1])
        reply = api.call(op.api, path={op.path_params[0]: str(uuid.uuid4())}, tenant=identity.tenant or any_tenant(ctx))
        ctx.expect(rule, reply.status == 404, f"{reply.describe()}; an id that names no record must answer 404",
                   operation=op.api, fatal=False)


def _later(a: Any, b: Any) -> bool:
    try:
        return datetime.fromisoformat(str(a).replace("Z", "+00:00")) > datetime.fromisoformat(str(b).replace("Z", "+00:00"))
    except ValueError:
        return False


# -- filters and paging ----------------------------------------------------------------------------
def _day(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%d")
    except ValueError:
        return None


def filter_matches(flt: FilterFacts, value: Any, wanted: str) -> bool:
    """Whether a record's `value` matches the filter value `wanted`, as `specs/README.md` defines it."""
    if isinstance(value, list):
        return any(filter_matches(flt, v, wanted) for v in value)
    if value is None:
        return wanted.lower() == "null" and flt.allows_null
    if flt.match == "date":
        return _day(value) == wanted
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    if flt.match == "partial":
        return wanted.lower() in text.lower() if flt.case_insensitive else wanted in text
    if flt.match == "enum" or flt.case_insensitive:
        return text.lower() == wanted.lower()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    return text == wanted


def filter_value(flt: FilterFacts, value: Any) -> str | None:
    """A filter value that selects `value` (exercising case-insensitivity and partial matching)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if flt.match == "date":
        return _day(value)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if flt.match == "partial":
        piece = text[1:-1] if len(text) >= 4 else text
        return piece.swapcase() if flt.case_insensitive else piece
    if flt.match == "enum" and flt.case_insensitive:
        return text.swapcase() if text.swapcase() != text else text
    return text


def _list_ops(ctx: ScenarioContext) -> list[tuple[OperationFacts, str, str | None]]:
    """GET list operations with the identity that reads them (a recipe's actor, else the generated one)."""
    owners = {i.object: i for i in recipes_for(ctx.target.project)}
    out = []
    fallback = ctx.target.generated_identity()
    for op in ctx.spec.operations.values():
        if not has_paging(op):
            continue
        if op.path_params == ("userId",):  # a user's own list: read it as the identity that has the most rows
            reader = _richest_reader(ctx, op)
            if reader is not None:
                out.append((op, reader.name, reader.tenant or any_tenant(ctx)))
                continue
        item = owners.get(op.data_object)
        if item is not None and ctx.target.identity(item.actor) is not None:
            out.append((op, item.actor, tenant_for(ctx, item)))
        elif fallback is not None:
            out.append((op, fallback.name, fallback.tenant or any_tenant(ctx)))
    return out


def _richest_reader(ctx: ScenarioContext, op: OperationFacts) -> Any:
    """The identity whose own list (`…/{userId}`) has the most rows (None: nobody has a user id)."""
    best, most = None, -1
    for identity in ctx.target.identities.values():
        if not identity.token or not identity.user_id:
            continue
        reply = ctx.api(identity.name).call(op.api, path={"userId": identity.user_id}, query={"pageRowCount": 1},
                                            tenant=identity.tenant or any_tenant(ctx))
        total = ((reply.json or {}).get("paging") or {}).get("totalRowCount") if reply.ok else None
        if isinstance(total, int) and total > most:
            best, most = identity, total
    return best


def _seed(ctx: ScenarioContext, count: int = 3) -> None:
    """Give every recipe object a few fresh records (deleted again afterwards); objects without a
    recipe get records prepared from the spec, by several users (see `pool.seed`)."""
    if ctx._scratch.get("seeded"):
        return
    ctx._scratch["seeded"] = True
    seed(ctx, count)
    for item in recipes_for(ctx.target.project):
        if item.object not in ctx.spec.objects:
            continue
        try:
            if item.prepare:
                item.prepare(ctx)
            ctx.identity(item.actor)
        except Skip:
            continue
        obj = ctx.spec.object(item.object)
        api = ctx.api(item.actor)
        tenant = tenant_for(ctx, item)
        for _ in range(count):
            reply = api.call(default_api(obj, "create"), body=item.body(ctx, ctx.unique()), tenant=tenant)
            if reply.ok and isinstance(reply.data, dict) and (delete_api := obj.default_apis.get("delete")):
                delete = ctx.spec.op(delete_api)
                record_id = reply.data.get("id")
                ctx.cleanup(functools.partial(api.call, delete.api, path={delete.path_params[0]: record_id}, tenant=tenant,
                                              judge_answer=False))


def filter_forms(flt: FilterFacts) -> list[str]:
    """The documented forms of a filter, each a rule: single (with its case/partial/date matching),
    multiple (`?x=a&x=b` means any of them), `null` (matches unset), and each date special."""
    forms = ["returns-exactly-matching"]
    if flt.multiple:
        forms.append("repeated-means-any-of")
    if flt.allows_null and not flt.is_array:
        forms.append("null-matches-unset")
    forms += [f"date-special-{special.split('-<')[0].lstrip('$')}" for special in flt.specials]
    return forms


def _filter_rules(target: ServiceTarget) -> list[str]:
    return [f"{form}[{op.api}.{f.name}]" for op in target.spec.operations.values() if has_paging(op)
            for f in op.filters if f.match != "any" for form in filter_forms(f)]


def special_value(special: str, rows: list[dict[str, Any]], prop: str) -> str:
    """A value of the date special `special` (`$leq-<date>`, `$lin-<date>` take a day some row has)."""
    if "-<" not in special:
        return special
    days = sorted(d for d in (_day(r.get(prop)) for r in rows) if d)
    day = days[len(days) // 2] if days else datetime.now(UTC).strftime("%Y-%m-%d")
    return special.split("-<")[0] + "-" + day


def _matches_any(flt: FilterFacts, value: Any, wanted: list[str]) -> bool:
    """A repeated filter's meaning: the value matches any of the wanted ones."""
    return any(filter_matches(flt, value, one) for one in wanted)


def special_matches(special: str, value: Any, now: datetime) -> bool:
    """Whether a date `value` falls in the date special's range (as `specs/README.md` defines them, UTC)."""
    if value is None:
        return False
    if isinstance(value, list):
        return any(special_matches(special, v, now) for v in value)
    day = _day(value)
    if day is None:
        return False
    today = now.astimezone(UTC).date()
    when = datetime.fromisoformat(day).date()
    monday = today - timedelta(days=today.weekday())
    if special == "$today":
        return when == today
    if special == "$ltoday":
        return when < today
    if special == "$week":
        return monday <= when < monday + timedelta(days=7)
    if special == "$lweek":
        return monday - timedelta(days=7) <= when < monday
    if special == "$month":
        return (when.year, when.month) == (today.year, today.month)
    if special.startswith("$leq-"):
        return day <= special[5:]
    if special.startswith("$lin-"):
        return day >= special[5:]
    return False


def _decoy(flt: FilterFacts, ctx: ScenarioContext, op: OperationFacts, wanted: str) -> str:
    """Another valid filter value than `wanted` (to put first in a repeated filter): another enum
    option, a day long past, a fresh id or text no row holds."""
    obj = ctx.spec.objects.get(op.data_object)
    prop = obj.properties.get(flt.property) if obj else None
    if prop is not None and prop.enum:
        return next((o for o in prop.enum if o.lower() != wanted.lower()), wanted)
    if flt.match == "date":
        return "1971-01-01"
    if flt.type == "ID":
        return str(uuid.uuid4())
    return ctx.unique("zz-nomatch-")


@dataclass
class _Listing:
    """A list operation as one identity reads it, with its full rows: judges a filtered read against them."""

    ctx: ScenarioContext
    api: Api
    op: OperationFacts
    path: dict[str, Any] | None
    tenant: str | None
    rows: list[dict[str, Any]]
    complete: bool

    def judge(self, rule: str, flt: FilterFacts, query: Any, matches: Callable[[Any], bool], shown: str) -> None:
        """Filter by `query`: no row that does not match, and (full list known) none that matches left out."""
        got, reply = list_all(self.api, self.op, path=self.path, tenant=self.tenant, query={flt.name: query})
        if not reply.ok:
            self.ctx.expect(rule, False, f"{reply.describe()}; filtering by {shown} failed", operation=self.op.api, fatal=False)
            return
        strays = [r.get("id") for r in got if not matches(r.get(flt.property))]
        missing = []
        if self.complete:
            got_ids = {r.get("id") for r in got}
            missing = [r.get("id") for r in self.rows if matches(r.get(flt.property)) and r.get("id") not in got_ids]
        self.ctx.expect(rule, not strays and not missing,
                        f"{shown} ({flt.match}): {len(strays)} rows that do not match {strays[:3]}, "
                        f"{len(missing)} matching rows left out {missing[:3]}", operation=self.op.api, fatal=False)


@scenario("filters.exact", rules=_filter_rules, order=80, title="every list filter, in each documented form, returns exactly the matching records")
def filters_exact(ctx: ScenarioContext) -> None:
    """For each list filter and each of its documented forms (single, repeated, null, date specials):
    the filtered rows all match, and every matching row of the full list is there."""
    _seed(ctx)
    for op, actor, tenant in _list_ops(ctx):
        api = ctx.api(actor)
        path = path_values(ctx, op, actor)
        filters = [f for f in op.filters if f.match != "any"]
        if path is None and op.path_params:
            for f in filters:
                for form in filter_forms(f):
                    ctx.skip_rule(f"{form}[{op.api}.{f.name}]", f"no value for the path {op.path_params}", operation=op.api)
            continue
        rows, first = list_all(api, op, path=path, tenant=tenant)
        total = ((first.json or {}).get("paging") or {}).get("totalRowCount") if first.ok else None
        complete = first.ok and isinstance(total, int) and len(rows) >= total

        listing = _Listing(ctx, api, op, path, tenant, rows, complete)
        judge = listing.judge

        for flt in filters:
            rule = f"returns-exactly-matching[{op.api}.{flt.name}]"
            if not first.ok:
                for form in filter_forms(flt):
                    ctx.skip_rule(f"{form}[{op.api}.{flt.name}]", f"listing as {actor} failed: {first.describe()}", operation=op.api)
                continue
            values = list(dict.fromkeys(v for v in (filter_value(flt, r.get(flt.property)) for r in rows) if v))
            if not values:
                for form in filter_forms(flt):
                    if form in ("returns-exactly-matching", "repeated-means-any-of"):
                        ctx.skip_rule(f"{form}[{op.api}.{flt.name}]", f"no {op.data_name} row has a {flt.property} to filter by",
                                      operation=op.api)
            else:
                # prefer a value that selects some rows but not all, so an ignored filter shows
                selective = [v for v in values if 0 < sum(filter_matches(flt, r.get(flt.property), v) for r in rows) < len(rows)]
                wanted = (selective or values)[0]
                judge(rule, flt, wanted, functools.partial(filter_matches, flt, wanted=wanted), f"{flt.name}={wanted!r}")
                if flt.multiple:
                    # the value that selects rows goes last: a backend using only the first value shows
                    other = next((v for v in values if v != wanted and not any(
                        filter_matches(flt, r.get(flt.property), v) and filter_matches(flt, r.get(flt.property), wanted)
                        for r in rows)), None) or _decoy(flt, ctx, op, wanted)
                    pair = [other, wanted]
                    judge(f"repeated-means-any-of[{op.api}.{flt.name}]", flt, pair,
                          functools.partial(_matches_any, flt, wanted=pair),
                          f"{flt.name}={pair[0]!r}&{flt.name}={pair[1]!r}")
            if flt.allows_null and not flt.is_array:
                judge(f"null-matches-unset[{op.api}.{flt.name}]", flt, "null", lambda value: value is None, f"{flt.name}=null")
            now = datetime.now(UTC)
            for special in flt.specials:
                name = special.split("-<")[0].lstrip("$")
                wanted_special = special_value(special, rows, flt.property)
                judge(f"date-special-{name}[{op.api}.{flt.name}]", flt, wanted_special,
                      functools.partial(special_matches, wanted_special, now=now), f"{flt.name}={wanted_special}")


def _paging_rules(target: ServiceTarget) -> list[str]:
    return [f"pages-partition-the-list[{op.api}]" for op in target.spec.operations.values() if has_paging(op)]


@scenario("paging.consistent", rules=_paging_rules, order=80,
          title="paging: pages hold pageRowCount rows, totalRowCount counts every row, pages partition the list")
def paging_consistent(ctx: ScenarioContext) -> None:
    """Page by one row: each page holds the next row, and paging counts every row of the list."""
    _seed(ctx)
    for op, actor, tenant in _list_ops(ctx):
        rule = f"pages-partition-the-list[{op.api}]"
        api = ctx.api(actor)
        path = path_values(ctx, op, actor)
        if path is None and op.path_params:
            ctx.skip_rule(rule, f"no value for the path {op.path_params}", operation=op.api)
            continue
        rows, first = list_all(api, op, path=path, tenant=tenant)
        if not first.ok or len(rows) < 2:
            ctx.skip_rule(rule, f"needs 2 rows visible to {actor}, has {len(rows)} ({first.describe()})", operation=op.api)
            continue
        total = len(rows)
        problems = []
        pages = min(total, 3)
        for number in range(1, pages + 1):
            reply = api.call(op.api, path=path, query={"pageNumber": number, "pageRowCount": 1},
                             tenant=DEFAULT if tenant is None else tenant)
            paging = (reply.json or {}).get("paging") or {}
            ids = [r.get("id") for r in reply.records]
            if not reply.ok:
                problems.append(f"page {number}: {reply.describe()}")
                continue
            if ids != [rows[number - 1].get("id")]:
                problems.append(f"page {number} by 1 holds {ids}, the full list has {rows[number - 1].get('id')} there")
            if paging.get("totalRowCount") != total:
                problems.append(f"page {number}: totalRowCount {paging.get('totalRowCount')}, the list has {total} rows")
            if paging.get("pageCount") != math.ceil(total / 1):
                problems.append(f"page {number}: pageCount {paging.get('pageCount')}, expected {total}")
        beyond = api.call(op.api, path=path, query={"pageNumber": total + 1, "pageRowCount": 1},
                          tenant=DEFAULT if tenant is None else tenant)
        if beyond.ok and beyond.records:
            problems.append(f"page {total + 1} by 1 (past the end) holds {len(beyond.records)} rows")
        ctx.expect(rule, not problems, "; ".join(problems[:4]), operation=op.api, fatal=False)
