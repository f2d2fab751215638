"""Deliberate defects the twin can be started with (`twin serve --mutant NAME`).

They exist to judge the conformance suite: `tests/contracts` starts the twin with one defect at a
time and asserts that `twin verify` notices. A clean twin has none active. Two kinds:

- response mutants rewrite an answer after the engine produced it (a wrong status, a missing
  envelope key, a wrong `_idx`): registered with `@response_mutant`;
- rule mutants switch off one rule where the rule lives; the engine or a workflow module asks
  `world.mutants.is_active(name)` at that point (e.g. `tenant-leak`, `unsigned-webhook`).

The registries of defects (`RESPONSE_MUTANTS`, `RULE_MUTANTS`) are static, filled at import. Which
defects are switched on is runtime state of one twin: an `ActiveMutants` held by its `World`, so
two twins in one process never share it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

ResponseRewrite = Callable[[dict[str, Any], int, Any], tuple[int, Any]]
"""(operation facts, status, body) → (status, body). Operation facts: method, action, api, dataName, list."""

RESPONSE_MUTANTS: dict[str, ResponseRewrite] = {}
RULE_MUTANTS: dict[str, str] = {}


def response_mutant(name: str) -> Callable[[ResponseRewrite], ResponseRewrite]:
    """Register a response-rewriting defect under `name`."""
    def register(func: ResponseRewrite) -> ResponseRewrite:
        RESPONSE_MUTANTS[name] = func
        return func
    return register


def rule_mutant(name: str, description: str) -> str:
    """Declare a rule defect; the code that enforces the rule checks `world.mutants.is_active(name)`."""
    RULE_MUTANTS[name] = description
    return name


FILTER_FIRST_VALUE_ONLY = rule_mutant("filter-first-value-only", "a repeated filter (?x=a&x=b) applies only its first value")
FILTER_NULL_IGNORED = rule_mutant("filter-null-ignored", "?x=null is ignored instead of matching unset fields")
DATE_SPECIAL_IGNORED = rule_mutant("date-special-ignored", "date specials ($today, $leq-<date>, …) are ignored")


class ActiveMutants:
    """The defects switched on in one twin (a clean twin: none). Held by its `World`
    (`world.mutants`); the control API's `/__twin/mutants` switches them."""

    __slots__ = ("_names", "_rewrites")

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names: frozenset[str] = frozenset()
        self._rewrites: tuple[ResponseRewrite, ...] = ()
        self.activate(names)

    def activate(self, names: Iterable[str]) -> None:
        """Switch these defects on (and every other off). Unknown names raise ValueError naming
        the known ones (the registries must be loaded: see `app.load_mutant_catalog`)."""
        wanted = frozenset(names)
        unknown = wanted - set(RESPONSE_MUTANTS) - set(RULE_MUTANTS)
        if unknown:
            raise ValueError(f"unknown mutant(s): {', '.join(sorted(unknown))}; known: {', '.join(available())}")
        self._names = wanted
        self._rewrites = tuple(RESPONSE_MUTANTS[name] for name in sorted(wanted) if name in RESPONSE_MUTANTS)

    def any_active(self) -> bool:
        """True when any defect is switched on."""
        return bool(self._names)

    def is_active(self, name: str) -> bool:
        """True when the defect `name` is switched on."""
        return name in self._names

    def names(self) -> list[str]:
        """The defects switched on, sorted."""
        return sorted(self._names)

    def active_rewrites(self) -> tuple[ResponseRewrite, ...]:
        """The response rewrites switched on, in name order."""
        return self._rewrites

    def filter_values(self, values: list[Any] | None) -> list[Any] | None:
        """A list filter's values as the active filter defects see them (unchanged on a clean twin)."""
        active = self._names
        if not active or not values:
            return values
        if FILTER_FIRST_VALUE_ONLY in active:
            values = values[:1]
        if FILTER_NULL_IGNORED in active:
            values = [v for v in values if v != "null"]
        if DATE_SPECIAL_IGNORED in active:
            values = [v for v in values if not (isinstance(v, str) and v.startswith("$"))]
        return values


def available() -> list[str]:
    """Every defect name, sorted."""
    return sorted({*RESPONSE_MUTANTS, *RULE_MUTANTS})
