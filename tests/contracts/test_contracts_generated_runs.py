"""How the generated layer is run: the schema Schemathesis gets, the child process a service's engine
runs in, and the per-layer durations every report shows."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from contracts_testing import TUTORHUB

from contracts.generated import schema_for_schemathesis
from contracts.generated_process import check_modules, run_generated_apart
from contracts.report import render_html, render_json, render_junit, render_text
from contracts.results import FAIL, PASS, Created, Report, RuleResult, Tally
from contracts.spec import load_spec
from contracts.target import ServiceTarget, Settings
from specs.values import DATETIME_PATTERN as DATE_TIME

# admits February 30th, which no date-time is
LOOSE_DATE_TIME = r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$"


def test_a_format_its_pattern_implies_is_left_out_for_schemathesis():
    spec = {"properties": {
        "at": {"type": "string", "format": "date-time", "pattern": DATE_TIME},
        "loose": {"type": "string", "format": "date-time", "pattern": LOOSE_DATE_TIME},
        "any": {"type": "string", "format": "date-time", "pattern": "^.+$"},
        "bare": {"type": "string", "format": "date-time"},
        "listed": {"type": "array", "items": {"type": ["string", "null"], "format": "date-time", "pattern": DATE_TIME}},
        "mail": {"type": "string", "format": "email", "pattern": "^.+@.+$"},
    }, "example": {"format": "date-time", "pattern": DATE_TIME}}
    prepared = schema_for_schemathesis(spec)
    assert prepared["properties"]["at"] == {"type": "string", "pattern": DATE_TIME}
    assert "format" not in prepared["properties"]["listed"]["items"]
    # a pattern that admits what the format refuses, no pattern, or a format without probes: kept
    assert prepared["properties"]["loose"]["format"] == "date-time"
    assert prepared["properties"]["any"]["format"] == "date-time"
    assert prepared["properties"]["bare"]["format"] == "date-time"
    assert prepared["properties"]["mail"]["format"] == "email"
    assert prepared["example"] == spec["example"], "an example is data, not a schema"
    assert spec["properties"]["at"]["format"] == "date-time", "the spec itself is not changed"


def test_the_committed_specs_date_time_patterns_imply_the_format():
    raw = load_spec(TUTORHUB).raw
    before = json.dumps(raw).count('"format": "date-time", "pattern"')
    assert before, "the spec has date-time strings with a pattern"
    assert json.dumps(schema_for_schemathesis(raw)).count('"format": "date-time", "pattern"') == 0


def test_tallies_of_another_process_merge_into_the_run():
    child = Tally()
    child.add("svc", "getX", "twin_success_envelope", True, "generated")
    child.add("svc", "getX", "twin_success_envelope", False, "generated", "statusCode is '200'")
    child.ledger.created("svc", "x", "id-1", "admin", None, {"id": "id-1"})
    run = Tally()
    run.add("svc", "getX", "twin_success_envelope", True, "scenario")
    run.absorb(*child.export())
    [result] = run.results()
    assert (result.status, result.passed, result.failed, result.layer) == (FAIL, 2, 1, "generated+scenario")
    assert result.message == "statusCode is '200'"
    assert [c.id for c in run.ledger.live("svc")] == ["id-1"]
    assert isinstance(run.ledger.records()[0], Created)


def test_the_child_process_names_what_went_wrong():
    """A child that cannot start its engine fails the run with the child's own error, never passes."""
    service = ServiceTarget(spec=load_spec(TUTORHUB), base_url="http://127.0.0.1:9")
    tally = Tally()
    [result] = run_generated_apart(service, Settings(), tally, ["contracts_no_such_plugin_module"])
    assert (result.rule, result.status, result.layer) == ("schemathesis.run", FAIL, "generated")
    assert "contracts_no_such_plugin_module" in result.message
    assert tally.results() == []


def test_the_child_imports_the_modules_of_every_registered_check():
    modules = check_modules()
    assert modules is not None and "contracts.checks.envelope" in modules


def test_every_report_says_how_long_each_layer_took():
    report = Report(results=[RuleResult(service="svc", layer="scenario", rule="crud.lifecycle/create-201", status=PASS,
                                        operation="createX")],
                    services={"svc": {"baseUrl": "http://twin.test", "operations": ["createX"], "identities": []}},
                    durations={"svc": {"generated": 7.04, "clean-up": 0.31, "probes": 0.2, "scenarios": 3.12}})
    line = "probes 0.2s · scenarios 3.1s · generated 7.0s · clean-up 0.3s"
    assert f"  time: {line}" in render_text(report).splitlines()
    assert f"time: {line}" in render_html(report)
    assert json.loads(render_json(report))["durations"] == {"svc": {"generated": 7.04, "clean-up": 0.31, "probes": 0.2,
                                                                    "scenarios": 3.12}}
    properties = {p.get("name"): p.get("value") for p in ET.fromstring(render_junit(report)).iter("property")}
    assert properties["layerDurations"] == line
