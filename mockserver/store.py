"""In-memory records of one data object, with indexes for the fields lists filter on exactly.

Records keep creation order (a dict is ordered), which is the lists' stable order. Soft-deleted
records stay in `rows` (a get by id can still report them to the engine) but leave `active` and
every index, so lists never see them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Any


def index_key(value: Any) -> Any:
    """How a value is keyed in an index: strings case-folded (enum filters are case-insensitive)."""
    return value.lower() if isinstance(value, str) else value


class Table:
    """The records of one data object."""

    def __init__(self, name: str, indexed: Iterable[str] = ()) -> None:
        self.name = name
        self.rows: dict[str, dict[str, Any]] = {}
        self.active: dict[str, dict[str, Any]] = {}
        self.seq: dict[str, int] = {}
        self._next = 0
        self.indexes: dict[str, dict[Any, dict[str, None]]] = {f: {} for f in indexed}
        # Buckets that received a record out of creation order (after an update) are re-sorted
        # lazily on their next read.
        self._dirty: set[tuple[str, Any]] = set()

    def __len__(self) -> int:
        return len(self.active)

    # -- writes --------------------------------------------------------------------------------
    def insert(self, record: dict[str, Any]) -> dict[str, Any]:
        """Add a new record (it must carry a unique `id`)."""
        rid = record["id"]
        self.rows[rid] = record
        self.seq[rid] = self._next
        self._next += 1
        if record.get("isActive", True):
            self.active[rid] = record
            self._index(rid, record)
        return record

    def replace(self, record: dict[str, Any]) -> dict[str, Any]:
        """Store a new version of an existing record, keeping its place in the order."""
        rid = record["id"]
        old = self.rows[rid]
        was_active = rid in self.active
        self.rows[rid] = record
        if not record.get("isActive", True):
            if was_active:
                self._unindex(rid, old)
            self.active.pop(rid, None)
            return record
        if was_active:
            self.active[rid] = record
            self._reindex(rid, old, record)
        else:
            # Re-activation keeps creation order by rebuilding the ordered view.
            self.active[rid] = record
            self.active = dict(sorted(self.active.items(), key=lambda kv: self.seq[kv[0]]))
            self._index(rid, record)
        return record

    def clear(self) -> None:
        self.rows.clear()
        self.active.clear()
        self.seq.clear()
        for index in self.indexes.values():
            index.clear()
        self._dirty.clear()

    # -- reads ---------------------------------------------------------------------------------
    def get(self, rid: str, *, include_inactive: bool = False) -> dict[str, Any] | None:
        """The record with this id; soft-deleted ones only with `include_inactive`."""
        if include_inactive:
            return self.rows.get(rid)
        return self.active.get(rid)

    def candidates(self, field: str, keys: Iterable[Any]) -> tuple[int, Iterator[dict[str, Any]]] | None:
        """Active records whose indexed `field` has any of `keys`, in creation order, with their
        count; None when the field is not indexed."""
        index = self.indexes.get(field)
        if index is None:
            return None
        buckets = [self._ordered(field, key) for key in {index_key(k) for k in keys} if index.get(key)]
        if not buckets:
            return 0, iter(())
        if len(buckets) == 1:
            bucket = buckets[0]
            return len(bucket), (self.active[rid] for rid in bucket)
        # A record with an array field can sit in several buckets: merge by order, skip repeats.
        merged = heapq.merge(*buckets, key=self.seq.__getitem__)
        seen: set[str] = set()
        ids = [rid for rid in merged if not (rid in seen or seen.add(rid))]  # type: ignore[func-returns-value]
        return len(ids), (self.active[rid] for rid in ids)

    def scan(self) -> Iterator[dict[str, Any]]:
        """Every active record in creation order."""
        return iter(self.active.values())

    # -- indexes -------------------------------------------------------------------------------
    def _keys(self, record: dict[str, Any], field: str) -> list[Any]:
        value = record.get(field)
        if isinstance(value, list):
            return [index_key(v) for v in value] or [None]
        return [index_key(value)]

    def _ordered(self, field: str, key: Any) -> dict[str, None]:
        bucket = self.indexes[field][key]
        if (field, key) in self._dirty:
            self._dirty.discard((field, key))
            bucket = dict.fromkeys(sorted(bucket, key=self.seq.__getitem__))
            self.indexes[field][key] = bucket
        return bucket

    def _add(self, field: str, key: Any, rid: str) -> None:
        if isinstance(key, (dict, list)):
            return
        bucket = self.indexes[field].setdefault(key, {})
        if bucket and self.seq[next(reversed(bucket))] > self.seq[rid]:
            self._dirty.add((field, key))
        bucket[rid] = None

    def _index(self, rid: str, record: dict[str, Any]) -> None:
        for field in self.indexes:
            for key in self._keys(record, field):
                self._add(field, key, rid)

    def _reindex(self, rid: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for field, index in self.indexes.items():
            before, after = self._keys(old, field), self._keys(new, field)
            if before == after:
                continue
            for key in before:
                bucket = index.get(key) if not isinstance(key, (dict, list)) else None
                if bucket is not None and key not in after:
                    bucket.pop(rid, None)
                    if not bucket:
                        del index[key]
            for key in after:
                if key not in before:
                    self._add(field, key, rid)

    def _unindex(self, rid: str, record: dict[str, Any]) -> None:
        for field, index in self.indexes.items():
            for key in self._keys(record, field):
                if isinstance(key, (dict, list)):
                    continue
                bucket = index.get(key)
                if bucket is not None:
                    bucket.pop(rid, None)
                    if not bucket:
                        del index[key]
