"""Values for response keys the twin has no data behind, made from the spec's schema of the key.

A guide's response example may show more than the resource: an analytics summary
(`weeklyAnalytics`), a status object, a list of hints. When no workflow module computes such a
key, the twin still answers it, in the example's shape: objects with every property the example
shows, arrays as arrays (one item of the example's item shape), and scalars as the empty value of
their type — zero, false, "", now for dates, null for IDs — so nothing invented looks like data.
"""

from __future__ import annotations

from typing import Any

from specs.values import DATETIME_PATTERN

_EMPTY: dict[str, Any] = {"integer": 0, "number": 0.0, "boolean": False, "string": ""}


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), None)
    return kind


def sample(schema: Any, now_iso: str) -> Any:
    """A value that `schema` accepts, in its shape (see the module docstring)."""
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), None)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = sample(part, now_iso)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = _kind(schema)
    if kind == "object" or (kind is None and "properties" in schema):
        return {name: sample(sub, now_iso) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        items = schema.get("items")
        return [sample(items, now_iso)] if isinstance(items, dict) and _kind(items) else []
    if kind == "string":
        if schema.get("pattern") == DATETIME_PATTERN or schema.get("format") == "date-time":
            return now_iso
        if schema.get("format") == "uuid":
            return None if "null" in (schema.get("type") or []) else "00000000-0000-4000-8000-000000000000"
        return ""
    if kind in _EMPTY:
        minimum = schema.get("minimum")
        return max(_EMPTY[kind], minimum) if isinstance(minimum, (int, float)) and kind != "boolean" else _EMPTY[kind]
    return None
