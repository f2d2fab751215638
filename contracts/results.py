"""What a run found: rule results (pass / fail / skip with a reason) and the tallies of response
checks per operation, merged from Schemathesis' generated cases and the scenarios' own calls."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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
    exchange: dict[str, str] | None = None  # request, response, curl of the failing call

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.service, self.operation, self.rule)


@dataclass
class Created:
    """A record the run created."""

    service: str
    object: str
    id: str
    identity: str | None
    tenant: str | None
    record: dict[str, Any] | None = None  # as the create answered it (parent ids for nested routes)


class Ledger:
    """Thread-safe record of what the run created and deleted, per service."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._created: dict[tuple[str, str], Created] = {}
        self._deleted: set[tuple[str, str]] = set()
        self._states: dict[tuple[str, str], dict[str, Any]] = {}

    def seen(self, service: str, record: dict[str, Any]) -> dict[str, Any] | None:
        """Remember the system fields of `record` as now answered; answer how they were last seen (None: new)."""
        state: dict[str, Any] = {k: record[k] for k in ("_owner", "createdAt", "updatedAt", "recordVersion", "isActive") if k in record}
        with self._lock:
            before = self._states.get((service, record["id"]))
            self._states[(service, record["id"])] = state
        return before

    def created(self, service: str, obj: str, record_id: str, identity: str | None, tenant: str | None,
                record: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._created.setdefault((service, record_id), Created(service, obj, record_id, identity, tenant, record))

    def deleted(self, service: str, record_id: str) -> None:
        with self._lock:
            self._deleted.add((service, record_id))

    def live(self, service: str) -> list[Created]:
        """Records of `service` the run created and has not deleted, in creation order."""
        with self._lock:
            return [c for (s, i), c in self._created.items() if s == service and (s, i) not in self._deleted]

    def ids(self, service: str) -> set[str]:
        with self._lock:
            return {i for (s, i) in self._created if s == service}

    def records(self) -> list[Created]:
        """Every record the run created, in creation order."""
        with self._lock:
            return list(self._created.values())

    def is_deleted(self, service: str, record_id: str) -> bool:
        with self._lock:
            return (service, record_id) in self._deleted


@dataclass
class _Tally:
    passed: int = 0
    failed: int = 0
    examples: list[str] = field(default_factory=list)
    layers: set[str] = field(default_factory=set)
    exchange: dict[str, str] | None = None


class Tally:
    """Thread-safe counts of response-check verdicts per (service, operation, check), and the run's
    ledger of created records (every client of the run writes to both)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[tuple[str, str, str], _Tally] = {}
        self.ledger = Ledger()

    def add(self, service: str, operation: str, check: str, passed: bool, layer: str, example: str = "",
            exchange: dict[str, str] | None = None) -> None:
        with self._lock:
            tally = self._data.setdefault((service, operation, check), _Tally())
            tally.layers.add(layer)
            if passed:
                tally.passed += 1
            else:
                tally.failed += 1
                if tally.exchange is None:
                    tally.exchange = exchange
                if example and len(tally.examples) < 3 and example not in tally.examples:
                    tally.examples.append(example)

    def export(self) -> tuple[dict[tuple[str, str, str], _Tally], list[Created]]:
        """The tallies and created records, as plain data (to hand to another process's `absorb`)."""
        with self._lock:
            return dict(self._data), self.ledger.records()

    def absorb(self, data: dict[tuple[str, str, str], _Tally], created: list[Created]) -> None:
        """Merge what another tally exported (the generated layer run in a child process)."""
        with self._lock:
            for key, theirs in data.items():
                ours = self._data.setdefault(key, _Tally())
                ours.passed += theirs.passed
                ours.failed += theirs.failed
                ours.layers |= theirs.layers
                if ours.exchange is None:
                    ours.exchange = theirs.exchange
                for example in theirs.examples:
                    if len(ours.examples) < 3 and example not in ours.examples:
                        ours.examples.append(example)
        for item in created:
            self.ledger.created(item.service, item.object, item.id, item.identity, item.tenant, item.record)

    def succeeded(self) -> set[tuple[str, str]]:
        """(service, operation) pairs that answered at least one success (the success status was judged)."""
        with self._lock:
            return {(s, o) for (s, o, c), t in self._data.items() if c == "twin_success_status" and t.passed + t.failed}

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
                                  message=message, passed=tally.passed, failed=tally.failed, examples=list(tally.examples),
                                  exchange=tally.exchange))
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
    coverage_gaps: dict[str, list[str]] = field(default_factory=dict)  # service → operations never answered with success
    left_behind: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # service → [{object, id, reason}]
    unchecked: dict[str, list[str]] = field(default_factory=dict)  # guide → rules it states that no check holds
    durations: dict[str, dict[str, float]] = field(default_factory=dict)  # service → layer → seconds (wall)
    fail_on_gaps: bool = False

    @property
    def gap_count(self) -> int:
        return sum(len(v) for v in self.coverage_gaps.values())

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if r.status == FAIL]

    @property
    def ok(self) -> bool:
        """Every rule holds (and, with `fail_on_gaps`, every operation answered a success)."""
        return not self.failed and not (self.fail_on_gaps and self.gap_count)

    def counts(self) -> dict[str, int]:
        counts = {PASS: 0, FAIL: 0, SKIP: 0}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    def layer_durations(self, service: str) -> str:
        """How long each layer took on `service`, e.g. `probes 0.2s · scenarios 3.1s · generated 7.0s`."""
        spent = self.durations.get(service) or {}
        order = {"probes": 0, "scenarios": 1, "generated": 2, "clean-up": 3}
        return " · ".join(f"{layer} {spent[layer]:.1f}s" for layer in sorted(spent, key=lambda n: (order.get(n, len(order)), n)))

    def for_service(self, service: str) -> list[RuleResult]:
        return [r for r in self.results if r.service == service]
