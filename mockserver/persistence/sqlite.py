"""`SqliteBackend`: the state in one SQLite database file (`twin serve --state-file`).

Why SQLite: it ships with Python, its transactions are atomic and survive a crash at any moment
(no half-written file, no in-place rewrite), and a commit in WAL mode is an append to the `-wal`
file next to the database — tens of microseconds, cheap enough to commit once per request.

- `journal_mode=WAL`, `synchronous=NORMAL` (the default, `sync="normal"`): a commit has reached
  the operating system when `commit` returns, so it survives `kill -9` of the twin; a power loss
  or OS crash may lose the last commits (never the file's consistency). `sync="full"` fsyncs the
  WAL on every commit, which also survives power loss and costs a disk flush per write.
- `locking_mode=EXCLUSIVE`: one twin per file; a second one is refused at start.
- The file is marked as a twin state (`PRAGMA application_id`, `user_version` = schema version),
  so any other file — JSON, text, someone else's database, a newer schema — is refused at start
  and left as it is.

Tables: `meta(key, value)`, `records(tbl, slot, body)` (a record's JSON by table and creation
slot) and `objects(kind, id, body)` (everything else, in insertion order: the rowid).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import orjson

from . import Changes, Snapshot, StateFileError, StateWriteError

APPLICATION_ID = 0x7477696E  # "twin"
SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
SYNC_MODES = ("normal", "full")

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE records (tbl TEXT NOT NULL, slot INTEGER NOT NULL, body BLOB NOT NULL,"
    " PRIMARY KEY (tbl, slot)) WITHOUT ROWID",
    "CREATE TABLE objects (kind TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, UNIQUE (kind, id))",
)
UPSERT_RECORD = "INSERT OR REPLACE INTO records (tbl, slot, body) VALUES (?, ?, ?)"
# A known id keeps its rowid (its place in the order); a new one is appended.
UPSERT_OBJECT = ("INSERT INTO objects (kind, id, body) VALUES (?, ?, ?) "
                 "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body")
UPSERT_META = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"


def check_file(path: Path) -> bool:
    """Refuse (StateFileError) a path the twin cannot keep its state in; True when the file does not
    exist yet (it will be created), False when it is an existing twin state. Reads only."""
    folder = path.parent
    if path.is_dir():
        raise StateFileError(path, "is a folder, not a file")
    if not folder.is_dir():
        raise StateFileError(path, f"its folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StateFileError(path, f"its folder {folder} is not writable (SQLite keeps a -wal file next to the state)")
    if not path.exists():
        return True
    if not os.access(path, os.R_OK | os.W_OK):
        raise StateFileError(path, "is not readable and writable by this user")
    with path.open("rb") as handle:
        head = handle.read(100)
    if not head:
        raise StateFileError(path, "is empty, not a twin state (delete it, or name a file that does not exist "
                                   "yet to start afresh)")
    if not head.startswith(SQLITE_MAGIC):
        raise StateFileError(path, _describe_foreign(path))
    if len(head) < 100:
        raise StateFileError(path, "is damaged: shorter than an SQLite header")
    # Reading a WAL database read-only makes SQLite create its -wal and -shm files: remove the ones
    # this check made, so a refused file is left exactly as it was found.
    sidecars = [side for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
                if not side.exists()]
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.Error as error:
        raise StateFileError(path, f"cannot be opened: {error}") from None
    try:
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if application_id != APPLICATION_ID:
            raise StateFileError(path, "is an SQLite database but not a twin state")
        if version > SCHEMA_VERSION:
            raise StateFileError(path, f"was written by a newer twin (state schema {version}; this twin reads "
                                       f"up to {SCHEMA_VERSION})")
        if version < 1:
            raise StateFileError(path, f"has an unknown state schema ({version})")
        verdict = db.execute("PRAGMA quick_check(1)").fetchone()[0]
        if verdict != "ok":
            raise StateFileError(path, f"is damaged: {verdict.splitlines()[-1]}")
    except sqlite3.OperationalError as error:
        if "locked" in str(error):
            raise StateFileError(path, "is in use by another twin") from None
        raise StateFileError(path, f"is damaged: {error}") from None
    except sqlite3.DatabaseError as error:
        raise StateFileError(path, f"is damaged: {error}") from None
    finally:
        db.close()
        for side in sidecars:
            if side.name.endswith("-shm") or (side.exists() and side.stat().st_size == 0):
                side.unlink(missing_ok=True)
    return False


def _describe_foreign(path: Path) -> str:
    """What a file that is not an SQLite database seems to be, in the refusal's words."""
    try:
        data = orjson.loads(path.read_bytes()) if path.stat().st_size < 256 * 2**20 else None
    except (orjson.JSONDecodeError, OSError):
        data = None
    if isinstance(data, dict) and "services" in data:
        return ("is a JSON state export (what GET /__twin/state answers and older twins wrote), not a state "
                "database; start with a new --state-file and load it with "
                f"curl -X PUT <twin>/__twin/state --data-binary @{path}")
    if data is not None:
        return "is a JSON document, not a twin state database"
    return "is not a twin state database (not an SQLite file)"


