"""The twin's whole state: every service's tables, each project's fixtures, the clock, the ids.

One `World` per server. `reset()` returns it to the seed; `dump()`/`restore()` move it to and from
JSON (the control API's `/__twin/state` and `--state-file`). The world holds state and knows no
engine: records made by the engine's rules (`seeding.py`) come from the seeders its builder passes.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from yarl import URL

import fixtures
from fixtures.base import persona_password

from .clock import Clock, isoformat
from .identity import Authenticator, Persona
from .mutants import ActiveMutants
from .sessions import SessionStore
from .specindex import DataObjectSpec, ServiceSpec
from .store import Revision, Table, Watcher

JOURNAL_SIZE = 2000
JOURNAL_FIELDS = ("time", "method", "path", "query", "status", "api", "userId", "elapsedMs")


@dataclass
class ServiceState:
    """The tables of one service."""

    spec: ServiceSpec
    tables: dict[str, Table] = field(default_factory=dict)
    # Stripe event ids already applied, so a redelivered or duplicated webhook changes nothing twice.
    webhook_events: set[str] = field(default_factory=set)


@dataclass
class ProjectState:
    """One project's fixtures: personas, foreign objects (users, coursePacks, …), companies."""

    name: str
    personas: list[Persona]
    foreign: dict[str, Table]
    companies: dict[str, dict[str, Any]]
    enums: dict[str, dict[str, list[str]]]
    # No fixture module of its own: its data is generated (and the seeders may add records).
    generic: bool = False


def indexed_fields(obj: DataObjectSpec) -> list[str]:
    """Fields worth an index: every ID and Enum property (filters, scopes and foreign keys use them)."""
    return [name for name, prop in obj.properties.items() if prop["type"] in ("ID", "Enum")]


def searched_fields(spec: ServiceSpec, obj: str) -> list[str]:
    """Fields worth a text index: those a list of `obj` declares a partial-match filter on."""
    return sorted({f.property for op in spec.operations if op.data_object == obj
                   for f in op.filters if f.match == "partial"})


def uuid4_string(bits: int) -> str:
    """`str(uuid.UUID(int=bits, version=4))`, without building a UUID object (every create needs one)."""
    bits = (bits & ~(0xC000 << 48) | (0x8000 << 48)) & ~(0xF000 << 64) | (0x4000 << 64)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


Seeder = Callable[["World"], None]


ID_BATCH = 256
"""Ids drawn from the generator at once (see `World.new_id`)."""
_RUNS = ((0, 0, 8), (9, 8, 4), (15, 13, 3), (20, 17, 3), (24, 20, 12))
"""Where each run of hex digits goes in a UUID's text: (its position, its first digit, its length)."""
_VARIANT = bytes.maketrans(b"0123456789abcdef", b"89ab89ab89ab89ab")
"""The variant digit (position 19) made of the bits' digit 16: 8, 9, a or b."""


def uuid4_strings(bits: int, count: int) -> list[str]:
    """The UUIDs `uuid4_string` makes of each 128-bit chunk of `bits`, lowest chunk LAST (so that
    `pop()` hands them out lowest first). All `count` are formatted at once: each character
    position of a UUID is one strided slice of the hex digits, so a batch costs 31 slice copies
    where formatting one id at a time cost nine string pieces per id (every create needs one)."""
    digits = f"{bits:0{32 * count}x}".encode()
    text = bytearray(b"xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx" * count)
    for position, first, length in _RUNS:
        for k in range(length):
            text[position + k::36] = digits[first + k::32]
    text[19::36] = digits[16::32].translate(_VARIANT)
    ids = text.decode()
    return [ids[at:at + 36] for at in range(0, 36 * count, 36)]


def _journal_values(stamp: float, method: str, url: URL, status: int, api: str | None, user: str | None,
                    seconds: float) -> tuple[Any, ...]:
    """A journal entry as kept on the request path (pipeline.py), in JOURNAL_FIELDS' order and form:
    the path and query decoded as `request.path` and `request.query_string` decode them."""
    return (isoformat(datetime.fromtimestamp(stamp, UTC)), method, url.path, url.query_string, status, api, user,
            int(seconds * 1_000_000) / 1000)


