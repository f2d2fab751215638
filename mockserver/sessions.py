"""Login sessions: what `POST /auth-api/login` opens and `POST /auth-api/logout` ends.

They are part of the world's state: a reset ends them all, and `dump()`/`restore()` carry them, so
a token issued before a restart with `--state-file` still opens its session afterwards.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict, dataclass
from typing import Any

MAX_SESSIONS = 100_000


@dataclass(frozen=True)
class Session:
    """One login: who, in which tenant (`None` is the root tenant), with which token, since when."""

    session_id: str
    project: str
    user_id: str
    tenant: str | None
    token: str
    login_date: str


class SessionStore:
    """The live sessions by id; ids come from their own seeded generator, so logging in does not
    move the record ids a test expects."""

    def __init__(self, seed: int = 0) -> None:
        self.by_id: dict[str, Session] = {}
        self._rng = random.Random(f"twin-sessions:{seed}")
        # Verifications in progress: (project, tenant, email, kind) → (codeIndex, secretCode).
        self.codes: dict[tuple[str, str | None, str, str], tuple[int, str]] = {}
        self._code_index = 0

    def start_code(self, key: tuple[str, str | None, str, str]) -> tuple[int, str]:
        """A fresh 6-digit secret code for a verification (replacing one in progress)."""
        self._code_index += 1
        self.codes[key] = (self._code_index, f"{self._rng.randrange(10**6):06d}")
        return self.codes[key]

    def end_all(self) -> None:
        """End every session and verification (a reset). The id generator goes on: an ended
        session's id handed out again would bring its old token back to life, as its user."""
        self.by_id = {}
        self.codes = {}
        self._code_index = 0

    def __len__(self) -> int:
        return len(self.by_id)

    def new_id(self) -> str:
        """A fresh, UUID-shaped session id (never a live session's, whatever was restored)."""
        while True:
            session_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            if session_id not in self.by_id:
                return session_id

    def id_state(self) -> tuple[Any, ...]:
        """Where the id generator stands (for `resume_ids`): a twin restarted on a state file goes on
        from there instead of handing out its sessions' ids again."""
        return self._rng.getstate()

    def resume_ids(self, state: tuple[Any, ...]) -> None:
        """Continue the id generator from `id_state()`'s answer."""
        self._rng.setstate(state)

    def add(self, session: Session) -> None:
        """Keep a session; past MAX_SESSIONS the oldest ends (a load test logging in forever must
        not grow the twin without bound)."""
        self.by_id[session.session_id] = session
        if len(self.by_id) > MAX_SESSIONS:
            del self.by_id[next(iter(self.by_id))]

    def get(self, session_id: str) -> Session | None:
        return self.by_id.get(session_id)

    def end(self, session_id: str) -> Session | None:
        """End a session; ending one that is gone already is fine (logout is idempotent)."""
        return self.by_id.pop(session_id, None)

    def dump(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self.by_id.values()]

    def restore(self, rows: list[dict[str, Any]]) -> None:
        """Load sessions from `dump()` (rows missing a field are skipped: a state file written by hand
        must not break the start)."""
        for row in rows:
            try:
                self.add(Session(**{k: row[k] for k in Session.__dataclass_fields__}))
            except (KeyError, TypeError):
                continue
