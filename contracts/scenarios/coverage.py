"""Coverage instead of skips: make every operation answer at least once with success, on any guide.

The response rules (envelope, record keys, enums, value types) are only worth something on an
operation that answered a success. The other scenarios reach most operations; this one runs after
them and calls each operation that has not answered a success yet, with records it prepares from
the spec alone:

- one record of each data object the operations need, made by the project's recipe when there is
  one, else from the create operation's body parameters — values taken from records the run already
  made or can read, relations filled with the ids of such records (`user` relations with the
  caller's own id), the rest synthesized from the guide's types and enum options;
- path parameters from those records (`<object>Id` = a record's id, other names = a record's field
  of that name, `userId` = the caller's);
- as each identity in turn (the one Schemathesis calls as first), until one answers 2xx.

Operations that change or delete records only ever touch records this run created. Whatever still
never answered a success is a coverage gap in the report (a warning; `--fail-on-gaps` fails).
"""


from __future__ import annotations

from typing import Any

from ..client import Api, Reply
from ..spec import OperationFacts
from ..target import Identity
from .base import ScenarioContext, Skip, scenario
from .lookups import list_all, tenant_for
from .pool import Pool, body_for, identities, path_for, shared_pool, tenant_of
from .recipes import recipes_for

_PICKS = 4
# Order in which operations are tried: what makes records first, what removes them last.
_ORDER = {"create": 0, "get": 1, "list": 2, "update": 3, "delete": 4}


def _attempt(ctx: ScenarioContext, pool: Pool, op: OperationFacts) -> Reply | None:
    """Call `op` as each identity until one answers 2xx; answers that reply (None: none did)."""
    tried = ctx._scratch.setdefault("coverage-tried", set())
    if op.api in tried:
        return None
    tried.add(op.api)
    writable = op.method != "GET" and op.action != "create"
    for identity in identities(ctx):
        sent: list[Any] = []
        for pick in range(_PICKS):  # another of the run's records when one does not fit (e.g. an order never paid)
            path = path_for(ctx, pool, op, identity, writable, pick)
            if path is None:
                break
            api: Api = ctx.api(identity.name)
            body = body_for(ctx, pool, op, identity, writable, pick=pick) if op.method in ("POST", "PATCH", "PUT") else None
            if (path, body) in sent:
                break
            sent.append((path, body))
            reply = api.call(op.api, path=path, body=body if body is not None else {} if op.method != "GET" else None,
                             tenant=tenant_of(ctx, identity))
            if reply.ok:
                return reply
            if reply.status in (401, 403):
                break  # this identity may not: try the next one
    return None


def _create(ctx: ScenarioContext, pool: Pool, obj: str) -> None:
    """One record of `obj` this run owns: by the project's recipe, else from the create operation."""
    facts = ctx.spec.objects[obj]
    create_api = facts.default_apis.get("create")
    if not create_api or pool.own.get(obj):
        return
    for item in recipes_for(ctx.target.project):
        if item.object != obj:
            continue
        try:
            if item.prepare:
                item.prepare(ctx)
            reply = ctx.api(item.actor).call(create_api, body=item.body(ctx, ctx.unique()), tenant=tenant_for(ctx, item))
        except Skip:
            continue
        if reply.ok and isinstance(reply.data, dict):
            pool.add(obj, reply.data, own=True)
            return
    # relation targets first, so the new record can point at them
    for relation in facts.relations:
        target = relation.get("target")
        if target in ctx.spec.objects and target != obj and not pool.records(str(target), False):
            _create(ctx, pool, str(target))
    made = _attempt(ctx, pool, ctx.spec.op(create_api))
    if made is not None and isinstance(made.data, dict):
        pool.add(obj, made.data, own=True)


@scenario("coverage.every-operation", rules=(), order=70,
          title="every operation answers a success at least once (records prepared from the spec), so its response rules are exercised")
def every_operation(ctx: ScenarioContext) -> None:
    """Call each operation that has not answered a success yet, with records prepared for it."""
    done = ctx.tally.succeeded()
    todo = [op for op in ctx.spec.operations.values() if (ctx.target.name, op.api) not in done]
    if not todo:
        return
    pool = shared_pool(ctx)
    needed = {op.data_object for op in todo if op.data_object in ctx.spec.objects}
    for obj in sorted(needed):
        _create(ctx, pool, obj)
    for op in sorted(todo, key=lambda o: _ORDER.get(o.action, 2)):
        if (ctx.target.name, op.api) in ctx.tally.succeeded():
            continue
        reply = _attempt(ctx, pool, op)
        if reply is not None and op.action == "create" and isinstance(reply.data, dict) and op.data_object in ctx.spec.objects:
            pool.add(op.data_object, reply.data, own=True)


# -- tenancy, for any guide with a tenant header ---------------------------------------------------
def _tenancy_rules(target: Any) -> list[str]:
    if not target.spec.tenant_header:
        return []
    gets = [o.api for o in target.spec.operations.values()
            if o.action == "get" and o.method == "GET" and len(o.path_params) == 1 and o.default_api == "get"]
    return [f"other-tenant-cannot-read[{api}]" for api in gets] + ["foreign-tenant-header-refused"]


def _tenant_pair(ctx: ScenarioContext) -> tuple[Identity, Identity]:
    tenants: dict[str, Identity] = {}
    for identity in identities(ctx):
        if identity.tenant and identity.tenant not in tenants:
            tenants[identity.tenant] = identity
    ctx.require(len(tenants) >= 2, "needs identities of two tenants (TWIN_TENANT_<PROJECT>_<IDENTITY> or identities.*.tenant)")
    first, second = list(tenants.values())[:2]
    return first, second


@scenario("tenancy.isolation", rules=_tenancy_rules, order=75,
          title="one tenant never reads another's records; a foreign tenant header is refused")
def tenancy_isolation(ctx: ScenarioContext) -> None:
    """Records one tenant can read are invisible to a user of another tenant, by id and by header."""
    owner, stranger = _tenant_pair(ctx)
    pool = Pool(ctx)
    mine = ctx.api(owner.name)
    theirs = ctx.api(stranger.name)
    probed = False
    for rule in _tenancy_rules(ctx.target)[:-1]:
        op = ctx.spec.op(rule[len("other-tenant-cannot-read["):-1])
        listing = next((o for o in ctx.spec.operations.values() if o.data_object == op.data_object and o.action == "list"
                        and o.method == "GET" and not o.path_params), None)
        rows = list_all(mine, listing, tenant=owner.tenant, limit=50)[0] if listing is not None else []
        record = next((r for r in rows if isinstance(r.get("id"), str)), None)
        if record is None:
            ctx.skip_rule(rule, f"{owner.name}@{owner.tenant} has no {op.data_object} to hide", operation=op.api)
            continue
        pool.add(op.data_object, record, own=False)
        reply = theirs.call(op.api, path={op.path_params[0]: record["id"]}, tenant=stranger.tenant)
        ctx.expect(rule, reply.status in (403, 404),
                   f"{reply.describe()}; a user of {stranger.tenant} reads {owner.tenant}'s {op.data_object} {record['id']}",
                   operation=op.api, fatal=False)
        if not probed and listing is not None:
            probed = True
            foreign = theirs.call(listing.api, tenant=owner.tenant)
            ctx.expect("foreign-tenant-header-refused", foreign.status in (401, 403),
                       f"{foreign.describe()}; a user of {stranger.tenant} naming {owner.tenant} in {ctx.spec.tenant_header}",
                       operation=listing.api, fatal=False)
