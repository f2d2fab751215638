"""List filters with the semantics the guides state, planned against the table's indexes.

- ID: exact; enum: case-insensitive exact; string: case-insensitive substring ("partial match");
- repeating a parameter means "any of"; `null` matches records where the field is unset;
- dates: a day (`2024-01-15`), an instant, or a special (`$today`, `$ltoday`, `$week`, `$lweek`,
  `$month`, `$leq-<date>`, `$lin-<date>`), read against the twin's clock.
An exact or enum condition on an indexed field narrows the candidates through the index, a partial
match through the field's trigram index (`textindex`); the smallest candidate set leads, the
others are checked on it; the remaining conditions run over the table's column of their field
(see `store`), without decoding records; only the page a list shows is decoded.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .clock import isoformat
from .errors import ApiError
from .store import Table, index_key
from .textindex import TextMatch, text_key

Predicate = Callable[[dict[str, Any]], bool]
Test = Callable[[Any], bool]
Scan = Callable[[list[Any], Sequence[int] | None], list[int]]


@dataclass(eq=False)
class Condition:
    """One field condition.

    `predicate` checks a whole record. `test`, when given, checks the field's value alone, in the
    column form `form` (see `store.FORMS`), which lets `select` run the condition over a column
    of the table instead of decoding records; `scan`, when given, does that for a whole column
    faster than calling `test` per slot. `keys`, for exact conditions, are the index keys matched;
    `search`, for substring conditions, finds the matches through the table's text index.
    """

    field: str
    predicate: Predicate
    keys: set[Any] | None = None
    test: Test | None = None
    form: str = "value"
    scan: Scan | None = None
    search: Callable[[Table], TextMatch] | None = None


def _on_field(field: str, test: Test, derive: Callable[[Any], Any] | None = None) -> Predicate:
    if derive is None:
        return lambda record: test(record.get(field))
    return lambda record: test(derive(record.get(field)))


def scan_with(test: Test) -> Scan:
    """A column scan calling `test` on each slot's value (`slots` None: every slot)."""
    def scan(column: list[Any], slots: Sequence[int] | None) -> list[int]:
        if slots is None:
            return [slot for slot, value in enumerate(column) if test(value)]
        return [slot for slot in slots if test(column[slot])]

    return scan


def exact(field: str, values: list[Any]) -> Condition:
    """Field equals any of the values (array fields: contains any); case-insensitive for strings."""
    keys = {None if v in (None, "null") else index_key(v) for v in values}

    def test(value: Any) -> bool:
        if isinstance(value, list):
            return any(index_key(v) in keys for v in value) or (not value and None in keys)
        return index_key(value) in keys

    return Condition(field, _on_field(field, test), keys, test)


def partial(field: str, values: list[str]) -> Condition:
    """Case-insensitive substring of any of the values; `null` matches an unset field."""
    wants_null = "null" in values
    needles = [v.lower() for v in values if v != "null"]

    def test(text: str | None) -> bool:  # text: the value as `store.text_key` reads it
        if text is None:
            return wants_null
        return any(needle in text for needle in needles)

    def search_index(table: Table) -> TextMatch:
        return table.search(field, needles, wants_null)

    return Condition(field, _on_field(field, test, text_key), test=test, form="text", search=search_index)


def _day(text: str) -> datetime:
    """Midnight UTC of a YYYY-MM-DD day; a day past the month's end means its last day."""
    try:
        year, month, day = (int(part) for part in text[:10].split("-"))
        return datetime(year, month, min(day, calendar.monthrange(year, month)[1]), tzinfo=UTC)
    except ValueError:
        raise ApiError(400, "errMsg_dateFilterIsNotAValidDate", f"{text!r} is not a date") from None


def _after(moment: datetime, delta: timedelta) -> datetime | None:
    """`moment + delta`, or None (unbounded) past the last day datetime knows (9999-12-31)."""
    try:
        return moment + delta
    except OverflowError:
        return None


