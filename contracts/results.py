"""What a run found: rule results (pass / fail / skip with a reason) and the tallies of response
checks per operation, merged from Schemathesis' generated cases and the scenarios' own calls."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass
class RuleResult:
    """One rule, judged once: on an operation (or a whole service) by one layer of the suite."""

    service: str
    layer: str  # probe | scenario | generated | response
    rule: str
    status: str
    operation: str | None = None
    message: str = ""
    passed: int = 0
    failed: int = 0
    duration: float = 0.0
    examples: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.service, self.operation, self.rule)


@dataclass
class _Tally:
    passed: int = 0
    failed: int = 0
    examples: list[str] = field(default_factory=list)
    layers: set[str] = field(default_factory=set)


class Tally:
    """Thread-safe counts of response-check verdicts per (service, operation, check)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[tuple[str, str, str], _Tally] = {}

    def add(self, service: str, operation: str, check: str, passed: bool, layer: str, example: str = "") -> None:
        with self._lock:
            tally = self._data.setdefault((service, operation, check), _Tally())
            tally.layers.add(layer)
            if passed:
                tally.passed += 1
            else:
                tally.failed += 1
                if example and len(tally.examples) < 3 and example not in tally.examples:
                    tally.examples.append(example)

    def results(self, expected: Iterable[tuple[str, str, str]] = ()) -> list[RuleResult]:
        """One result per tallied (service, operation, check); `expected` ones never seen are skips."""
        with self._lock:
            items = dict(self._data)
        out = []
        for (service, operation, check), tally in sorted(items.items()):
            status = FAIL if tally.failed else PASS
            layer = "+".join(sorted(tally.layers))
            message = tally.examples[0] if tally.examples else ""
            out.append(RuleResult(service=service, layer=layer, rule=check, status=status, operation=operation,
                                  message=message, passed=tally.passed, failed=tally.failed, examples=list(tally.examples)))
        for service, operation, check in expected:
            if (service, operation, check) not in items:
                out.append(RuleResult(service=service, layer="response", rule=check, status=SKIP, operation=operation,
                                      message="no response this rule applies to was observed"))
        return out


@dataclass
class Report:
    """Everything a run found, plus what was run against."""

    results: list[RuleResult]
    services: dict[str, dict[str, object]]  # slug → {baseUrl, operations: [api, …], identities: [...]}
    duration: float = 0.0
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if r.status == FAIL]

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        counts = {PASS: 0, FAIL: 0, SKIP: 0}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    def for_service(self, service: str) -> list[RuleResult]:
        return [r for r in self.results if r.service == service]
