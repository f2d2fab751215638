"""What a service's business module plugs into the generic engine.

A `Workflow` names, for its service: which roles may call which API (`access`, read from the
spec's `x-twin-access`, which the service's role overlay beside its guide states), what each role
may see of each data object (`scope`), and the handlers of the APIs whose behaviour is more than
generic CRUD (`handlers`). An API without a handler runs the engine's generic action for it, so a
reader finds a route's behaviour either in `mockserver/crud.py` or in the service's module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..context import Context, Handler, ScopeRule, everyone
from ..specindex import DataObjectSpec, ServiceSpec
from ..store import Table

# What a workflow module builds with.
__all__ = ["Handler", "ScopeRule", "Workflow", "everyone", "foreign_table", "object_spec"]


def object_spec(ctx: Context, name: str) -> DataObjectSpec:
    """The data object `name` of the caller's service (KeyError when the spec has none)."""
    return ctx.state.spec.data_objects[name]


def foreign_table(ctx: Context, name: str) -> Table:
    """The project's foreign fixture table `name` (`user`, `coursePack`, `listing`, …). A workflow
    asks only for tables its project's fixtures always hold, so a missing one is a twin bug."""
    table = ctx.foreign(name)
    if table is None:
        raise RuntimeError(f"{ctx.project} fixtures have no {name} table")
    return table


@dataclass
class Workflow:
    """A service's plug-in: role table, visibility scopes and business handlers."""

    name: str = "generic"
    access: dict[str, frozenset[str]] = field(default_factory=dict)
    scope: ScopeRule = everyone
    handlers: dict[str, Handler] = field(default_factory=dict)
    platform_roles: frozenset[str] = frozenset()
    # APIs Stripe calls: a request carrying `Stripe-Signature` reaches their handler without a
    # bearer token (the handler verifies the signature instead).
    webhook_apis: frozenset[str] = frozenset()
    notes: dict[str, str] = field(default_factory=dict)

    # Rule mutants that let one more role call one API: mutant name → (API, role).
    loosened: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def for_spec(cls, spec: ServiceSpec, *, handlers: dict[str, Handler] | None = None, **options: Any) -> Workflow:
        """A service's workflow: the role table its spec states (`x-twin-access`), and the handlers
        kept to the APIs `spec` defines."""
        apis = {op.api for op in spec.operations}
        return cls(access={op.api: op.access for op in spec.operations if op.access is not None},
                   handlers={api: handler for api, handler in (handlers or {}).items() if api in apis}, **options)

    def allows(self, api: str, role: str, active: Callable[[str], bool] = lambda name: False) -> bool:
        """True when `role` may call `api` (APIs missing from the table are open to every role);
        `active` says which rule mutants are switched on (see `loosened`)."""
        roles = self.access.get(api)
        if roles is None or role in roles:
            return True
        return any(pair == (api, role) and active(name) for name, pair in self.loosened.items())

    def describe(self) -> dict[str, Any]:
        """The role table as the control API and README show it."""
        return {api: sorted(roles) for api, roles in sorted(self.access.items())}
