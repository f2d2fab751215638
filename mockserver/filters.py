"""List filters with the semantics the guides state, planned against the table's indexes.

- ID: exact; enum: case-insensitive exact; string: case-insensitive substring ("partial match");
- repeating a parameter means "any of"; `null` matches records where the field is unset;
- dates: a day (`2024-01-15`), an instant, or a special (`$today`, `$ltoday`, `$week`, `$lweek`,
  `$month`, `$leq-<date>`, `$lin-<date>`), read against the twin's clock.
An exact or enum condition on an indexed field narrows the candidates through the index; the
rest are checked record by record.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import orjson

from .clock import isoformat
from .errors import ApiError
from .store import Table, index_key

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class Condition:
    """One field condition: index keys when it is exact, and a record predicate either way."""

    field: str
    predicate: Predicate
    keys: set[Any] | None = None


def exact(field: str, values: list[Any]) -> Condition:
    """Field equals any of the values (array fields: contains any); case-insensitive for strings."""
    keys = {None if v in (None, "null") else index_key(v) for v in values}

    def predicate(record: dict[str, Any]) -> bool:
        value = record.get(field)
        if isinstance(value, list):
            return any(index_key(v) in keys for v in value) or (not value and None in keys)
        return index_key(value) in keys

    return Condition(field, predicate, keys)


def partial(field: str, values: list[str]) -> Condition:
    """Case-insensitive substring of any of the values; `null` matches an unset field."""
    wants_null = "null" in values
    needles = [v.lower() for v in values if v != "null"]

    def predicate(record: dict[str, Any]) -> bool:
        value = record.get(field)
        if value is None:
            return wants_null
        text = orjson.dumps(value).decode().lower() if isinstance(value, (dict, list)) else str(value).lower()
        return any(n in text for n in needles)

    return Condition(field, predicate)


def _day(text: str) -> datetime:
    """Midnight UTC of a YYYY-MM-DD day; a day past the month's end means its last day."""
    try:
        year, month, day = (int(part) for part in text[:10].split("-"))
        return datetime(year, month, min(day, calendar.monthrange(year, month)[1]), tzinfo=UTC)
    except ValueError:
        raise ApiError(400, "errMsg_dateFilterIsNotAValidDate", f"{text!r} is not a date") from None


def date_range(value: str, now: datetime) -> tuple[str | None, str | None]:
    """The [start, end) ISO bounds a date filter value stands for (None = unbounded)."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    day = timedelta(days=1)
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
        start, end = None, _day(value[5:]) + day
    elif value.startswith("$lin-"):
        start, end = _day(value[5:]), None
    elif len(value) == 10:
        start, end = _day(value), _day(value) + day
    else:
        try:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            instant = _day(value)
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return isoformat(instant), isoformat(instant + timedelta(milliseconds=1))
    return (isoformat(start) if start else None, isoformat(end) if end else None)


def dates(field: str, values: list[str], now: datetime) -> Condition:
    """Field (an ISO date-time) inside any of the values' ranges; `null` matches unset."""
    wants_null = "null" in values
    ranges = [date_range(v, now) for v in values if v != "null"]

    def predicate(record: dict[str, Any]) -> bool:
        value = record.get(field)
        if value is None:
            return wants_null
        return any((lo is None or value >= lo) and (hi is None or value < hi) for lo, hi in ranges)

    return Condition(field, predicate)


def condition_for(match: str, field: str, values: list[Any], now: datetime) -> Condition:
    """The condition for one declared filter's values."""
    if match in ("exact", "enum"):
        return exact(field, values)
    if match == "date":
        return dates(field, values, now)
    return partial(field, [str(v) for v in values])


def select(
    table: Table, conditions: list[Condition], offset: int = 0, limit: int | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Total matches and the [offset, offset+limit) window of them, in creation order."""
    source: Iterator[dict[str, Any]] | None = None
    count = -1
    rest = list(conditions)
    planned = [
        (c, table.candidates(c.field, c.keys)) for c in conditions if c.keys is not None and c.field in table.indexes
    ]
    if planned:
        best, (count, source) = min(planned, key=lambda item: item[1][0])  # type: ignore[index]
        rest.remove(best)
    if source is None:
        source, count = table.scan(), len(table)
    if not rest:
        stop = None if limit is None else offset + limit
        return count, list(islice(source, offset, stop))
    total, window = 0, []
    stop = None if limit is None else offset + limit
    for record in source:
        if all(c.predicate(record) for c in rest):
            if total >= offset and (stop is None or total < stop):
                window.append(record)
            total += 1
    return total, window
