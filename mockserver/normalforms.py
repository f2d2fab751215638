"""The canonical forms some property types are stored in, so that stored values compare as the
filters expect (dates as ISO strings in one form, Integers as integers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .clock import isoformat


def _normal_date(value: Any) -> Any:
    """Dates are stored in one canonical ISO form so that range filters compare as strings."""
    if isinstance(value, str):
        try:
            return isoformat(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except (ValueError, OverflowError):  # e.g. 9999-12-31T23:00:00-05:00 is past datetime's range in UTC
            return value
    return value


def _normal_int(value: Any) -> Any:
    """An Integer stays an integer: `-519500.0` is stored as -519500."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _each(normal: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`normal` applied to a value, or to each element of an array value."""
    return lambda value: [normal(v) for v in value] if isinstance(value, list) else normal(value)


NORMAL_FORMS: dict[str, Callable[[Any], Any]] = {"Date": _each(_normal_date), "Integer": _each(_normal_int)}
"""The property types stored in a canonical form, and how a value of each is brought to it."""
