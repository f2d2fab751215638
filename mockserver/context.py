"""What a handler gets (`Context`) and gives back (`Result`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .identity import Identity
from .specindex import DataObjectSpec, Operation
from .store import Table

if TYPE_CHECKING:
    from .workflows.base import Workflow
    from .world import ServiceState, World


@dataclass
class Result:
    """A handler's answer: the resource (record or list of records) and what goes around it."""

    data: Any
    total: int | None = None
    page_number: int = 1
    page_size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    filters: list[Any] = field(default_factory=list)
    presented: bool = False


@dataclass(slots=True)
class Context:
    """One request, parsed and authenticated: everything a handler reads (slots: one is built per
    request)."""

    world: World
    state: ServiceState
    op: Operation
    workflow: Workflow
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
        from .identity import system_identity
        from .workflows.base import Workflow

        return cls(world=world, state=state, op=state.spec.operations[0], workflow=Workflow(),
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
