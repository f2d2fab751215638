"""`SqliteBackend`: the state in one SQLite database file (`twin serve --state-file`).

Why SQLite: it ships with Python, its transactions are atomic and survive a crash at any moment
(no half-written file, no in-place rewrite), and a commit in WAL mode is an append to the `-wal`
file next to the database — tens of microseconds, cheap enough to commit once per request.

- `journal_mode=WAL`, `synchronous=NORMAL` (the default, `sync="normal"`): a commit has reached
  the operating system when `commit` returns, so it survives `kill -9` of the twin; a power loss
  or OS crash may lose the last commits (never the file's consistency). `sync="full"` fsyncs the
  WAL on every commit, which also survives power loss and costs a disk flush per write.
- One twin per file: the twin holds an exclusive `flock` on it while it runs (released by the
  kernel however the process ends); a second one is refused at start.
- Checkpoints (copying the WAL into the database, with its fsyncs) run in a worker thread on a
  connection of their own, off the event loop, once the WAL passes `CHECKPOINT_BYTES`; commits
  never wait for one (`wal_autocheckpoint=0`). The first commit after a complete checkpoint
  starts the WAL afresh and cuts its file back to `WAL_KEPT_BYTES` (`journal_size_limit`), so
  the next checkpoint waits until `CHECKPOINT_BYTES` more have been written.
- The file is marked as a twin state (`PRAGMA application_id`, `user_version` = schema version),
  so any other file — JSON, text, someone else's database, a newer schema — is refused at start
  and left as it is.

Tables: `meta(key, value)`; `records(id, body)`, a record's JSON under the rowid
`table number << 32 | slot` (one B-tree, rows in slot order; the numbers of the table keys are in
`meta.tables`); `objects(kind, id, body)`, everything else, in insertion order (the rowid).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import threading
from pathlib import Path

import orjson

from . import Changes, Snapshot, StateFileError, StateWriteError

APPLICATION_ID = 0x7477696E  # "twin"
SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
SYNC_MODES = ("normal", "full")

CHECKPOINT_BYTES = 4 * 2**20  # WAL size that starts a background checkpoint
# What the WAL file is cut back to when SQLite restarts it after a checkpoint: below
# CHECKPOINT_BYTES, so the file's size keeps measuring what waits for the next checkpoint.
WAL_KEPT_BYTES = CHECKPOINT_BYTES // 2
SLOT_BITS = 32

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
    # A rowid table: a record's JSON (often near 1 KiB) stays in its B-tree leaf, which a
    # WITHOUT ROWID table would move to overflow pages.
    "CREATE TABLE records (id INTEGER PRIMARY KEY, body BLOB NOT NULL)",
    "CREATE TABLE objects (kind TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, UNIQUE (kind, id))",
)
UPSERT_RECORD = "INSERT OR REPLACE INTO records (id, body) VALUES (?, ?)"
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
        self._sync = sync.upper()
        self._new = check_file(path)
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpointing = False
        self._closed = False
        self._checkpoint_lock = threading.Lock()  # close() waits for a checkpoint under way
        try:
            self._lock = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StateFileError(path, f"cannot be opened: {error.strerror}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock)  # (this process holds no SQLite lock on the file yet)
            raise StateFileError(path, "is in use by another twin") from None
        try:
            self._db = self._open()
            self._tables = self._table_numbers()
        except BaseException:
            with contextlib.suppress(AttributeError, sqlite3.Error):
                self._db.close()
            if self._new:  # leave nothing behind: a half-made file would be refused next time
                for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                    leftover.unlink(missing_ok=True)
            os.close(self._lock)
            raise

    def _open(self) -> sqlite3.Connection:
        path = self.path
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0.5)
        except sqlite3.Error as error:
            raise StateFileError(path, f"cannot be opened: {error}") from None
        try:
            if self._new:
                # Written in the classic journal mode first: the file's header (application id,
                # schema) is complete on disk before anything goes to a WAL.
                db.execute("BEGIN")
                for statement in SCHEMA:
                    db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("COMMIT")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StateFileError(path, f"cannot be switched to WAL mode (got {mode})")
            db.execute(f"PRAGMA synchronous = {self._sync}")
            db.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints run in `upkeep`, off the event loop
            db.execute(f"PRAGMA journal_size_limit = {WAL_KEPT_BYTES}")
        except sqlite3.OperationalError as error:
            db.close()
            raise StateFileError(path, f"cannot be written: {error}") from None
        except sqlite3.DatabaseError as error:
            db.close()
            raise StateFileError(path, f"is damaged: {error}") from None
        except StateFileError:
            db.close()
            raise
        return db

    def _table_numbers(self) -> dict[str, int]:
        if self._new:
            return {}
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'tables'").fetchone()
            numbers = orjson.loads(row[0]) if row else {}
        except (sqlite3.DatabaseError, orjson.JSONDecodeError) as error:
            raise StateFileError(self.path, f"is damaged: {error}") from None
        if not isinstance(numbers, dict) or not all(isinstance(n, int) for n in numbers.values()):
            raise StateFileError(self.path, "is damaged: malformed table list")
        return numbers

    def load(self) -> Snapshot | None:
        """Everything stored; None for a file created just now."""
        if self._new:
            return None
        names = {number: key for key, number in self._tables.items()}
        try:
            db = self._db
            meta = {key: bytes(value) for key, value in db.execute("SELECT key, value FROM meta")}
            records: dict[str, list[bytes]] = {}
            for rowid, body in db.execute("SELECT id, body FROM records ORDER BY id"):
                number, slot = rowid >> SLOT_BITS, rowid & ((1 << SLOT_BITS) - 1)
                key = names.get(number)
                if key is None:
                    raise StateFileError(self.path, f"is damaged: a record of unknown table {number}")
                rows = records.setdefault(key, [])
                if slot != len(rows):
                    raise StateFileError(self.path, f"is damaged: table {key} misses its record in slot {len(rows)}")
                rows.append(bytes(body))
            objects: dict[str, list[tuple[str, bytes]]] = {}
            for kind, object_id, body in db.execute("SELECT kind, id, body FROM objects ORDER BY rowid"):
                objects.setdefault(kind, []).append((object_id, bytes(body)))
        except sqlite3.DatabaseError as error:
            raise StateFileError(self.path, f"is damaged: {error}") from None
        return Snapshot(meta, records, objects)

    def _number(self, key: str, added: dict[str, int]) -> int:
        number = self._tables.get(key)
        if number is None:
            number = self._tables[key] = added[key] = len(self._tables) + 1
        return number

    def commit(self, changes: Changes) -> None:
        """One transaction; nothing of it is applied if any statement fails."""
        db = self._db
        added: dict[str, int] = {}
        try:
            db.execute("BEGIN")
            try:
                if changes.clear_records:
                    db.execute("DELETE FROM records")
                for table in changes.cleared_tables:
                    low = self._number(table, added) << SLOT_BITS
                    db.execute("DELETE FROM records WHERE id BETWEEN ? AND ?", (low, low | ((1 << SLOT_BITS) - 1)))
                for kind in changes.cleared_kinds:
                    db.execute("DELETE FROM objects WHERE kind = ?", (kind,))
                if changes.deleted:
                    db.executemany("DELETE FROM objects WHERE kind = ? AND id = ?", changes.deleted)
                if changes.records:
                    number = self._number
                    db.executemany(UPSERT_RECORD, [(number(table, added) << SLOT_BITS | slot, body)
                                                   for table, slot, body in changes.records])
                if changes.objects:
                    db.executemany(UPSERT_OBJECT, changes.objects)
                meta = changes.meta
                if added:
                    meta = {**meta, "tables": orjson.dumps(self._tables)}
                if meta:
                    db.executemany(UPSERT_META, meta.items())
                db.execute("COMMIT")
            except BaseException:
                for key in added:
                    del self._tables[key]
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise StateWriteError(f"state file {self.path}: could not save: {error}") from None
        self._new = False

    async def upkeep(self) -> None:
        """Checkpoint the WAL into the database once it has grown, in a worker thread on a
        connection of its own: a PASSIVE checkpoint never blocks the commits going on meanwhile."""
        if self._checkpointing:
            return
        try:
            size = os.stat(self.path.with_name(self.path.name + "-wal")).st_size
        except OSError:
            return
        if size < CHECKPOINT_BYTES:
            return
        self._checkpointing = True
        try:
            await asyncio.to_thread(self._checkpoint)
        except sqlite3.Error as error:  # a checkpoint can wait: the WAL keeps every commit meanwhile
            import logging

            logging.getLogger("twin.state").warning("state file %s: checkpoint failed: %s", self.path, error)
        finally:
            self._checkpointing = False

    def _checkpoint(self) -> None:
        with self._checkpoint_lock:
            if self._closed:
                return
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self._checkpointer.execute(f"PRAGMA synchronous = {self._sync}")
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        """Close the database (SQLite moves the WAL into the main file and removes it), then the lock."""
        with self._checkpoint_lock:
            self._closed = True
            if self._checkpointer is not None:
                self._checkpointer.close()
        self._db.close()
        os.close(self._lock)