class World:
    """Everything the twin holds in memory.

    `seeders` run at the end of every `reset()` (so after a control reset or a restore too), before
    the watcher hears of it: they add the records the fixtures cannot make (`seeding.seed_world`)."""

    _id_batch: list[str]  # the ids drawn and not handed out yet, next one last

    def __init__(self, services: list[ServiceSpec], *, seed: int = 0, clock: Clock | None = None,
                 secret: str | None = None, mutants: ActiveMutants | None = None,
                 seeders: Iterable[Seeder] = ()) -> None:
        self.seed = seed
        self.seeders = tuple(seeders)
        self.clock = clock or Clock()
        # The deliberate defects switched on in this twin (none on a clean one); `reset()` keeps them.
        self.mutants = mutants if mutants is not None else ActiveMutants()
        self.services = {s.slug: ServiceState(spec=s) for s in services}
        self.projects: dict[str, ProjectState] = {}
        # Raw tuples on the request path (see _journal_values); formatted only when someone reads them.
        self.journal: deque[tuple[Any, ...]] = deque(maxlen=JOURNAL_SIZE)
        # Bumped by every write to any table of this world (and by the twin on every other change).
        self.revision = Revision()
        self._secret = secret
        # The persistence layer, when the state is kept in a file: told of every reset (`attach`).
        self.watcher: WorldWatcher | None = None
        # Made once: a reset ends the sessions, their id generator goes on (sessions.py).
        self.sessions = SessionStore(seed)
        self.reset()

    # -- lifecycle -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the seeded start: empty service tables, fresh fixtures, the same record ids as last
        time (session ids go on: see `SessionStore.end_all`)."""
        self.revision.bump()
        self.resume_ids(f"twin-ids:{self.seed}", 0)
        # Request ids: a seeded UUID-shaped prefix and a counter (a uuid4 per request is slow).
        prefix = str(uuid.UUID(int=random.Random(f"twin-requests:{self.seed}").getrandbits(128), version=4))
        self._request_prefix = prefix[:24]
        self._request_counter = itertools.count(1)
        self.journal.clear()
        foreign_by_project: dict[str, dict[str, dict[str, str]]] = {}
        roles_by_project: dict[str, dict[str, dict[str, Any]]] = {}
        tenant_by_project: dict[str, str] = {}
        for state in self.services.values():
            spec = state.spec
            merged = foreign_by_project.setdefault(spec.project, {})
            for name, fields in spec.foreign_objects.items():
                merged.setdefault(name, {}).update(fields)
            roles = roles_by_project.setdefault(spec.project, {})
            for role in spec.roles:
                known = roles.setdefault(role["name"], dict(role))
                known["tenant"] = bool(known.get("tenant") or role.get("tenant"))
            if spec.tenant_object:
                tenant_by_project.setdefault(spec.project, spec.tenant_object)
            state.tables = {name: Table(name, indexed_fields(obj), revision=self.revision,
                                        searched=searched_fields(state.spec, name))
                            for name, obj in state.spec.data_objects.items()}
            state.webhook_events = set()
        personas: list[Persona] = []
        self.projects = {}
        for project, foreign in foreign_by_project.items():
            data = fixtures.load(project, foreign, self.seed, roles=list(roles_by_project[project].values()),
                                 tenant_object=tenant_by_project.get(project))
            project_personas = [
                Persona(project=p["project"], name=p["name"], role=p["role"], user_id=p["userId"], email=p["email"],
                        fullname=p["fullname"], tenant=p.get("tenant"), company_id=p.get("companyId"),
                        password=p.get("password") or persona_password(p["name"]))
                for p in data.personas
            ]
            personas += project_personas
            tables = {}
            for name, records in data.objects.items():
                table = Table(name, ("tutorId", "hostId", "tutorProfileId", "coursePackId", "codename"),
                              revision=self.revision)
                for record in records:
                    table.insert(dict(record))
                tables[name] = table
            self.projects[project] = ProjectState(
                name=project, personas=project_personas, foreign=tables,
                companies={c["codename"]: c for c in data.companies}, enums=data.enums, generic=data.generic,
            )
        # Login sessions and users registered through the auth API: state like the records.
        self.sessions.end_all()
        self.accounts: list[dict[str, Any]] = []
        self.passwords: dict[str, str] = {}  # "<project>:<persona>" → a fixture persona's reset password
        self.auth = Authenticator(personas, self._secret, sessions=self.sessions.by_id) if self._secret \
            else Authenticator(personas, sessions=self.sessions.by_id)
        for seeder in self.seeders:
            seeder(self)
        self.auth_revision = 0  # bumped by every registration and password change (for the state file)
        if self.watcher is not None:
            self.watcher.attach(self)

    def set_password(self, persona: Persona, password: str) -> Persona:
        """A user's new password (a password reset): the persona is replaced everywhere it is known."""
        changed = replace(persona, password=password)
        people = self.projects[persona.project].personas
        people[people.index(persona)] = changed
        self.auth.add_persona(changed)
        for account in self.accounts:
            if account["persona"]["user_id"] == persona.user_id and account["persona"]["project"] == persona.project:
                account["persona"]["password"] = password
                break
        else:
            self.passwords[f"{persona.project}:{persona.name}"] = password
        self.auth_revision += 1
        return changed

    def register(self, persona: Persona, user: dict[str, Any]) -> None:
        """A user registered through the auth API: a persona from now on (login, tokens, the
        control API) and a record of the project's `user` fixture object, when it has one."""
        self.accounts.append({"persona": asdict(persona), "user": user})
        self.projects[persona.project].personas.append(persona)
        self.auth.add_persona(persona)
        table = self.foreign(persona.project, "user")
        if table is not None:
            table.insert(dict(user))
        self.auth_revision += 1

    # -- ids and time --------------------------------------------------------------------------
    def new_id(self) -> str:
        """A fresh UUID from the seeded generator (same sequence after every reset)."""
        self._ids_drawn += 1
        if not self._id_batch:
            # getrandbits(128 * n) yields the same bits as n calls of getrandbits(128), the first
            # call's in the lowest 128 (see resume_ids): the sequence is the same, drawn in batches.
            self._id_batch = uuid4_strings(self._rng.getrandbits(128 * ID_BATCH), ID_BATCH)
        return self._id_batch.pop()

    def id_position(self) -> tuple[str, int]:
        """Where the id sequence stands: its seed text and how many ids it has handed out."""
        return self._id_seed, self._ids_drawn

    def resume_ids(self, seed_text: str, drawn: int) -> None:
        """Continue the id sequence of `seed_text` after `drawn` ids (as `id_position` reported it)."""
        self._id_seed = seed_text
        self._rng = random.Random(seed_text)
        self._ids_drawn = drawn
        self._id_batch = []
        # getrandbits(128 * n) advances the Mersenne Twister by the same 4n words as n calls of
        # getrandbits(128), so skipping ahead costs one call per chunk instead of one per id.
        while drawn > 0:
            step = min(drawn, 8192)
            self._rng.getrandbits(128 * step)
            drawn -= step

    def request_id(self) -> str:
        """A fresh request id: UUID-shaped, unique within the run, the same sequence after a reset."""
        return f"{self._request_prefix}{next(self._request_counter):012x}"

    def now_iso(self) -> str:
        return isoformat(self.clock.now())

    def journal_entries(self, limit: int) -> list[dict[str, Any]]:
        """The latest `limit` requests, oldest first, as JSON-able records (the time taken in
        milliseconds)."""
        entries = list(self.journal)[-limit:]
        return [dict(zip(JOURNAL_FIELDS, _journal_values(*e), strict=True)) for e in entries]

    # -- look-ups ------------------------------------------------------------------------------
    def service(self, slug: str) -> ServiceState:
        return self.services[slug]

    def foreign(self, project: str, name: str) -> Table | None:
        state = self.projects.get(project)
        return state.foreign.get(name) if state else None

    def owned_elsewhere(self, project: str, name: str, besides: str) -> tuple[Table, DataObjectSpec] | None:
        """The table of data object `name` when another served service of `project` owns it (a
        relation across services: mealTracker's `foodItemId` → nutritionLibrary's `foodItem`)."""
        for slug, state in self.services.items():
            if slug != besides and state.spec.project == project and name in state.tables:
                return state.tables[name], state.spec.data_objects[name]
        return None

    def company(self, project: str, codename: str) -> dict[str, Any] | None:
        state = self.projects.get(project)
        return state.companies.get(codename) if state else None

    def personas(self, project: str | None = None) -> list[Persona]:
        return [p for s in self.projects.values() for p in s.personas if project in (None, p.project)]

    # -- snapshots -----------------------------------------------------------------------------
    def dump(self, records: Callable[[Table], Any] = Table.records) -> dict[str, Any]:
        """The whole state as JSON-able data (records in creation order, soft-deleted included).

        `records` renders each table (the control API passes one that streams the stored JSON)."""
        return {
            "clock": {"now": self.now_iso(), "frozen": self.clock.frozen},
            "services": {
                slug: {
                    "project": state.spec.project,
                    "service": state.spec.service,
                    "objects": {name: records(table) for name, table in state.tables.items()},
                }
                for slug, state in self.services.items()
            },
            "fixtures": {
                project: {name: records(table) for name, table in state.foreign.items()}
                for project, state in self.projects.items()
            },
            "accounts": self.accounts,
            "passwords": self.passwords,
            "sessions": self.sessions.dump(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Load a dump made by `dump()` (unknown services or objects in it are ignored)."""
        self.reset()
        for slug, service in (data.get("services") or {}).items():
            state = self.services.get(slug)
            if state is None:
                continue
            for name, records in (service.get("objects") or {}).items():
                table = state.tables.get(name)
                if table is not None:
                    table.clear()  # the dump replaces what reset() seeded
                    for record in records:
                        table.insert(record)
                    table.catch_up()
        for project, objects in (data.get("fixtures") or {}).items():
            project_state = self.projects.get(project)
            if project_state is None:
                continue
            for name, records in objects.items():
                table = project_state.foreign.get(name)
                if table is not None:
                    table.clear()
                    for record in records:
                        table.insert(record)
        self.restore_auth(data)
        # Fresh ids must not collide with restored ones: move the generator on by what exists.
        self.resume_ids(f"twin-ids:{self.seed}:{sum(len(s.tables) for s in self.services.values())}:"
                        f"{sum(t.total for s in self.services.values() for t in s.tables.values())}", 0)

    def auth_state(self) -> dict[str, Any]:
        """Users registered through the auth API, changed passwords and live sessions, as JSON-able data."""
        return {"accounts": self.accounts, "passwords": self.passwords, "sessions": self.sessions.dump()}

    def restore_auth(self, data: dict[str, Any]) -> None:
        """Load `auth_state()`'s parts (as `dump()` carries them) into a freshly reset world."""
        for account in data.get("accounts") or []:
            try:
                persona = Persona(**account["persona"])
            except (KeyError, TypeError):
                continue  # a hand-edited state file: skip the account rather than refuse the file
            if persona.project in self.projects:
                self.accounts.append({"persona": asdict(persona), "user": account.get("user") or {}})
                self.projects[persona.project].personas.append(persona)
                self.auth.add_persona(persona)
        passwords = data.get("passwords")
        if isinstance(passwords, dict):
            for persona in list(self.personas()):
                password = passwords.get(f"{persona.project}:{persona.name}")
                if isinstance(password, str):
                    self.set_password(persona, password)
        self.sessions.restore(data.get("sessions") or [])
        self.auth_revision += 1


class WorldWatcher(Watcher, Protocol):
    """A table watcher that also hears of every reset: `attach` is called with the world's new tables."""

    def attach(self, world: World) -> None: ...
