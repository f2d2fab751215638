"""The response-check vocabulary: `Exchange`, `response_check`, `judge` and the `REGISTRY`.

Importing this package registers nothing; the built-in checks (`envelope`, `errors`, `resources`)
are registered by `contracts.registry.load_builtins()`. `contracts.checks.schemathesis_adapter.register()`
also registers each with Schemathesis 4 (`@schemathesis.check`), so `schemathesis run` and the suite
judge generated cases by the same rules.
"""

from __future__ import annotations

from .base import NOT_APPLICABLE, REGISTRY, Check, CheckFailed, Exchange, Verdict, judge, response_check

__all__ = ["NOT_APPLICABLE", "REGISTRY", "Check", "CheckFailed", "Exchange", "Verdict", "judge", "response_check"]
