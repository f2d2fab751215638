"""In-memory records of one data object: compact storage, indexes for exact filters, and columns
for the other filters.

Each record is stored once, as its JSON bytes, in a *slot*: slots are numbered in creation order,
which is the lists' stable order. Reads (`get`, `scan`, `records`, `select`'s page) decode a fresh
dict every time, so changing a record the store handed out changes nothing until it is passed to
`replace`.

Soft-deleted records (`isActive` false) keep their slot — a get with `include_inactive` and the
state dumps still find them — but leave every index and every list; re-activating one puts it back
in its original place.

- An *index* (one per field named at creation) maps each key — the field's value, strings
  case-folded; each element for array fields — to the active slots holding it, ascending. A key
  held by a single slot maps to the bare slot number, which keeps unique keys (order ids) cheap.
- A *column* maps every slot to one field's value in one form (`value` as stored, or `text`:
  lowercased text for substring matching), so a filter on a field without an index scans a list
  instead of decoding records. Columns are built on first use (or when the table is created, for
  the ones named then) and kept up to date by every write.
- A *text index* (`textindex.TextIndex`, a trigram index) answers case-insensitive substring
  searches on one field; declared when the table is created for the fields named then (the
  declared partial-match filters), or on the first search of another field. It indexes new records
  when the next search comes (or `catch_up` is called), changes to indexed ones as they happen.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import compress
from typing import Any, Protocol

import orjson

from .textindex import TextIndex, TextMatch, text_key

Bucket = int | list[int]


def index_key(value: Any) -> Any:
    """How a value is keyed in an index: strings case-folded (enum filters are case-insensitive)."""
    return value.lower() if isinstance(value, str) else value


def _encode(record: dict[str, Any]) -> bytes:
    # orjson hands back its bytes in a buffer of several KiB; a copy holds only the JSON. Slicing
    # off an appended newline is that copy in one step (half the time of bytes(memoryview(...))).
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)[:-1]


class RawJson:
    """A stored record's JSON, handed out as is: the encoder splices it into an answer unparsed
    (decoding a page of records only to encode them again is most of a list's cost)."""

    __slots__ = ("json",)

    def __init__(self, json: bytes) -> None:
        self.json = json


def _same(value: Any) -> Any:
    return value


FORMS: dict[str, Callable[[Any], Any]] = {"value": _same, "text": text_key}
"""The forms a column can hold a field's value in."""

SHARED_VALUES = 4096
"""How many distinct short strings a column shares between its slots (so a low-cardinality field
such as a status costs one pointer per record)."""


class Column:
    """One field's values in one form, by slot (soft-deleted slots included)."""

    __slots__ = ("derive", "field", "shared", "values")

    def __init__(self, field: str, form: str) -> None:
        self.field = field
        self.derive = FORMS[form]
        self.values: list[Any] = []
        self.shared: dict[str, str] = {}

    def value_of(self, record: dict[str, Any]) -> Any:
        value = self.derive(record.get(self.field))
        if type(value) is str and len(value) <= 64:
            known = self.shared.get(value)
            if known is not None:
                return known
            if len(self.shared) < SHARED_VALUES:
                self.shared[value] = value
        return value


class Revision:
    """A count of writes, shared by every table of a world: an answer computed while it held one
    value is still right as long as it holds it (the read cache relies on this)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


class Watcher(Protocol):
    """Hears of every write to the tables it watches (the persistence layer: `mockserver.persistence`)."""

    def wrote(self, table: Table, slot: int) -> None: ...

    def cleared(self, table: Table) -> None: ...


class Table:
    """The records of one data object."""

    # Set by a persistence layer to hear of every write; None (the default) keeps the table purely in
    # memory, at the cost of one attribute check per write.
    watcher: Watcher | None = None

    def __init__(self, name: str, indexed: Iterable[str] = (), columns: Iterable[tuple[str, str]] = (),
                 revision: Revision | None = None, searched: Iterable[str] = ()) -> None:
        self.name = name
        self.revision = revision or Revision()
        self._blobs: list[bytes] = []  # slot -> the record's JSON
        self._slots: dict[str, int] = {}  # id -> slot
        self._live = bytearray()  # slot -> 1 while the record is active
        self._active = 0
        self.indexes: dict[str, dict[Any, Bucket]] = {f: {} for f in indexed}
        self._columns: dict[tuple[str, str], Column] = {}
        self._texts: dict[str, TextIndex] = {f: TextIndex(f, self._live) for f in searched}
        for field, form in columns:
            self.column(field, form)

    def __len__(self) -> int:
        """The number of active records."""
        return self._active

    @property
    def total(self) -> int:
        """The number of records, soft-deleted ones included."""
        return len(self._blobs)

    # -- writes --------------------------------------------------------------------------------
    def insert(self, record: dict[str, Any]) -> dict[str, Any]:
        """Add a new record (it must carry an `id`; an id already stored replaces that record)."""
        rid = record["id"]
        if rid in self._slots:
            return self.replace(record)
        self.revision.bump()
        slot = len(self._blobs)
        self._blobs.append(_encode(record))
        self._slots[rid] = slot
        active = bool(record.get("isActive", True))
        self._live.append(active)
        for column in self._columns.values():
            column.values.append(column.value_of(record))
        if active:
            self._active += 1
            self._index(slot, record)
        if self.watcher is not None:
            self.watcher.wrote(self, slot)
        return record

    def replace(self, record: dict[str, Any]) -> dict[str, Any]:
        """Store a new version of an existing record, keeping its place in the order."""
        slot = self._slots[record["id"]]
        self.revision.bump()
        old = orjson.loads(self._blobs[slot])
        was_active = self._live[slot] == 1
        active = bool(record.get("isActive", True))
        self._blobs[slot] = _encode(record)
        self._live[slot] = active
        for column in self._columns.values():
            column.values[slot] = column.value_of(record)
        for text in self._texts.values():
            text.change(slot, record, was_active, active)
        if was_active and active:
            self._reindex(slot, old, record)
        elif was_active:
            self._active -= 1
            self._unindex(slot, old)
        elif active:
            self._active += 1
            self._index(slot, record)
        if self.watcher is not None:
            self.watcher.wrote(self, slot)
        return record

    def clear(self) -> None:
        self.revision.bump()
        self._blobs.clear()
        self._slots.clear()
        self._live.clear()
        self._active = 0
        for index in self.indexes.values():
            index.clear()
        for column in self._columns.values():
            column.values.clear()
            column.shared.clear()
        for text in self._texts.values():
            text.clear()
        if self.watcher is not None:
            self.watcher.cleared(self)

    # -- reads ---------------------------------------------------------------------------------
    def get(self, rid: str, *, include_inactive: bool = False) -> dict[str, Any] | None:
        """The record with this id; soft-deleted ones only with `include_inactive`."""
        slot = self._slots.get(rid)
        if slot is None or not (include_inactive or self._live[slot]):
            return None
        record: dict[str, Any] = orjson.loads(self._blobs[slot])
        return record

    def scan(self) -> Iterator[dict[str, Any]]:
        """Every active record in creation order."""
        return self.decode(self.positions())

    def records(self, *, include_inactive: bool = True) -> list[dict[str, Any]]:
        """Every record in creation order (soft-deleted ones too, unless `include_inactive=False`)."""
        if include_inactive:
            return [orjson.loads(blob) for blob in self._blobs]
        return list(self.scan())

    @property
    def rows(self) -> Mapping[str, dict[str, Any]]:
        """A read-only view id → record of every record, soft-deleted ones included, in creation order."""
        return _RowsView(self)

    # -- slots (for filters.select) ------------------------------------------------------------
    def positions(self) -> Sequence[int]:
        """The slots of the active records, ascending."""
        if self._active == len(self._blobs):
            return range(len(self._blobs))
        return list(compress(range(len(self._live)), self._live))

    @property
    def all_active(self) -> bool:
        """True when no record is soft-deleted (so every slot is an active record)."""
        return self._active == len(self._blobs)

    def indexed(self, field: str, keys: Iterable[Any]) -> Sequence[int] | None:
        """The slots of the active records whose indexed `field` has any of `keys` (compared as
        `index_key` folds them), ascending; None when the field has no index. Read-only."""
        index = self.indexes.get(field)
        if index is None:
            return None
        buckets = [b for b in (index.get(k) for k in {index_key(k) for k in keys}) if b is not None]
        if not buckets:
            return []
        if len(buckets) == 1:
            bucket = buckets[0]
            return [bucket] if isinstance(bucket, int) else bucket
        # A record with an array field can sit in several buckets: merge, drop repeats.
        merged: set[int] = set()
        for bucket in buckets:
            if isinstance(bucket, int):
                merged.add(bucket)
            else:
                merged.update(bucket)
        return sorted(merged)

    def column(self, field: str, form: str = "value") -> list[Any]:
        """Every slot's `field` in `form` (see FORMS), soft-deleted slots included. Read-only."""
        column = self._columns.get((field, form))
        if column is None:
            column = Column(field, form)
            column.values = [column.value_of(orjson.loads(blob)) for blob in self._blobs]
            self._columns[(field, form)] = column
        return column.values

    def search(self, field: str, needles: Iterable[str], wants_null: bool = False) -> TextMatch:
        """The records whose `field`, as `text_key` reads it, holds any of the lowercased `needles`
        (or is unset, with `wants_null`), through the field's text index (built on first use)."""
        index = self._texts.get(field)
        if index is None:
            index = self._texts[field] = TextIndex(field, self._live)
        index.catch_up(self._blobs)
        return index.search(needles, wants_null)

    def catch_up(self) -> None:
        """Bring the text indexes up to date now (after a bulk load, so the next search does not wait)."""
        for index in self._texts.values():
            index.catch_up(self._blobs)

    def stored(self, slot: int) -> bytes:
        """The stored JSON of the record in `slot`."""
        return self._blobs[slot]

    def raw(self, slots: Iterable[int]) -> list[RawJson]:
        """The records in these slots as their stored JSON."""
        blobs = self._blobs
        return [RawJson(blobs[slot]) for slot in slots]

    def decode(self, slots: Iterable[int]) -> Iterator[dict[str, Any]]:
        """The records in these slots, freshly decoded."""
        blobs = self._blobs
        return (orjson.loads(blobs[slot]) for slot in slots)

    # -- indexes -------------------------------------------------------------------------------
    @staticmethod
    def _keys(record: dict[str, Any], field: str) -> set[Any]:
        value = record.get(field)
        if isinstance(value, list):
            keys = {index_key(v) for v in value if not isinstance(v, (dict, list))}
            return keys if value else {None}
        if isinstance(value, dict):
            return set()
        return {index_key(value)}

    def _index(self, slot: int, record: dict[str, Any]) -> None:
        for field, index in self.indexes.items():
            value = record.get(field)
            if isinstance(value, (list, dict)):
                for key in self._keys(record, field):
                    _add(index, key, slot)
                continue
            # One key (every create comes here): `index_key` and `_add`'s usual cases written out,
            # a new slot being the highest of its bucket.
            key = value.lower() if isinstance(value, str) else value
            bucket = index.get(key)
            if bucket is None:
                index[key] = slot
            elif type(bucket) is list and bucket[-1] < slot:
                bucket.append(slot)
            else:
                _add(index, key, slot)

    def _unindex(self, slot: int, record: dict[str, Any]) -> None:
        for field, index in self.indexes.items():
            for key in self._keys(record, field):
                _remove(index, key, slot)

    def _reindex(self, slot: int, old: dict[str, Any], new: dict[str, Any]) -> None:
        for field, index in self.indexes.items():
            before, after = self._keys(old, field), self._keys(new, field)
            for key in before - after:
                _remove(index, key, slot)
            for key in after - before:
                _add(index, key, slot)


def _add(index: dict[Any, Bucket], key: Any, slot: int) -> None:
    bucket = index.get(key)
    if bucket is None:
        index[key] = slot
    elif isinstance(bucket, int):
        if bucket != slot:
            index[key] = [bucket, slot] if bucket < slot else [slot, bucket]
    elif bucket[-1] < slot:
        bucket.append(slot)
    else:
        at = bisect_left(bucket, slot)
        if at == len(bucket) or bucket[at] != slot:
            insort(bucket, slot)


def _remove(index: dict[Any, Bucket], key: Any, slot: int) -> None:
    bucket = index.get(key)
    if bucket is None:
        return
    if isinstance(bucket, int):
        if bucket == slot:
            del index[key]
        return
    at = bisect_left(bucket, slot)
    if at < len(bucket) and bucket[at] == slot:
        del bucket[at]
        if len(bucket) == 1:
            index[key] = bucket[0]


class _RowsView(Mapping[str, dict[str, Any]]):
    """`Table.rows`: every record by id, decoded on access."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def __getitem__(self, rid: str) -> dict[str, Any]:
        record = self._table.get(rid, include_inactive=True)
        if record is None:
            raise KeyError(rid)
        return record

    def __iter__(self) -> Iterator[str]:
        return iter(self._table._slots)

    def __len__(self) -> int:
        return self._table.total

    def values(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return self._table.records()
