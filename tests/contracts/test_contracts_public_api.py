"""The judge's API for plugin writers: what `contracts` exports, that importing it registers nothing,
and that a plugin written only against those exports joins a `twin verify` run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from twin_process import BIN, ROOT

import contracts
from contracts.checks import base as checks_base
from contracts.scenarios import base as scenarios_base
from contracts.scenarios import recipes

PLUGIN_API = {
    "scenario": scenarios_base.scenario,
    "ScenarioContext": scenarios_base.ScenarioContext,
    "Skip": scenarios_base.Skip,
    "response_check": checks_base.response_check,
    "Exchange": checks_base.Exchange,
    "CheckFailed": checks_base.CheckFailed,
    "Problems": checks_base.Problems,
    "NOT_APPLICABLE": checks_base.NOT_APPLICABLE,
    "NOT_JSON": checks_base.NOT_JSON,
    "Recipe": recipes.Recipe,
    "recipe": recipes.recipe,
}


def test_contracts_exports_what_plugin_writers_use() -> None:
    assert set(contracts.__all__) == {*PLUGIN_API, "Api", "Reply", "Identity", "ServiceTarget", "Settings", "ServiceSpec",
                                      "OperationFacts", "ObjectFacts", "PropertyFacts", "load_builtins"}
    for name, value in PLUGIN_API.items():
        assert getattr(contracts, name) is value, name
    assert all(hasattr(contracts, name) for name in contracts.__all__)


def test_importing_contracts_registers_nothing_until_the_builtins_are_loaded() -> None:
    count = ("from contracts.checks.base import REGISTRY\nfrom contracts.scenarios.base import SCENARIOS\n"
             "from contracts.scenarios.recipes import RECIPES\n"
             "print(len(REGISTRY), len(SCENARIOS), sum(map(len, RECIPES.values())))\n")
    program = f"import contracts, contracts.checks, contracts.scenarios\n{count}contracts.load_builtins()\n{count}"
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    before, after = (tuple(int(n) for n in line.split()) for line in result.stdout.split("\n")[:2])
    assert before == (0, 0, 0)
    assert all(after), after  # checks, scenarios and recipes of the built-in suite


PLUGIN = '''
"""A team's rules, written against `contracts`'s exports only."""

import uuid

from contracts import NOT_APPLICABLE, Exchange, Reply, ScenarioContext, response_check, scenario


@scenario("team.unknown-enrollment", projects=["tutorhub"], rules=["get-unknown-404"])
def unknown_enrollment(ctx: ScenarioContext) -> None:
    """An enrollment nobody created answers 404."""
    ctx.require(ctx.spec.op("getEnrollment") is not None, "the service has no getEnrollment")
    reply: Reply = ctx.api("admin").call("getEnrollment", path={"enrollmentId": str(uuid.uuid4())})
    ctx.expect("get-unknown-404", reply.status == 404, reply.describe())


@response_check("team_error_names_a_message", "error", "every error answer carries a message")
def error_names_a_message(exchange: Exchange) -> bool | None:
    if not exchange.is_error:
        return NOT_APPLICABLE
    assert isinstance(exchange.body, dict) and exchange.body.get("message"), "the error answer has no message"
    return None
'''


def test_a_plugin_written_against_the_exports_registers_and_runs(tmp_path: Path, twin_url: str) -> None:
    (tmp_path / "team_public_rules.py").write_text(textwrap.dedent(PLUGIN))
    report = tmp_path / "report.json"
    result = subprocess.run(
        [str(BIN / "twin"), "verify", "--base-url", twin_url, "--plugin", "team_public_rules", "--spec", "tutorhub",
         "--layers", "scenarios", "--only", "team.", "--json", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    results = {(r["rule"], r["operation"]): r["status"] for r in json.loads(report.read_text())["results"]}
    assert results[("team.unknown-enrollment/get-unknown-404", None)] == "pass"
    assert results[("team_error_names_a_message", "getEnrollment")] == "pass"  # the check judged the scenario's answer