class SqliteBackend:
    """The state in one SQLite file; see the module's docstring."""

    def __init__(self, path: Path, *, sync: str = "normal") -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {', '.join(SYNC_MODES)}")
        self.path = path
        self.location = str(path)
        self._new = check_file(path)
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0.5)
        except sqlite3.Error as error:
            raise StateFileError(path, f"cannot be opened: {error}") from None
        try:
            if self._new:
                # Written in the classic journal mode first: the file's header (application id,
                # schema) is complete on disk before anything goes to a WAL.
                with contextlib.closing(db.cursor()) as cursor:
                    cursor.execute("BEGIN")
                    for statement in SCHEMA:
                        cursor.execute(statement)
                    cursor.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    cursor.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    cursor.execute("COMMIT")
            db.execute("PRAGMA locking_mode = EXCLUSIVE")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StateFileError(path, f"cannot be switched to WAL mode (got {mode})")
            db.execute(f"PRAGMA synchronous = {sync.upper()}")
            db.execute("BEGIN IMMEDIATE")  # takes the exclusive lock now: a second twin is refused at its start
            db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            db.close()
            if "locked" in str(error):
                raise StateFileError(path, "is in use by another twin") from None
            raise StateFileError(path, f"cannot be written: {error}") from None
        except sqlite3.DatabaseError as error:
            db.close()
            raise StateFileError(path, f"is damaged: {error}") from None
        except StateFileError:
            db.close()
            raise
        self._db = db

    def load(self) -> Snapshot | None:
        """Everything stored; None for a file created just now."""
        if self._new:
            return None
        try:
            db = self._db
            meta = {key: bytes(value) for key, value in db.execute("SELECT key, value FROM meta")}
            records: dict[str, list[bytes]] = {}
            expected: dict[str, int] = {}
            for table, slot, body in db.execute("SELECT tbl, slot, body FROM records ORDER BY tbl, slot"):
                rows = records.setdefault(table, [])
                if slot != expected.get(table, 0):
                    raise StateFileError(self.path, f"is damaged: table {table} misses the record in slot "
                                                    f"{expected.get(table, 0)}")
                expected[table] = slot + 1
                rows.append(bytes(body))
            objects: dict[str, list[tuple[str, bytes]]] = {}
            for kind, object_id, body in db.execute("SELECT kind, id, body FROM objects ORDER BY rowid"):
                objects.setdefault(kind, []).append((object_id, bytes(body)))
        except sqlite3.DatabaseError as error:
            raise StateFileError(self.path, f"is damaged: {error}") from None
        return Snapshot(meta, records, objects)

    def commit(self, changes: Changes) -> None:
        """One transaction; nothing of it is applied if any statement fails."""
        db = self._db
        try:
            db.execute("BEGIN")
            try:
                if changes.clear_records:
                    db.execute("DELETE FROM records")
                for table in changes.cleared_tables:
                    db.execute("DELETE FROM records WHERE tbl = ?", (table,))
                for kind in changes.cleared_kinds:
                    db.execute("DELETE FROM objects WHERE kind = ?", (kind,))
                if changes.deleted:
                    db.executemany("DELETE FROM objects WHERE kind = ? AND id = ?", changes.deleted)
                if changes.records:
                    db.executemany(UPSERT_RECORD, changes.records)
                if changes.objects:
                    db.executemany(UPSERT_OBJECT, changes.objects)
                if changes.meta:
                    db.executemany(UPSERT_META, changes.meta.items())
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise StateWriteError(f"state file {self.path}: could not save: {error}") from None
        self._new = False

    def close(self) -> None:
        """Close the database (SQLite moves the WAL into the main file and removes it)."""
        self._db.close()
