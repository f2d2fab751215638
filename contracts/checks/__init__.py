"""The suite's response rules. Importing this package registers them all in `REGISTRY`.

`contracts.checks.schemathesis_adapter.register()` also registers each with Schemathesis 4
(`@schemathesis.check`), so `schemathesis run` and the suite judge generated cases by the same rules.
"""

from __future__ import annotations

from . import envelope, errors, resources
from .base import NOT_APPLICABLE, REGISTRY, Check, CheckFailed, Exchange, Verdict, judge, response_check

__all__ = ["NOT_APPLICABLE", "REGISTRY", "Check", "CheckFailed", "Exchange", "Verdict", "envelope", "errors", "judge",
           "resources", "response_check"]
