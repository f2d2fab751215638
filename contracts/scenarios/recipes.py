"""Recipes: how to make a valid record of a data object on a service, for the generic stateful
scenarios (CRUD, filters, paging). A project module registers one per data object it can create
without business preconditions; the generic scenarios do the rest from the spec's facts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import ScenarioContext

BodyFactory = Callable[["ScenarioContext", str], dict[str, Any]]
UpdateFactory = Callable[["ScenarioContext", dict[str, Any], str], dict[str, Any]]


@dataclass(frozen=True)
class Recipe:
    """How one identity creates, updates and deletes records of one data object."""

    object: str
    actor: str  # identity name (or role) that writes
    body: BodyFactory  # (ctx, unique token) → create body
    update: UpdateFactory | None = None  # (ctx, record, unique token) → update body
    echo: tuple[str, ...] = ()  # body fields that must come back exactly as sent
    tenant_of: str | None = None  # identity whose tenant codename platform actors send
    prepare: Callable[[ScenarioContext], Any] | None = None  # checks preconditions (ctx.skip when unmet)


RECIPES: dict[str, list[Recipe]] = {}


def recipe(project: str, item: Recipe) -> Recipe:
    """Register `item` for `project`."""
    RECIPES.setdefault(project, []).append(item)
    return item


def recipes_for(project: str) -> list[Recipe]:
    return list(RECIPES.get(project, []))


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def same_value(sent: Any, got: Any) -> bool:
    """Equal as the guide means it: dates as instants, numbers as numbers, lists and objects deeply."""
    if isinstance(sent, bool) or isinstance(got, bool):
        return sent is got or (sent == got and type(sent) is type(got))
    if isinstance(sent, (int, float)) and isinstance(got, (int, float)):
        return float(sent) == float(got)
    a, b = _instant(sent), _instant(got)
    if a is not None and b is not None:
        return a == b
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(same_value(x, y) for x, y in zip(sent, got, strict=True))
    if isinstance(sent, dict) and isinstance(got, dict):
        return sent.keys() == got.keys() and all(same_value(sent[k], got[k]) for k in sent)
    return bool(sent == got)


def differences(expected: dict[str, Any], got: dict[str, Any], keys: list[str] | tuple[str, ...]) -> list[str]:
    """The keys whose values differ (for messages)."""
    out = []
    for key in keys:
        if key not in expected:
            continue
        if key not in got:
            out.append(f"{key} missing")
        elif not same_value(expected[key], got[key]):
            out.append(f"{key}: expected {expected[key]!r}, got {got[key]!r}")
    return out
