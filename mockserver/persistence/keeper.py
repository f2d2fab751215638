"""`Keeper`: watches the twin's in-memory state and writes each change through to a `StateBackend`.

What it keeps: every service table and fixture table (a record's stored JSON by slot), the Stripe
event ids each service has applied, the id sequence's position, the clock, the auth API's
registered users, changed passwords and live sessions (and where their id generator stands), and
the fake Stripe's objects, idempotent answers, webhook endpoints and id generators. What it does
not keep: the request journal, injected faults, active mutants and the webhook delivery log (a
run's tooling, not its data).

How it knows what changed, at the cost of a None check when there is no state file:
- tables call `wrote`/`cleared` (the `Table.watcher` hook); a reset of the world calls `attach`
  with its new tables, which marks everything for a full rewrite;
- the fake Stripe's dicts are swapped for `TrackedDict`s, which note every key written, removed
  or looked up (Stripe's code changes a looked-up object in place);
- the clock, the id sequence, the applied-event sets and the auth state (`World.auth_revision`,
  the sessions' count and newest id) are compared with what was saved last.

`flush()` turns all that into one `Changes` and commits it. The pipeline (pipeline.py) waits for
`saved()` before an answer leaves (the requests finishing in one turn of the event loop share a
commit), and a timer catches writes made outside requests (webhook subscribers).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..store import Table
from . import Changes, Snapshot, StateBackend, StateFileError, StateWriteError

if TYPE_CHECKING:
    from ..stripe import FakeStripe
    from ..world import World

log = logging.getLogger("twin.state")

FORMAT = b'"twin-state"'
APPLIED = "applied-events:"
STRIPE_STORE_TABLES = ("customers", "payment_methods", "payment_intents", "charges", "refunds",
                       "checkout_sessions", "line_items", "session_intent_data", "events", "cards")


class TrackedDict(dict[Any, Any]):
    """A dict that notes in `marks` every key written, removed or looked up, and in `cleared` its
    kind when it is emptied. (A looked-up Stripe object may be changed in place by its caller.)"""

    __slots__ = ("cleared", "kind", "marks")

    def __init__(self, kind: str, items: Iterable[tuple[Any, Any]], marks: dict[tuple[str, Any], None],
                 cleared: set[str]) -> None:
        super().__init__(items)
        self.kind = kind
        self.marks = marks
        self.cleared = cleared

    def __getitem__(self, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        self.marks[(self.kind, key)] = None
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return self[key]
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, value)
        self.marks[(self.kind, key)] = None

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, key)
        self.marks[(self.kind, key)] = None

    def pop(self, key: Any, *default: Any) -> Any:
        self.marks[(self.kind, key)] = None
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[Any, Any]:
        key, value = dict.popitem(self)
        self.marks[(self.kind, key)] = None
        return key, value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self.marks[(self.kind, key)] = None
        return dict.setdefault(self, key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self) -> None:
        dict.clear(self)
        self.cleared.add(self.kind)


@dataclass(frozen=True)
class Codec:
    """How one kind of object is stored: its key as text, its value as bytes, and back."""

    key_out: Callable[[Any], str]
    key_in: Callable[[str], Any]
    value_out: Callable[[Any], bytes]
    value_in: Callable[[bytes], Any]


def _same(text: str) -> str:
    return text


JSON = Codec(_same, _same, orjson.dumps, orjson.loads)


def _card_in(body: bytes) -> Any:
    from ..stripe.cards import CardSpec, Outcome

    data = orjson.loads(body)
    return CardSpec(**{**data, "outcome": Outcome(**data["outcome"])})


def _endpoint_in(body: bytes) -> Any:
    from ..stripe.webhooks import Endpoint

    return Endpoint(**orjson.loads(body))


def _answer_out(answer: tuple[str, int, bytes]) -> bytes:
    fingerprint, status, body = answer
    return orjson.dumps([fingerprint, status, base64.b64encode(bytes(body)).decode()])


def _answer_in(data: bytes) -> tuple[str, int, bytes]:
    fingerprint, status, body = orjson.loads(data)
    return fingerprint, status, base64.b64decode(body)


CODECS: dict[str, Codec] = {
    "stripe.cards": Codec(_same, _same, orjson.dumps, _card_in),  # orjson writes dataclasses as objects
    "stripe.webhook_endpoints": Codec(_same, _same, orjson.dumps, _endpoint_in),
    # Keyed by (API key, Idempotency-Key).
    "stripe.idempotency": Codec(lambda key: orjson.dumps(list(key)).decode(), lambda text: tuple(orjson.loads(text)),
                                _answer_out, _answer_in),
}


class Keeper:
    """Writes the world's (and the fake Stripe's) changes through to `backend`; see the module's docstring."""

    def __init__(self, backend: StateBackend, world: World) -> None:
        self.backend = backend
        self.world = world
        self.stripe: FakeStripe | None = None
        self._keys: dict[Table, str] = {}
        self._dirty: dict[tuple[Table, int], None] = {}
        self._rewrite: set[Table] = set()
        self._full = False
        self._marks: dict[tuple[str, Any], None] = {}
        self._cleared: set[str] = set()
        self._tracked: dict[str, TrackedDict] = {}
        self._saved_ids: tuple[str, int] | None = None
        self._saved_clock = -1
        self._saved_auth: tuple[Any, ...] | None = None
        # Per service: the applied-event set object last saved, and a copy of its contents then.
        self._saved_applied: dict[str, tuple[set[str], set[str]]] = {}
        self.last_error: str | None = None
        self._waiters: list[asyncio.Future[str | None]] | None = None  # those of the commit to come
        self.loaded = False  # True once `start` found a stored state

    # -- the world's hooks (Table.watcher and World.watcher) ----------------------------------------
    def wrote(self, table: Table, slot: int) -> None:
        self._dirty[(table, slot)] = None

    def cleared(self, table: Table) -> None:
        self._rewrite.add(table)

    def attach(self, world: World, *, full: bool = True) -> None:
        """Watch the world's (new) tables; after a reset everything is written afresh."""
        self._keys = {}
        for slug, state in world.services.items():
            for name, table in state.tables.items():
                self._keys[table] = f"service:{slug}:{name}"
        for project, project_state in world.projects.items():
            for name, table in project_state.foreign.items():
                self._keys[table] = f"fixture:{project}:{name}"
        for table in self._keys:
            table.watcher = self
        self._dirty.clear()
        self._rewrite.clear()
        self._full = self._full or full

    # -- start ------------------------------------------------------------------------------------
    def start(self, stripe: FakeStripe | None = None) -> None:
        """Load the stored state into the world (and the fake Stripe), or store the fresh one; from
        then on every change is written through. Raises StateFileError for a state this twin cannot use."""
        world = self.world
        self.stripe = stripe
        auto_endpoints = list(stripe.dispatcher.endpoints.values()) if stripe is not None else []
        snapshot = self.backend.load()
        self.loaded = snapshot is not None
        if snapshot is not None:
            try:
                self._check(snapshot)
                self._load_world(snapshot)
                if stripe is not None:
                    self._load_stripe(snapshot, stripe)
            except StateFileError:
                raise
            except (ValueError, TypeError, KeyError, IndexError) as error:
                raise StateFileError(self.backend.location, f"is damaged: {type(error).__name__}: {error}") from None
        world.watcher = self
        self.attach(world, full=snapshot is None)
        if stripe is not None:
            self._track_stripe(stripe, written=snapshot is None)
            if snapshot is not None:
                self._rewire(stripe, auto_endpoints)
        if snapshot is not None:
            self._saved_ids = world.id_position()
            self._saved_clock = world.clock.generation
            self._saved_auth = _auth_signature(world)
            self._saved_applied = {slug: (s.webhook_events, set(s.webhook_events)) for slug, s in world.services.items()}
        services = {slug: {"project": s.spec.project, "service": s.spec.service} for slug, s in world.services.items()}
        if snapshot is not None:
            services = {**orjson.loads(snapshot.meta["services"]), **services}
        self.flush(meta={"format": FORMAT, "seed": orjson.dumps(world.seed), "services": orjson.dumps(services)},
                     raise_errors=True)

    def _check(self, snapshot: Snapshot) -> None:
        location = self.backend.location
        if snapshot.meta.get("format") != FORMAT:
            raise StateFileError(location, "is not a twin state (no format mark)")
        seed = orjson.loads(snapshot.meta["seed"])
        if seed != self.world.seed:
            raise StateFileError(location, f"was written with --seed {seed}, not {self.world.seed}; start with "
                                           f"--seed {seed} or use another --state-file")
        stored = orjson.loads(snapshot.meta["services"])
        unknown = sorted(set(stored) - set(self.world.services))
        if unknown:
            raise StateFileError(location, f"holds services this twin does not serve: {', '.join(unknown)} "
                                           f"(it serves {', '.join(sorted(self.world.services)) or 'none'}); start "
                                           "it with the same --spec files or use another --state-file")

    def _load_world(self, snapshot: Snapshot) -> None:
        world = self.world
        tables: dict[str, Table] = {}
        for slug, state in world.services.items():
            tables.update({f"service:{slug}:{name}": table for name, table in state.tables.items()})
        for project, project_state in world.projects.items():
            tables.update({f"fixture:{project}:{name}": table for name, table in project_state.foreign.items()})
        for key, rows in snapshot.records.items():
            table = tables.get(key)
            if table is None:
                log.warning("state file %s: %s is not in the served specs; its %d records are not loaded",
                            self.backend.location, key, len(rows))
                continue
            table.clear()  # a fixture table starts from the seed's records; the stored ones replace them
            for body in rows:
                table.insert(orjson.loads(body))
        for slug, state in world.services.items():
            state.webhook_events = {event_id for event_id, _ in snapshot.objects.get(APPLIED + slug, ())}
        if "ids" in snapshot.meta:
            seed_text, drawn = orjson.loads(snapshot.meta["ids"])
            world.resume_ids(str(seed_text), int(drawn))
        if "clock" in snapshot.meta:
            world.clock.restore(orjson.loads(snapshot.meta["clock"]))
        if "auth" in snapshot.meta:
            world.restore_auth(orjson.loads(snapshot.meta["auth"]))
        if "session_ids" in snapshot.meta:
            version, internal, gauss = orjson.loads(snapshot.meta["session_ids"])
            world.sessions.resume_ids((version, tuple(internal), gauss))
        world.revision.bump()

    def _load_stripe(self, snapshot: Snapshot, stripe: FakeStripe) -> None:
        for kind, target in self._stripe_dicts(stripe).items():
            codec = CODECS.get(kind, JSON)
            target.clear()
            for object_id, body in snapshot.objects.get(kind, ()):
                target[codec.key_in(object_id)] = codec.value_in(body)
        for name, factory in (("stripe.ids", stripe.ids), ("stripe.endpoint_ids", stripe.endpoint_ids)):
            if name in snapshot.meta:
                version, internal, gauss = orjson.loads(snapshot.meta[name])
                factory.setstate((version, tuple(internal), gauss))

    def _rewire(self, stripe: FakeStripe, auto_endpoints: list[Any]) -> None:
        """The twin's own callback endpoints follow its current address: a stored one with the same
        description gets the current URL, a missing one is registered again."""
        endpoints = stripe.dispatcher.endpoints
        for auto in auto_endpoints:
            stored = next((e for e in endpoints.values() if e.description == auto.description), None)
            if stored is None:
                stripe.add_webhook_endpoint(auto.url, auto.secret, auto.events, description=auto.description)
            elif stored.url != auto.url or stored.secret != auto.secret:
                stored.url, stored.secret = auto.url, auto.secret
                endpoints[stored.id] = stored

    @staticmethod
    def _stripe_dicts(stripe: FakeStripe) -> dict[str, dict[Any, Any]]:
        dicts: dict[str, dict[Any, Any]] = {f"stripe.{name}": getattr(stripe.store, name) for name in STRIPE_STORE_TABLES}
        dicts["stripe.idempotency"] = stripe.idempotency
        dicts["stripe.webhook_endpoints"] = stripe.dispatcher.endpoints
        return dicts

    def _track_stripe(self, stripe: FakeStripe, *, written: bool) -> None:
        """Swap the fake's dicts for tracked ones (with everything marked when nothing is stored yet)."""
        for kind, current in self._stripe_dicts(stripe).items():
            tracked = TrackedDict(kind, current.items(), self._marks, self._cleared)
            if written:
                self._marks.update(((kind, key), None) for key in current)
            self._tracked[kind] = tracked
            attribute = kind.removeprefix("stripe.")
            if attribute == "idempotency":
                stripe.idempotency = tracked
            elif attribute == "webhook_endpoints":
                stripe.dispatcher.endpoints = tracked
            else:
                setattr(stripe.store, attribute, tracked)

    # -- writing ----------------------------------------------------------------------------------
    def pending(self) -> bool:
        """Is anything not saved yet? (Cheap: the pipeline asks after every request.)"""
        world = self.world
        if self._full or self._dirty or self._rewrite or self._marks or self._cleared:
            return True
        if world.id_position() != self._saved_ids or world.clock.generation != self._saved_clock:
            return True
        if _auth_signature(world) != self._saved_auth:
            return True
        for slug, state in world.services.items():
            saved = self._saved_applied.get(slug)
            if saved is None or saved[0] is not state.webhook_events or len(saved[1]) != len(state.webhook_events):
                return True
        return False

    async def saved(self) -> str | None:
        """Wait until everything changed so far is committed; None when it is, else the error.

        Group commit: the requests that finish in the same turn of the event loop share one
        commit, made once they have all asked (a commit costs about as much for one record as for
        dozens), so concurrent writers pay for a fraction of one each. Each waits on a future of
        its own: one given up on (its client gone) is cancelled alone, the commit goes on."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[str | None] = loop.create_future()
        if self._waiters is None:
            self._waiters = []
            loop.call_soon(self._commit_batch)
        self._waiters.append(waiter)
        return await waiter

    def _commit_batch(self) -> None:
        waiters, self._waiters = self._waiters or [], None
        failure = self.flush()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(failure)

    def flush(self, *, meta: dict[str, bytes] | None = None, raise_errors: bool = False) -> str | None:
        """Commit what changed since the last flush. Returns None when saved (or nothing changed),
        else the error; the changes then stay pending for the next flush."""
        try:
            changes = self._changes()
            if meta:
                changes.meta.update(meta)
            if not changes:
                return None
            self.backend.commit(changes)
        except StateWriteError as error:
            message = str(error)
            if message != self.last_error:
                log.error("%s", message)
        except Exception as error:
            if raise_errors:
                raise
            # A bug of the twin's, not the disk's: the answers waiting for this save must still go
            # out (as 503s), and the timer that saves the rest must live on.
            message = f"state file {self.backend.location}: could not save: {type(error).__name__}: {error}"
            if message != self.last_error:
                log.exception("%s", message)
        else:
            self._saved(changes)
            self.last_error = None
            return None
        self.last_error = message
        if raise_errors:
            raise StateFileError(self.backend.location, f"cannot be written: {message}") from None
        return message

    def _changes(self) -> Changes:
        changes = Changes()
        world = self.world
        if self._full:
            changes.clear_records = True
            for table, key in self._keys.items():
                changes.records += _rows(table, key, range(table.total))
        else:
            keys = self._keys
            for table in self._rewrite:
                if table in keys:
                    changes.cleared_tables.append(keys[table])
                    changes.records += _rows(table, keys[table], range(table.total))
            for table, slot in self._dirty:
                # A table no longer watched was replaced by a reset; a rewritten one is written whole.
                if table in keys and table not in self._rewrite:
                    changes.records.append((keys[table], slot, table.stored(slot)))
        position = world.id_position()
        if position != self._saved_ids:
            changes.meta["ids"] = orjson.dumps(position)
        if world.clock.generation != self._saved_clock:
            changes.meta["clock"] = orjson.dumps(world.clock.state())
        if self._full or _auth_signature(world) != self._saved_auth:
            changes.meta["auth"] = orjson.dumps(world.auth_state())
            # With the sessions, where their ids stand: a new login after a restart gets a new id,
            # not that of a kept session (which it would overwrite).
            changes.meta["session_ids"] = orjson.dumps(world.sessions.id_state())
        for slug, state in world.services.items():
            applied = state.webhook_events
            saved = self._saved_applied.get(slug)
            if saved is None or self._full or saved[0] is not applied:
                changes.cleared_kinds.append(APPLIED + slug)
                changes.objects += [(APPLIED + slug, event_id, b"1") for event_id in applied]
            elif len(applied) != len(saved[1]):  # the set only grows between resets
                changes.objects += [(APPLIED + slug, event_id, b"1") for event_id in applied - saved[1]]
                changes.deleted += [(APPLIED + slug, event_id) for event_id in saved[1] - applied]
        if self._marks or self._cleared:
            self._stripe_changes(changes)
        return changes

    def _stripe_changes(self, changes: Changes) -> None:
        stripe = self.stripe
        assert stripe is not None
        changes.cleared_kinds += sorted(self._cleared)
        for kind, key in self._marks:
            codec = CODECS.get(kind, JSON)
            table = self._tracked[kind]
            if dict.__contains__(table, key):
                changes.objects.append((kind, codec.key_out(key), codec.value_out(dict.__getitem__(table, key))))
            else:
                changes.deleted.append((kind, codec.key_out(key)))
        for name, factory in (("stripe.ids", stripe.ids), ("stripe.endpoint_ids", stripe.endpoint_ids)):
            changes.meta[name] = orjson.dumps(factory.getstate())

    def _saved(self, changes: Changes) -> None:
        world = self.world
        self._full = False
        self._dirty.clear()
        self._rewrite.clear()
        self._marks.clear()
        self._cleared.clear()
        self._saved_ids = world.id_position()
        self._saved_clock = world.clock.generation
        self._saved_auth = _auth_signature(world)
        for slug, state in world.services.items():
            saved = self._saved_applied.get(slug)
            if saved is None or saved[0] is not state.webhook_events or len(saved[1]) != len(state.webhook_events):
                self._saved_applied[slug] = (state.webhook_events, set(state.webhook_events))

    def close(self) -> None:
        """A last flush, then close the backend."""
        self.flush()
        self.backend.close()


def _auth_signature(world: World) -> tuple[Any, ...]:
    """Changes whenever the auth state does: registrations and password changes bump
    `auth_revision`; a login adds the newest session, a logout removes one."""
    sessions = world.sessions.by_id
    return world.auth_revision, id(sessions), len(sessions), next(reversed(sessions), None)


def _rows(table: Table, key: str, slots: Iterable[int]) -> list[tuple[str, int, bytes]]:
    return [(key, slot, raw.json) for slot, raw in zip(slots, table.raw(slots), strict=True)]
