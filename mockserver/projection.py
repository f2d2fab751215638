"""How a stored record is shown: the full record, or the guide's select list, plus joined objects."""

from __future__ import annotations

from typing import Any

from .context import Context


def _lookup(ctx: Context, target: str, rid: Any) -> dict[str, Any] | None:
    if not isinstance(rid, str):
        return None
    if target in ctx.state.tables:
        return ctx.state.tables[target].get(rid)
    elsewhere = ctx.world.owned_elsewhere(ctx.project, target, ctx.state.spec.slug)
    found = elsewhere[0].get(rid) if elsewhere is not None else None
    if found is None and (table := ctx.foreign(target)) is not None:
        found = table.get(rid)
    return found


def _follow(ctx: Context, record: dict[str, Any], via: list[str], target: str) -> list[dict[str, Any]]:
    """The records reached from `record` through the relation properties in `via`."""
    current = [record]
    for position, prop in enumerate(via):
        found: list[dict[str, Any]] = []
        for item in current:
            value = item.get(prop)
            ids = value if isinstance(value, list) else [value]
            hop_target = target if position == len(via) - 1 else _hop_target(ctx, prop)
            found += [r for r in (_lookup(ctx, hop_target, i) for i in ids) if r is not None]
        current = found
    return current


def _hop_target(ctx: Context, prop: str) -> str:
    for obj in ctx.state.spec.data_objects.values():
        rel = obj.relation(prop)
        if rel is not None:
            return str(rel["target"])
    return prop


def join_value(ctx: Context, record: dict[str, Any], join: dict[str, Any]) -> Any:
    """A joined key's value, shaped as the guide shows it (object or array), fields as listed."""
    target = join.get("target")
    found = _follow(ctx, record, join.get("via") or [], target) if target else []
    shown = [{k: r.get(k) for k in join["fields"]} for r in found]
    if join["isArray"]:
        return shown
    return shown[0] if shown else None


def present(ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    """The record as this operation answers it."""
    op = ctx.op
    if op.full_record and not op.joins:
        return record
    out = dict(record) if op.full_record else {name: record.get(name) for name in op.fields}
    for join in op.joins:
        out[join["key"]] = join_value(ctx, record, join)
    return out
