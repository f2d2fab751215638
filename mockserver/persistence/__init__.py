"""Durable state: the twin keeps serving from memory and writes every change through to a backend.

The in-memory store (tables, indexes, the fake Stripe's dicts) stays the only thing reads touch.
A `Keeper` (keeper.py) watches it and, at the end of every request that changed something, hands
the backend one `Changes` — the records, objects and settings written since the last one — which
the backend applies atomically before the answer leaves. At start the backend's `Snapshot` is
loaded back into memory.

A backend is anything with `load`, `commit`, `upkeep` and `close` (`StateBackend`): `SqliteBackend`
(sqlite.py, `--state-file`) is the one there is; a shared one (Redis, for several twin processes)
plugs in at the same place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class StateFileError(ValueError):
    """The state file cannot be used (not a twin state, damaged, unwritable…): one line for the user."""

    def __init__(self, location: str | Path, problem: str) -> None:
        super().__init__(f"state file {location}: {problem}")


class StateWriteError(RuntimeError):
    """A change could not be saved (disk full, file removed…); the change stays pending."""


@dataclass
class Changes:
    """One atomic step: everything written since the previous step.

    A backend applies, in this order: `clear_records`, `cleared_tables`, `cleared_kinds`,
    `deleted`, then the upserts (`records`, `objects`) and `meta`. Either all of it or nothing.
    """

    clear_records: bool = False  # drop every record first (the world was reset or replaced)
    cleared_tables: list[str] = field(default_factory=list)  # drop these tables' records first
    records: list[tuple[str, int, bytes]] = field(default_factory=list)  # (table key, slot, record JSON)
    cleared_kinds: list[str] = field(default_factory=list)  # drop every object of these kinds first
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (kind, id)
    # (kind, id, body): a new id goes after every object stored so far; a known one keeps its place.
    objects: list[tuple[str, str, bytes]] = field(default_factory=list)
    meta: dict[str, bytes] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.clear_records or self.cleared_tables or self.records or self.cleared_kinds
                    or self.deleted or self.objects or self.meta)


@dataclass
class Snapshot:
    """Everything a backend holds, as `load` returns it."""

    meta: dict[str, bytes]
    records: dict[str, list[bytes]]  # table key → record JSON, in slot order
    objects: dict[str, list[tuple[str, bytes]]]  # kind → (id, body), in the order first stored


class StateBackend(Protocol):
    """Where the twin's state is kept."""

    location: str
    """What to call it in messages (a file name, a URL)."""

    def load(self) -> Snapshot | None:
        """The stored state; None when the store is new (nothing committed yet)."""

    def commit(self, changes: Changes) -> None:
        """Apply `changes` atomically and durably; raise StateWriteError (nothing applied) if that fails."""

    async def upkeep(self) -> None:
        """Background housekeeping (a WAL checkpoint…), called now and then off the request path."""

    def close(self) -> None:
        """Release the store (after a last `commit`)."""


__all__ = ["Changes", "Snapshot", "StateBackend", "StateFileError", "StateWriteError"]
