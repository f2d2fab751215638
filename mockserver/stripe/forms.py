"""Stripe's form encoding: `metadata[orderId]=x`, `expand[]=customer`, `line_items[0][price_data][unit_amount]=500`.

The SDK flattens nested parameters into bracketed keys (lists always get an index); this module
turns them back into dicts and lists so the rest of the fake works on plain values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import InvalidRequest

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
_APPEND = object()  # marks `name[]`, which appends to a list


def _parts(key: str) -> list[Any]:
    match = _KEY.match(key)
    if match is None:
        raise InvalidRequest(f"Invalid parameter name: {key!r}.", param=key, code="parameter_invalid")
    parts: list[Any] = [match.group(1)]
    parts.extend(_APPEND if p == "" else p for p in _PART.findall(match.group(2)))
    return parts


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest bracketed form keys into dicts; dicts whose keys are all indices become lists (in index order)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _parts(key)
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            # `a[]` is stored like `a[<next index>]`; the list conversion below restores the order
            name = str(sum(1 for k in node if k.isdigit())) if part is _APPEND else part
            if last:
                if isinstance(node.get(name), dict):
                    raise InvalidRequest(f"Invalid value for {key}: it is also given as a hash.", param=key)
                node[name] = value
            else:
                child = node.setdefault(name, {})
                if not isinstance(child, dict):
                    raise InvalidRequest(f"Invalid hash for {key}: {parts[0]} is also given as a plain value.",
                                         param=key)
                node = child
    nested: dict[str, Any] = _listify(root)
    return nested


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v) for k, v in value.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted
