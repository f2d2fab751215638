"""Registers the suite's response rules as Schemathesis 4 custom checks.

Each rule becomes a function `(ctx, response, case)` named like the rule; it finds the
operation's `x-twin-*` facts from the case's schema and judges the response. Registration is
idempotent, so importing this from a Schemathesis hooks file (`SCHEMATHESIS_HOOKS=contracts.checks.schemathesis_adapter`)
works as well as calling `register()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis

from ..registry import load_builtins
from ..spec import ServiceSpec, parse_spec
from .base import REGISTRY, Check, Exchange

_SPECS: dict[int, tuple[Any, ServiceSpec]] = {}
_REGISTERED: dict[str, Any] = {}


def spec_of(schema: Any) -> ServiceSpec:
    """The facts of a loaded Schemathesis schema (cached per schema document)."""
    raw = schema.raw_schema
    cached = _SPECS.get(id(raw))
    if cached is None or cached[0] is not raw:
        location = getattr(schema, "location", None) or "spec.yaml"
        cached = (raw, parse_spec(raw, Path(str(location))))
        _SPECS[id(raw)] = cached
    return cached[1]


def exchange_of(response: Any, case: Any) -> Exchange | None:
    """An `Exchange` for a Schemathesis response, or None when the operation has no twin facts."""
    spec = spec_of(case.operation.schema)
    facts = spec.by_label.get(case.operation.label)
    if facts is None:
        return None
    request = response.request
    headers = {key.lower(): (values[0] if isinstance(values, list) and values else str(values))
               for key, values in response.headers.items()}
    try:
        text = response.content.decode(response.encoding or "utf-8", errors="replace")
    except (LookupError, AttributeError):
        text = ""
    sent = {str(k).lower(): str(v) for k, v in (getattr(request, "headers", None) or {}).items()}
    return Exchange(spec=spec, facts=facts, method=str(request.method or facts.method).upper(), url=str(request.url),
                    status=response.status_code, headers=headers, text=text, request_headers=sent)


def _adapt(check: Check) -> Any:
    def run(ctx: Any, response: Any, case: Any) -> bool | None:
        exchange = exchange_of(response, case)
        if exchange is None:
            return True
        return check(exchange)
    run.__name__ = check.name
    run.__qualname__ = check.name
    run.__doc__ = check.description
    return run


def register() -> list[str]:
    """Register every rule of `REGISTRY` (the built-ins loaded first) with Schemathesis; answers their names."""
    load_builtins()
    for name, check in REGISTRY.items():
        if name not in _REGISTERED:
            _REGISTERED[name] = schemathesis.check(_adapt(check))
    return sorted(_REGISTERED)


register()
