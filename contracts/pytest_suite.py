"""The built-in suite as pytest tests: `pytest -p contracts.pytest_plugin --pyargs contracts.pytest_suite
--twin-base-url URL [--junitxml report.xml]`. One test per (service, scenario) and one per service for
the generated layer; a test fails with every broken rule in its message and skips when all its rules
were skipped."""

from __future__ import annotations

import pytest
import requests

from contracts.generated import run_generated
from contracts.pytest_plugin import find_service
from contracts.registry import load_builtins
from contracts.results import FAIL, PASS, RuleResult, Tally
from contracts.scenarios.base import SCENARIOS, run_scenario
from contracts.target import Target

load_builtins()  # the parametrisation below lists them
PROJECTS = ("tutorhub", "workforceos", "airbnb")


def _verdict(results: list[RuleResult]) -> None:
    failed = [f"{r.operation or '-'} {r.rule}: {r.message.splitlines()[0] if r.message else ''}" for r in results if r.status == FAIL]
    if failed:
        pytest.fail("\n".join(failed), pytrace=False)
    if results and not any(r.status == PASS for r in results):
        pytest.skip("; ".join(sorted({r.message for r in results}))[:300])


PAIRS = [(project, name) for name, item in sorted(SCENARIOS.items()) for project in PROJECTS
         if item.projects is None or project in item.projects]


@pytest.mark.parametrize(("project", "name"), PAIRS, ids=[f"{p}:{n}" for p, n in PAIRS])
def test_scenario(twin_target: Target, project: str, name: str) -> None:
    """One built-in scenario on one service (its calls also meet every response check)."""
    service = find_service(twin_target, project)
    item = SCENARIOS[name]
    tally = Tally()
    with requests.Session() as session:
        results = run_scenario(item, service, twin_target.settings, tally, session)
    _verdict(results + [r for r in tally.results() if r.status == FAIL])


@pytest.mark.parametrize("project", PROJECTS)
def test_generated(twin_target: Target, project: str) -> None:
    """Schemathesis on every operation of one service, with the suite's checks registered."""
    service = find_service(twin_target, project)
    tally = Tally()
    results = run_generated(service, twin_target.settings, tally)
    _verdict(results + tally.results())