def date_range(value: str, now: datetime) -> tuple[str | None, str | None]:
    """The [start, end) ISO bounds a date filter value stands for (None = unbounded)."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    day = timedelta(days=1)
    start: datetime | None
    end: datetime | None
    if value == "$today":
        start, end = today, today + day
    elif value == "$ltoday":
        start, end = None, today
    elif value == "$week":
        start, end = week, week + timedelta(days=7)
    elif value == "$lweek":
        start, end = week - timedelta(days=7), week
    elif value == "$month":
        start, end = month, next_month
    elif value.startswith("$leq-"):
        start, end = None, _after(_day(value[5:]), day)
    elif value.startswith("$lin-"):
        start, end = _day(value[5:]), None
    elif len(value) == 10:
        start, end = _day(value), _after(_day(value), day)
    else:
        try:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            instant = _day(value)
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        end = _after(instant, timedelta(milliseconds=1))
        try:
            return isoformat(instant), isoformat(end) if end else None
        except OverflowError:  # before 0001-01-01T00:00Z in UTC: no stored date is that early
            return "", ""
    return (isoformat(start) if start else None, isoformat(end) if end else None)


def dates(field: str, values: list[str], now: datetime) -> Condition:
    """Field (an ISO date-time) inside any of the values' ranges; `null` matches unset."""
    wants_null = "null" in values
    ranges = [date_range(v, now) for v in values if v != "null"]

    def test(value: Any) -> bool:
        if value is None:
            return wants_null
        return any((lo is None or value >= lo) and (hi is None or value < hi) for lo, hi in ranges)

    return Condition(field, _on_field(field, test), test=test)


def _typed(guide_type: str, raw: Any) -> Any:
    """A filter value as its property stores it (`?aiScore=1` names the Integer 1, not "1")."""
    if not isinstance(raw, str) or raw == "null":
        return raw
    if guide_type in ("Integer", "Double", "Number"):
        try:
            return int(raw)
        except ValueError:
            pass
        try:
            return float(raw)  # 1.0 == 1: a whole number matches either way
        except ValueError:
            return raw
    if guide_type == "Boolean" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw


def condition_for(match: str, field: str, values: list[Any], now: datetime, guide_type: str = "String") -> Condition:
    """The condition for one declared filter's values (of the property's guide type)."""
    if match in ("exact", "enum"):
        return exact(field, [_typed(guide_type, v) for v in values])
    if match == "date":
        return dates(field, values, now)
    return partial(field, [str(v) for v in values])


def _intersect(slots: Sequence[int], other: Sequence[int]) -> list[int]:
    """The slots also in `other` (both ascending)."""
    if len(slots) * 16 < len(other):
        found = []
        for slot in slots:
            at = bisect_left(other, slot)
            if at < len(other) and other[at] == slot:
                found.append(slot)
        return found
    members = set(other)
    return [slot for slot in slots if slot in members]


def select(
    table: Table, conditions: list[Condition], offset: int = 0, limit: int | None = None, *, raw: bool = False
) -> tuple[int, list[Any]]:
    """Total matches and the [offset, offset+limit) window of them, in creation order; with `raw`,
    the window's records come as their stored JSON (`RawJson`) where no predicate decoded them.

    Exact conditions on indexed fields narrow through the index (the smallest bucket first), the
    other conditions with a value test scan the table's column of their field, and only the rest
    (record-level predicates) decode records; then only the window is decoded."""
    stop = None if limit is None else offset + limit
    planned: list[tuple[int, Condition, Sequence[int] | TextMatch]] = []
    for c in conditions:
        found = table.indexed(c.field, c.keys) if c.keys is not None else None
        if found is not None:
            planned.append((len(found), c, found))
        elif c.search is not None:
            match = c.search(table)
            planned.append((match.size, c, match))
    planned.sort(key=lambda item: item[0])
    used = {id(c) for _, c, _ in planned}
    slots: Sequence[int] | None
    if planned:
        # Index buckets and text matches hold active records only; the smallest set leads.
        lead = planned[0][2]
        slots = lead.slots() if isinstance(lead, TextMatch) else lead
        for _, _, narrower in planned[1:]:
            slots = narrower.filter(slots) if isinstance(narrower, TextMatch) else _intersect(slots, narrower)
    else:
        # None stands for every slot (valid while no record is soft-deleted).
        slots = None if table.all_active else table.positions()
    record_level = []
    for c in conditions:
        if id(c) in used:
            continue
        if c.test is None:
            record_level.append(c)
            continue
        slots = (c.scan or scan_with(c.test))(table.column(c.field, c.form), slots)
    if slots is None:
        slots = table.positions()
    if record_level:
        records = [r for r in table.decode(slots) if all(c.predicate(r) for c in record_level)]
        return len(records), records[offset:stop]
    window = slots[offset:stop]
    return len(slots), table.raw(window) if raw else list(table.decode(window))
