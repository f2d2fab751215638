"""The check vocabulary: an `Exchange` (one request and its answer, with the operation's facts),
small named check functions over it, and a registry.

A check returns `NOT_APPLICABLE` (True) when the rule says nothing about this exchange (e.g. the
success envelope on a 404), returns None when the rule holds, and raises `CheckFailed` naming
every problem it found. The same functions judge Schemathesis' generated cases (through
`contracts.checks.schemathesis_adapter`) and every response a scenario receives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..spec import OperationFacts, ServiceSpec

NOT_APPLICABLE = True
NOT_JSON: Any = object()

ISO_DATETIME = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$"
)


class CheckFailed(AssertionError):
    """A rule does not hold; the message names each problem (Schemathesis reports AssertionErrors)."""


@dataclass
class Exchange:
    """One HTTP exchange as the checks see it."""

    spec: ServiceSpec
    facts: OperationFacts
    method: str  # the method actually sent (upper case)
    url: str
    status: int
    headers: Mapping[str, str]  # lower-case names
    text: str
    request_headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    _body: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def body(self) -> Any:
        """The parsed JSON body, or `NOT_JSON`."""
        if not self._parsed:
            try:
                self._body = json.loads(self.text) if self.text else NOT_JSON
            except ValueError:
                self._body = NOT_JSON
            self._parsed = True
        return self._body

    @property
    def query(self) -> dict[str, list[str]]:
        """The request's query parameters."""
        return parse_qs(urlsplit(self.url).query, keep_blank_values=True)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def sends_foreign_media_type(self) -> bool:
        """True for probes whose body is not JSON (the guides only speak of JSON requests)."""
        content_type = self.request_headers.get("content-type", "")
        return bool(content_type) and "json" not in content_type.lower()

    @property
    def same_method(self) -> bool:
        """False for probes sending a method the operation does not declare (their answer is the router's)."""
        return self.method.upper() == self.facts.method


class Problems:
    """Collects every problem of one check, then fails once with all of them."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.items:
            self.items.append(message)

    def expect(self, condition: bool, message: str) -> bool:
        if not condition:
            self.add(message)
        return condition

    def raise_if_any(self) -> None:
        if self.items:
            shown = self.items[:8]
            more = f" (and {len(self.items) - 8} more)" if len(self.items) > 8 else ""
            raise CheckFailed("; ".join(shown) + more)


CheckFunction = Callable[[Exchange], bool | None]


@dataclass(frozen=True)
class Check:
    """A registered rule over single responses."""

    name: str
    category: str  # envelope, resource, error, status, transport
    description: str
    func: CheckFunction
    applies_to: Callable[[OperationFacts], bool] | None = None

    def applies(self, facts: OperationFacts) -> bool:
        """Whether the rule can apply to some answer of this operation at all (by its facts)."""
        return self.applies_to is None or self.applies_to(facts)

    def __call__(self, exchange: Exchange) -> bool | None:
        return self.func(exchange)


REGISTRY: dict[str, Check] = {}


def response_check(name: str, category: str, description: str,
                   applies_to: Callable[[OperationFacts], bool] | None = None) -> Callable[[CheckFunction], CheckFunction]:
    """Register a response rule under `name` (teams may add their own the same way); `applies_to`
    says from an operation's facts alone whether the rule can concern it (lists only, …)."""
    def register(func: CheckFunction) -> CheckFunction:
        REGISTRY[name] = Check(name=name, category=category, description=description, func=func, applies_to=applies_to)
        return func
    return register


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check on one exchange."""

    check: str
    passed: bool
    message: str = ""


def judge(exchange: Exchange, names: list[str] | None = None) -> list[Verdict]:
    """Run the registered checks (or `names`) on an exchange; not-applicable ones are left out."""
    verdicts = []
    for name, check in REGISTRY.items():
        if names is not None and name not in names:
            continue
        try:
            skipped = check(exchange)
        except CheckFailed as error:
            verdicts.append(Verdict(name, False, str(error)))
            continue
        except Exception as error:  # a check bug reads as a failure, never as a pass
            verdicts.append(Verdict(name, False, f"check raised {type(error).__name__}: {error}"))
            continue
        if not skipped:
            verdicts.append(Verdict(name, True))
    return verdicts


# -- value helpers shared by the checks ----------------------------------------------------------
def is_iso_datetime(value: Any) -> bool:
    """An ISO-8601 date-time with a time zone, that is also a real instant."""
    if not isinstance(value, str) or not ISO_DATETIME.match(value):
        return False
    text = value.replace("Z", "+00:00")
    # fromisoformat of 3.11 takes at most 6 fractional digits
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def type_problem(guide_type: str, value: Any) -> str | None:
    """Why `value` is not of the guide's type (None when it is, or when it is null)."""
    if value is None:
        return None
    kind = guide_type.lower()
    if kind in ("id", "string", "text", "enum") and not isinstance(value, str):
        return f"is {type(value).__name__} {value!r}, expected a string ({guide_type})"
    if kind == "id" and isinstance(value, str) and not value:
        return "is an empty ID"
    if kind == "integer" and not is_int(value):
        return f"is {type(value).__name__} {value!r}, expected an integer"
    if kind in ("double", "number", "float") and not is_number(value):
        return f"is {type(value).__name__} {value!r}, expected a number"
    if kind == "boolean" and not isinstance(value, bool):
        return f"is {type(value).__name__} {value!r}, expected a boolean"
    if kind == "date" and not is_iso_datetime(value):
        return f"is {value!r}, expected an ISO-8601 date-time"
    if kind == "object" and not isinstance(value, (dict, list)):
        return f"is {type(value).__name__} {value!r}, expected an object"
    return None


def resources(exchange: Exchange) -> list[tuple[str, dict[str, Any]]]:
    """The resource objects of a success body, each with a label for messages."""
    body = exchange.body
    if not isinstance(body, dict):
        return []
    data = body.get(exchange.facts.data_name)
    name = exchange.facts.data_name
    if isinstance(data, list):
        return [(f"{name}[{i}]", item) for i, item in enumerate(data) if isinstance(item, dict)]
    if isinstance(data, dict):
        return [(name, data)]
    return []
