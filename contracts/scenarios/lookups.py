"""Look-ups every scenario module shares: the tenant a call names, and every row of a list."""

from __future__ import annotations

from typing import Any

from ..client import Api, Reply
from ..spec import OperationFacts
from .base import ScenarioContext
from .recipes import Recipe


def tenant_for(ctx: ScenarioContext, item: Recipe) -> str | None:
    """The tenant codename a recipe's writes name (the actor's own, else `tenant_of`'s)."""
    if not ctx.spec.tenant_header:
        return None
    actor = ctx.identity(item.actor)
    if actor.tenant:
        return actor.tenant
    if item.tenant_of:
        return ctx.identity(item.tenant_of).tenant
    return any_tenant(ctx)


def any_tenant(ctx: ScenarioContext) -> str | None:
    """Some tenant codename known to the target (for calls that only need a well-formed header)."""
    for identity in ctx.target.identities.values():
        if identity.tenant:
            return identity.tenant
    return None


def list_all(api: Api, op: OperationFacts, query: dict[str, Any] | None = None, path: dict[str, Any] | None = None,
             tenant: Any = None, limit: int = 5000) -> tuple[list[dict[str, Any]], Reply]:
    """Every row of a list operation (walking pages of the maximum size); answers (rows, first reply)."""
    size = api.spec.max_page_size
    rows: list[dict[str, Any]] = []
    first: Reply | None = None
    page = 1
    extra = {"tenant": tenant} if tenant is not None else {}
    while True:
        reply = api.call(op.api, path=path, query={**(query or {}), "pageNumber": page, "pageRowCount": size}, **extra)
        first = first or reply
        if not reply.ok:
            return rows, first
        got = reply.records
        rows.extend(got)
        paging = (reply.json or {}).get("paging") or {}
        total = paging.get("totalRowCount")
        if len(got) < size or not isinstance(total, int) or len(rows) >= total or len(rows) >= limit:
            return rows, first
        page += 1
