"""Who may call an operation, as its spec states it: the operation-level `x-twin-access`.

`twin specs build` writes it from the service's role overlay (`specs/overlay.py`); the twin reads it
to enforce the role table and the judge to check every (API, role) pair. Absent means every role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ACCESS_KEY = "x-twin-access"


def access_of(operation: Mapping[str, Any]) -> frozenset[str] | None:
    """The roles that may call `operation` (an OpenAPI operation object), or None when its spec
    leaves it open to every role. Raises `ValueError` when `x-twin-access` is not a list of names."""
    value = operation.get(ACCESS_KEY)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(role, str) and role for role in value):
        api = operation.get("x-twin-api") or operation.get("operationId") or "an operation"
        raise ValueError(f"{api}: {ACCESS_KEY} must be a list of role names, not {value!r}")
    return frozenset(value)
