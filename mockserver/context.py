"""What a handler gets (`Context`) and gives back (`Result`), and the shapes of the functions a
service's workflow plugs in around them (`Handler`, `ScopeRule`).

The engine's lower layers build on this module and it builds on `world.py` only: the workflow a
context carries is seen through the `Plugin` protocol, so `workflows/base.py` (which defines
`Workflow` in terms of these types) imports this module and not the other way round.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

from .filters import Condition
from .identity import Identity, system_identity
from .specindex import DataObjectSpec, Operation
from .store import Table
from .world import ServiceState, World

Handler = Callable[["Context"], Awaitable["Result"]]
ScopeRule = Callable[["Context", str], "list[Condition] | None"]


def everyone(ctx: Context, obj: str) -> list[Condition] | None:
    """The default scope: every authenticated caller sees every record (of its tenant)."""
    return None


class Plugin(Protocol):
    """What a context knows of its service's workflow (a `workflows.base.Workflow`): the scope rule
    the generic actions filter records by."""

    @property
    def scope(self) -> ScopeRule: ...


@dataclass(frozen=True)
class Unscoped:
    """The plug-in of a context acting as the twin itself: every record is in scope."""

    scope: ScopeRule = everyone


NO_EXTRA: Mapping[str, Any] = MappingProxyType({})
"""A result's `extra` when it has none (shared: read-only, so no dict is made per answer)."""


class Result:
    """A handler's answer: the resource (record or list of records) and what goes around it.

    A plain class with slots rather than a dataclass: one is made per request, and a dataclass's
    default factories would make an empty dict and list for every one."""

    __slots__ = ("data", "extra", "filters", "page_number", "page_size", "presented", "total")

    def __init__(self, data: Any, total: int | None = None, page_number: int = 1, page_size: int = 0,
                 extra: Mapping[str, Any] = NO_EXTRA, filters: Sequence[Any] = (), presented: bool = False) -> None:
        self.data = data
        self.total = total
        self.page_number = page_number
        self.page_size = page_size
        self.extra = extra
        self.filters = filters
        self.presented = presented

    def __repr__(self) -> str:
        return f"Result(data={self.data!r}, total={self.total!r}, extra={dict(self.extra)!r})"


@dataclass(slots=True)
class Context:
    """One request, parsed and authenticated: everything a handler reads (slots: one is built per
    request). The engine passes the fields positionally, in this order (engine.py, `_context`)."""

    world: World
    state: ServiceState
    op: Operation
    workflow: Plugin
    identity: Identity
    company: dict[str, Any] | None
    path: dict[str, Any]
    query: dict[str, Any]
    filters: dict[str, list[Any]]
    body: dict[str, Any]
    page_number: int
    page_size: int
    now: datetime
    app: Any = None
    headers: Any = None
    raw_body: bytes = b""
    # Query parameters the operation does not declare ({name, values, ignored}), echoed by lists.
    ignored: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def system(cls, world: World, state: ServiceState) -> Context:
        """A context acting as the twin itself, not as a user (the control API's bulk loads)."""
        return cls(world=world, state=state, op=state.spec.operations[0], workflow=Unscoped(),
                   identity=system_identity(state.spec.project, "twin-control"), company=None, path={}, query={},
                   filters={}, body={}, page_number=1, page_size=1, now=world.clock.now())

    @property
    def project(self) -> str:
        return self.state.spec.project

    @property
    def obj(self) -> DataObjectSpec:
        """The operation's data object (every generic handler needs one)."""
        assert self.op.data_object is not None
        return self.state.spec.data_objects[self.op.data_object]

    def table(self, name: str | None = None) -> Table:
        """The table of a data object of this service (default: the operation's)."""
        return self.state.tables[name or self.op.data_object or ""]

    def foreign(self, name: str) -> Table | None:
        """A foreign fixture table of this project (`user`, `coursePack`, `listing`, …)."""
        return self.world.foreign(self.project, name)

    @property
    def user_id(self) -> str:
        return self.identity.user_id

    @property
    def role(self) -> str:
        return self.identity.role
