"""The generated layer: Schemathesis 4 runs every operation of a spec (examples, coverage,
fuzzing and stateful phases, bounded by `max_examples`) with its built-in checks (status codes,
response schemas, content types, no server errors, negative data rejected, auth enforced, …) plus
the suite's own checks registered with `@schemathesis.check`; every check verdict is tallied per
operation.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from functools import cache
from typing import Any

from .checks.schemathesis_adapter import register
from .results import FAIL, RuleResult, Tally
from .target import ServiceTarget, Settings

BUILTIN_CHECKS = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
    "response_headers_conformance", "positive_data_acceptance", "negative_data_rejection", "use_after_free",
    "ensure_resource_availability", "missing_required_header", "ignored_auth", "object_level_authorization",
    "unsupported_method", "allow_header_conformance",
)


# Values an RFC 3339 date-time admits, and near misses it refuses: a pattern that matches the first
# and none of the second already implies the format.
_FORMAT_PROBES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "date-time": (
        ("2024-01-31T10:20:30Z", "2024-02-29T23:59:59.123+02:00"),
        ("2024-02-30T10:20:30Z", "2023-02-29T10:20:30Z", "2024-13-01T10:20:30Z", "2024-01-01T24:00:00Z",
         "2024-01-01T10:60:00Z", "2024-01-01 10:20:30Z", "2024-01-01T10:20:30", "2024-01-01", "10:20:30Z",
         "2024-01-01T10:20:30+25:00", "x2024-01-01T10:20:30Z", "2024-01-01T10:20:30Zx"),
    ),
}


@cache
def _pattern_implies_format(pattern: str, fmt: str) -> bool:
    """Whether every value matching `pattern` is valid for `fmt` (judged by probes, as Schemathesis
    does for `uuid` and `date`)."""
    probes = _FORMAT_PROBES.get(fmt)
    if probes is None:
        return False
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    valid, near = probes
    return all(compiled.search(v) for v in valid) and not any(compiled.search(v) for v in near)


_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})


def schema_for_schemathesis(node: Any) -> Any:
    """A copy of the spec for Schemathesis without the `format` of strings whose `pattern` already
    implies it. Such a format adds nothing (every value the pattern admits is valid for it, every
    value violating it violates the pattern), but its coverage phase would search seconds per
    schema for a value that breaks the format alone and find none."""
    if isinstance(node, list):
        return [schema_for_schemathesis(item) for item in node]
    if not isinstance(node, dict):
        return node
    # values under these keys are data (or the suite's own facts), never schemas: copied as they are
    copied = {key: copy.deepcopy(value) if key in _DATA_KEYS or str(key).startswith("x-") else schema_for_schemathesis(value)
              for key, value in node.items()}
    fmt, pattern = copied.get("format"), copied.get("pattern")
    if isinstance(fmt, str) and isinstance(pattern, str) and _pattern_implies_format(pattern, fmt):
        del copied["format"]
    return copied


def schemathesis_config(service: ServiceTarget, settings: Settings) -> Any:
    """A Schemathesis config for one service: URL, identity headers, bounds, seed and checks."""
    from schemathesis.config import SchemathesisConfig

    identity = service.generated_identity()
    headers: dict[str, str] = {}
    if identity is not None and identity.token:
        headers["Authorization"] = f"Bearer {identity.token}"
    if service.spec.tenant_header:
        tenant = (identity.tenant if identity else None) or next(
            (i.tenant for i in service.identities.values() if i.tenant), None)
        if tenant:
            headers[service.spec.tenant_header] = tenant
    checks: dict[str, Any] = {name: {"enabled": name not in settings.exclude_checks} for name in BUILTIN_CHECKS}
    phases: dict[str, dict[str, Any]] = {name: {"enabled": name in settings.phases} for name in ("examples", "coverage", "fuzzing", "stateful")}
    phases["stateful"]["max-steps"] = settings.stateful_steps
    if "unsupported_method" in settings.exclude_checks:
        phases["coverage"]["unexpected-methods"] = []  # nobody judges those probes: do not send them
    return SchemathesisConfig.from_dict({
        "seed": settings.seed,
        "suppress-health-check": ["all"],
        "base-url": service.base_url,
        "headers": headers,
        "workers": 1,
        "request-timeout": settings.timeout,
        "generation": {"max-examples": settings.max_examples, "no-shrink": True, "deterministic": True,
                       "database": "none"},
        "checks": checks,
        "phases": phases,
    })


def _note_created(service: ServiceTarget, by_label: dict[str, Any], recorder: Any, tally: Tally) -> None:
    """Write the records Schemathesis' create calls made into the run's ledger (for the clean-up)."""
    identity = service.generated_identity()
    for case_id, interaction in recorder.interactions.items():
        response = interaction.response
        node = recorder.cases.get(case_id)
        if response is None or node is None or not 200 <= response.status_code < 300:
            continue
        facts = by_label.get(node.value.operation.label)
        if facts is None or facts.action != "create" or facts.data_object not in service.spec.objects:
            continue
        try:
            body = json.loads(response.content)
        except ValueError:
            continue
        record = body.get(facts.data_name) if isinstance(body, dict) else None
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            tally.ledger.created(service.name, facts.data_object, record["id"], identity.name if identity else None,
                                 identity.tenant if identity else None, record)


def run_generated(service: ServiceTarget, settings: Settings, tally: Tally) -> list[RuleResult]:
    """Run Schemathesis on one service; verdicts go to `tally`, run-level problems are returned."""
    import schemathesis
    from schemathesis.engine import Status, events, from_schema

    register()
    logging.getLogger("schemathesis").setLevel(logging.ERROR)
    results: list[RuleResult] = []
    if service.generated_identity() is None:
        return [RuleResult(service=service.name, layer="generated", rule="schemathesis.run", status="skip",
                           message="skipped: no identity to call as (configure a token)")]
    # the spec is already parsed: hand Schemathesis a copy rather than have it read the YAML again
    schema = schemathesis.openapi.from_dict(schema_for_schemathesis(service.spec.raw),
                                            config=schemathesis_config(service, settings))
    schema.location = str(service.spec.path)
    by_label = service.spec.by_label
    errors: dict[str, str] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            _note_created(service, by_label, recorder, tally)
            for case_id, nodes in recorder.checks.items():
                node_case = recorder.cases.get(case_id)
                if node_case is None:
                    continue
                facts = by_label.get(node_case.value.operation.label)
                api = facts.api if facts else node_case.value.operation.label
                for node in nodes:
                    passed = node.status == Status.SUCCESS
                    if node.status not in (Status.SUCCESS, Status.FAILURE):
                        continue
                    example = ""
                    if not passed and node.failure_info is not None:
                        failure = node.failure_info.failure
                        example = f"{failure.title}: {failure.message}".strip()
                        sample = node.failure_info.code_sample
                        if sample:
                            example += f"\n    {sample.strip()}"
                    tally.add(service.name, api, node.name, passed, "generated", example)
        elif isinstance(event, events.NonFatalError):
            facts = by_label.get(event.label)
            key = facts.api if facts else event.label
            errors.setdefault(key, f"{type(event.value).__name__}: {event.value}")
        elif isinstance(event, events.FatalError):
            results.append(RuleResult(service=service.name, layer="generated", rule="schemathesis.run", status=FAIL,
                                      message=f"Schemathesis stopped: {type(event.exception).__name__}: {event.exception}"))
    for api, message in sorted(errors.items()):
        results.append(RuleResult(service=service.name, layer="generated", rule="schemathesis.no-request-error",
                                  status=FAIL, operation=api, message=message[:2000]))
    return results
