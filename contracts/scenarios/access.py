"""The role table, pair by pair: every API of the spec called once as every role the spec names.

The table is the spec's: an operation's `x-twin-access` lists the roles that may call it (written
from the service's role overlay); an operation without one is open to every role. For each
operation and each role (`x-twin-roles`, plus any role a table names), one request as an identity of
that role, built to pass everything but the role check while changing nothing:

- the path's record ids are fresh UUIDs nobody has (`userId`: the caller's own), so an allowed
  update or delete finds nothing to change (404);
- the body is the spec's example with every id in it replaced by such a UUID: well-formed, so a
  backend that validates before it authorizes still reaches the role check, and pointing at records
  that do not exist, so an allowed create is refused by its own pre-conditions. One that creates a
  record anyway (nothing to point at) has it deleted again at once;
- the tenant header names the caller's tenant (a platform role's: one of the target's tenants).

A role the table leaves out must be refused with 403 (its error envelope is judged like every
answer's). A role it lists must get past authorization: any answer but 401/403 (a 400 or 404 from a
pre-condition is the operation's business, not the table's).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from ..client import Api, Reply
from ..spec import OperationFacts, ServiceSpec
from ..target import Identity, ServiceTarget
from .base import ScenarioContext, scenario
from .lookups import any_tenant

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def roles_of(spec: ServiceSpec) -> list[str]:
    """The service's roles: those the spec names, then any other a role table lists (sorted)."""
    named = list(spec.roles)
    listed = sorted({role for op in spec.operations.values() for role in op.access or ()} - set(named))
    return named + listed


def pair_rule(op: OperationFacts, role: str) -> str:
    """The rule judging one (API, role) pair: `refused[api:role]` or `allowed[api:role]`."""
    verdict = "allowed" if op.access is None or role in op.access else "refused"
    return f"{verdict}[{op.api}:{role}]"


def _pair_rules(target: ServiceTarget) -> list[str]:
    roles = roles_of(target.spec)
    return [pair_rule(op, role) for op in target.spec.operations.values() for role in roles]


def _fresh_ids(value: Any) -> Any:
    """`value` with every UUID in it replaced by a fresh one (a record nobody has)."""
    if isinstance(value, str) and _UUID.match(value):
        return str(uuid.uuid4())
    if isinstance(value, list):
        return [_fresh_ids(item) for item in value]
    if isinstance(value, dict):
        return {key: _fresh_ids(item) for key, item in value.items()}
    return value


def _example_body(spec: ServiceSpec, op: OperationFacts) -> Any:
    """The spec's request-body example of `op` with fresh ids (`{}` when it shows none)."""
    raw = ((spec.raw.get("paths") or {}).get(op.path) or {}).get(op.method.lower()) or {}
    media = ((raw.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
    example = media.get("example")
    return _fresh_ids(example) if isinstance(example, dict) else {}


def _path(op: OperationFacts, identity: Identity) -> dict[str, Any]:
    return {name: identity.user_id if name == "userId" and identity.user_id else str(uuid.uuid4())
            for name in op.path_params}


def _undo(ctx: ScenarioContext, op: OperationFacts, reply: Reply, tenant: str | None) -> None:
    """Delete what an allowed call created after all (as a role the delete operation allows)."""
    record = reply.data if reply.ok and op.action == "create" else None
    obj = ctx.spec.objects.get(op.data_object)
    delete_api = obj.default_apis.get("delete") if obj is not None else None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or delete_api not in ctx.spec.operations:
        return  # nothing made, or nothing to delete it with: the run's clean-up reports it
    delete = ctx.spec.op(str(delete_api))
    deleter = next((i for i in ctx.target.identities.values()
                    if i.token and (delete.access is None or i.role in delete.access)), None)
    if deleter is not None and len(delete.path_params) == 1:
        ctx.api(deleter.name).call(delete.api, path={delete.path_params[0]: record["id"]}, tenant=tenant)


@scenario("roles.table", rules=_pair_rules, order=20,
          title="every API answers each role as the spec's role table says: 403 to a role it leaves out")
def role_table(ctx: ScenarioContext) -> None:
    """One request per (API, role): refused roles answer 403, allowed roles get past authorization."""
    spec = ctx.spec
    for role in roles_of(spec):
        identity = next((i for i in ctx.target.by_role(role) if i.token), None)
        if identity is None:
            for op in spec.operations.values():
                ctx.skip_rule(pair_rule(op, role), f"no identity of role {role} (set TWIN_TOKEN_"
                              f"{ctx.target.project.upper()}_{role.upper()} or an identity with role: {role})",
                              operation=op.api)
            continue
        api: Api = ctx.api(identity.name)
        tenant = (identity.tenant or any_tenant(ctx)) if spec.tenant_header else None
        for op in spec.operations.values():
            body = _example_body(spec, op) if op.method in ("POST", "PATCH", "PUT") else None
            reply = api.call(op.api, path=_path(op, identity), body=body, tenant=tenant)
            rule = pair_rule(op, role)
            if rule.startswith("refused"):
                allowed = ", ".join(sorted(op.access or ()))
                ctx.expect(rule, reply.status == 403,
                           f"{reply.describe()} as {identity.describe()}; the role table lets only {allowed} call "
                           f"{op.api}: expected 403", operation=op.api, fatal=False)
            else:
                ctx.expect(rule, reply.status not in (401, 403),
                           f"{reply.describe()} as {identity.describe()}; the role table lets {role} call {op.api} "
                           "(a pre-condition may refuse it, authorization may not)", operation=op.api, fatal=False)
                _undo(ctx, op, reply, tenant)
