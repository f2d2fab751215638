"""Typed, validated access to request parameters, with Stripe's wording for bad ones.

Parameters arrive either decoded from a form (every leaf a string) or from an in-process call
(ints, bools, dicts); both go through the same checks so both paths behave alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import invalid, missing

_INTEGER = re.compile(r"-?[0-9]{1,18}")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class Params:
    """A parameter dict plus the bracketed path that names its members in error messages."""

    def __init__(self, data: dict[str, Any] | None, prefix: str = "") -> None:
        self.data = {k: v for k, v in (data or {}).items() if v is not None}
        self.prefix = prefix

    def name(self, key: str) -> str:
        """The parameter's full name as the client spelled it (`card[number]`)."""
        return f"{self.prefix}[{key}]" if self.prefix else key

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, *, required: bool = False, choices: Iterable[str] | None = None,
             max_length: int = 5000) -> str | None:
        """A string parameter (numbers are accepted and turned into text)."""
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise invalid(self.name(key), f"Invalid string: {value!r} for {self.name(key)}.")
        value = str(value)
        if len(value) > max_length:
            raise invalid(self.name(key), f"Invalid {self.name(key)}: must be at most {max_length} characters.")
        allowed = list(choices) if choices is not None else None
        if allowed is not None and value not in allowed:
            raise invalid(self.name(key), f"Invalid {self.name(key)}: must be one of {', '.join(allowed)}.")
        return value

    def integer(self, key: str, *, required: bool = False, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        """An integer parameter; `minimum`/`maximum` are inclusive."""
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return None
        if isinstance(value, bool):
            raise invalid(self.name(key), f"Invalid integer: {value}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and _INTEGER.fullmatch(value):
            number = int(value)
        else:
            raise invalid(self.name(key), f"Invalid integer: {value}")
        if minimum is not None and number < minimum:
            raise invalid(self.name(key), f"Invalid {self.name(key)}: must be at least {minimum}.")
        if maximum is not None and number > maximum:
            raise invalid(self.name(key), f"Invalid {self.name(key)}: must be at most {maximum}.")
        return number

    def boolean(self, key: str, default: bool = False) -> bool:
        """A boolean parameter (`true`/`false` on the wire)."""
        value = self.data.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise invalid(self.name(key), f"Invalid boolean: {value}")

    def nested(self, key: str, *, required: bool = False) -> Params:
        """A hash parameter (`card[...]`), as Params that name their members under it."""
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return Params({}, self.name(key))
        if not isinstance(value, dict):
            raise invalid(self.name(key), f"Invalid hash for {self.name(key)}.")
        return Params(value, self.name(key))

    def items(self, key: str) -> list[Params]:
        """An array of hashes (`line_items[0][...]`)."""
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if not isinstance(value, list | tuple):
            raise invalid(self.name(key), f"Invalid array for {self.name(key)}.")
        result = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise invalid(f"{self.name(key)}[{index}]", f"Invalid hash for {self.name(key)}[{index}].")
            result.append(Params(item, f"{self.name(key)}[{index}]"))
        return result

    def strings(self, key: str) -> list[str]:
        """An array of strings (`expand[]`, `enabled_events[]`); a single string counts as one item."""
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise invalid(self.name(key), f"Invalid array for {self.name(key)}.")
        return list(value)

    def metadata(self, key: str = "metadata") -> dict[str, str] | None:
        """Stripe metadata: at most 50 keys of 40 characters, values of 500; None when not given."""
        value = self.data.get(key)
        if value is None:
            return None
        if value == "":
            return {}  # `metadata=` clears it, as in Stripe
        if not isinstance(value, dict):
            raise invalid(self.name(key), f"Invalid hash for {self.name(key)}.")
        if len(value) > 50:
            raise invalid(self.name(key), "Invalid metadata: metadata can have at most 50 keys.")
        result: dict[str, str] = {}
        for name, item in value.items():
            if len(str(name)) > 40:
                raise invalid(f"{self.name(key)}[{name}]", "Invalid metadata: keys can be at most 40 characters.")
            if isinstance(item, dict | list):
                raise invalid(f"{self.name(key)}[{name}]", "Invalid metadata: values must be strings.")
            text = "" if item is None else str(item).lower() if isinstance(item, bool) else str(item)
            if len(text) > 500:
                raise invalid(f"{self.name(key)}[{name}]", "Invalid metadata: values can be at most 500 characters.")
            result[str(name)] = text
        return result


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Stripe's update rule: given keys are set, keys set to "" are removed, `metadata=""` clears all."""
    if update is None:
        return current
    if not update:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
