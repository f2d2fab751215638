"""Deliberate defects the twin can be started with (`twin serve --mutant NAME`).

They exist to judge the conformance suite: `tests/contracts` starts the twin with one defect at a
time and asserts that `twin verify` notices. A clean twin has none active. Two kinds:

- response mutants rewrite an answer after the engine produced it (a wrong status, a missing
  envelope key, a wrong `_idx`): registered with `@response_mutant`;
- rule mutants switch off one rule where the rule lives; the engine or a workflow module asks
  `is_active(name)` at that point (e.g. `tenant-leak`, `unsigned-webhook`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ResponseRewrite = Callable[[dict[str, Any], int, Any], tuple[int, Any]]
"""(operation facts, status, body) → (status, body). Operation facts: method, action, api, dataName, list."""

_ACTIVE: set[str] = set()
RESPONSE_MUTANTS: dict[str, ResponseRewrite] = {}
RULE_MUTANTS: dict[str, str] = {}


def response_mutant(name: str) -> Callable[[ResponseRewrite], ResponseRewrite]:
    """Register a response-rewriting defect under `name`."""
    def register(func: ResponseRewrite) -> ResponseRewrite:
        RESPONSE_MUTANTS[name] = func
        return func
    return register


def rule_mutant(name: str, description: str) -> str:
    """Declare a rule defect; the code that enforces the rule checks `is_active(name)`."""
    RULE_MUTANTS[name] = description
    return name


def activate(names: list[str] | set[str]) -> None:
    """Switch these defects on (and every other off). Unknown names raise ValueError."""
    unknown = set(names) - set(RESPONSE_MUTANTS) - set(RULE_MUTANTS)
    if unknown:
        raise ValueError(f"unknown mutant(s): {', '.join(sorted(unknown))}; known: {', '.join(available())}")
    _ACTIVE.clear()
    _ACTIVE.update(names)


def any_active() -> bool:
    """True when any defect is switched on."""
    return bool(_ACTIVE)


def is_active(name: str) -> bool:
    """True when the defect `name` is switched on."""
    return name in _ACTIVE


def active_rewrites() -> list[ResponseRewrite]:
    """The response rewrites currently switched on."""
    if not _ACTIVE:
        return []
    return [RESPONSE_MUTANTS[name] for name in sorted(_ACTIVE) if name in RESPONSE_MUTANTS]


FILTER_FIRST_VALUE_ONLY = rule_mutant("filter-first-value-only", "a repeated filter (?x=a&x=b) applies only its first value")
FILTER_NULL_IGNORED = rule_mutant("filter-null-ignored", "?x=null is ignored instead of matching unset fields")
DATE_SPECIAL_IGNORED = rule_mutant("date-special-ignored", "date specials ($today, $leq-<date>, …) are ignored")


def filter_values(values: list[Any] | None) -> list[Any] | None:
    """A list filter's values as the active filter defects see them (unchanged on a clean twin)."""
    if not _ACTIVE or not values:
        return values
    if FILTER_FIRST_VALUE_ONLY in _ACTIVE:
        values = values[:1]
    if FILTER_NULL_IGNORED in _ACTIVE:
        values = [v for v in values if v != "null"]
    if DATE_SPECIAL_IGNORED in _ACTIVE:
        values = [v for v in values if not (isinstance(v, str) and v.startswith("$"))]
    return values


def available() -> list[str]:
    """Every defect name, sorted."""
    return sorted({*RESPONSE_MUTANTS, *RULE_MUTANTS})
