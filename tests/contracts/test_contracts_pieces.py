"""Scenario building blocks, reports, and the Schemathesis registration, without a server."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest
import requests
import schemathesis
from contracts_testing import PAYMENT, TUTORHUB, envelope
from schemathesis.core.failures import FailureGroup

from contracts.checks.schemathesis_adapter import register
from contracts.registry import load_builtins
from contracts.report import render_html, render_json, render_junit, render_text
from contracts.results import FAIL, PASS, SKIP, Report, RuleResult, Tally
from contracts.scenarios.base import SCENARIOS, Scenario, run_scenario
from contracts.scenarios.common import filter_matches, filter_value
from contracts.scenarios.recipes import same_value
from contracts.spec import FilterFacts, load_spec
from contracts.target import Settings, build_target

load_builtins()  # the suite's own checks and scenarios are what these tests judge


def _filter(match: str, *, ci: bool = True, null: bool = True) -> FilterFacts:
    return FilterFacts(name="f", property="f", type="String", match=match, case_insensitive=ci, multiple=True,
                       allows_null=null, is_array=False)


@pytest.mark.parametrize(("match", "value", "wanted", "expected"), [
    ("partial", "pi_AbCdEf", "bcde", True), ("partial", "pi_AbCdEf", "xyz", False),
    ("enum", "pending", "PENDING", True), ("enum", "pending", "paid", False),
    ("exact", "6f1c5e0e-0000", "6f1c5e0e-0000", True), ("exact", "6f1c5e0e-0000", "6F1C5E0E-0000", False),
    ("date", "2027-01-05T09:00:00.000Z", "2027-01-05", True), ("date", "2027-01-05T09:00:00.000Z", "2027-01-06", False),
    ("partial", None, "null", True), ("partial", None, "x", False),
])
def test_filter_semantics(match, value, wanted, expected):
    assert filter_matches(_filter(match, ci=match != "exact"), value, wanted) is expected


def test_filter_values_select_their_record():
    for match, value in (("partial", "pi_AbCdEf"), ("enum", "pending"), ("date", "2027-01-05T09:00:00.000Z"), ("exact", "x-1")):
        flt = _filter(match, ci=match != "exact")
        assert filter_matches(flt, value, filter_value(flt, value))


def test_same_value_reads_dates_and_numbers_as_the_guide_means():
    assert same_value("2027-03-01T00:00:00Z", "2027-03-01T00:00:00.000Z")
    assert same_value(240, 240.0)
    assert not same_value(True, 1)
    assert not same_value("a", "b")
    assert same_value({"a": [1, "2027-03-01T00:00:00Z"]}, {"a": [1.0, "2027-03-01T00:00:00.000+00:00"]})


def test_every_declared_scenario_rule_is_reported_even_when_skipped():
    target = build_target(base_url="http://127.0.0.1:9", specs=["tutorhub"], environ={}, discover=False)
    service = target.services[0]  # no identities: scenarios that need one are skipped, with the reason
    with requests.Session() as session:
        results = run_scenario(SCENARIOS["tutorhub.refund-window"], service, Settings(), Tally(), session)
    assert {r.rule.split("/")[1] for r in results} == set(SCENARIOS["tutorhub.refund-window"].rules)
    assert all(r.status == SKIP for r in results)
    assert "completeLessonSlot" in results[0].message


def test_a_failed_expectation_stops_the_scenario_and_names_itself():
    def broken(ctx):
        ctx.expect("first", True, "")
        ctx.expect("second", False, "it broke")
        ctx.expect("third", True, "")

    item = Scenario(name="demo", func=broken, rules=("first", "second", "third"))
    target = build_target(base_url="http://127.0.0.1:9", specs=["tutorhub"], environ={}, discover=False)
    with requests.Session() as session:
        results = {r.rule: r for r in run_scenario(item, target.services[0], Settings(), Tally(), session)}
    assert results["demo/first"].status == PASS
    assert results["demo/second"].status == FAIL and results["demo/second"].message == "it broke"
    assert results["demo/third"].status == SKIP and "second failed" in results["demo/third"].message


def _report() -> Report:
    results = [
        RuleResult(service="svc", layer="generated", rule="twin_success_envelope", status=PASS, operation="getX", passed=4),
        RuleResult(service="svc", layer="scenario", rule="crud.lifecycle/create-201[x]", status=FAIL, operation="createX",
                   message="POST /x → 200; expected 201", failed=1),
        RuleResult(service="svc", layer="scenario", rule="tutorhub.refund-window/refund-only-once", status=SKIP,
                   message="skipped: no hook completeLessonSlot"),
    ]
    return Report(results=results, services={"svc": {"baseUrl": "http://x", "operations": ["createX", "getX"],
                                                     "identities": ["admin (admin)"], "generatedAs": "admin (admin)"}},
                  duration=1.5)


def test_junit_report_lists_every_rule_per_operation():
    root = ET.fromstring(render_junit(_report()))
    assert root.get("tests") == "3" and root.get("failures") == "1" and root.get("skipped") == "1"
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    assert cases[("svc.createX", "crud.lifecycle/create-201[x] [scenario]")].find("failure") is not None
    assert cases[("svc.(service)", "tutorhub.refund-window/refund-only-once [scenario]")].find("skipped") is not None


def test_text_html_and_json_reports():
    report = _report()
    text = render_text(report, verbose=True)
    assert "FAIL createX" in text and "✗ svc · createX · crud.lifecycle/create-201[x]" in text
    assert "skipped: no hook completeLessonSlot" in text and text.rstrip().endswith("1 rule(s) broken")
    page = render_html(report)
    assert "<details class='hasfail' open>" in page and "expected 201" in page
    assert json.loads(render_json(report))["counts"] == {"pass": 1, "fail": 1, "skip": 1}


def test_tally_reports_unobserved_rules_as_skipped():
    tally = Tally()
    tally.add("svc", "getX", "twin_error_envelope", True, "generated")
    tally.add("svc", "getX", "twin_error_envelope", False, "scenario", "GET /x → 404: result is 'OK'")
    results = {(r.operation, r.rule): r for r in tally.results([("svc", "getX", "twin_error_envelope"), ("svc", "getX", "twin_list_paging")])}
    assert results[("getX", "twin_error_envelope")].status == FAIL and results[("getX", "twin_error_envelope")].passed == 1
    assert results[("getX", "twin_list_paging")].status == SKIP


def test_checks_are_registered_with_schemathesis_and_judge_its_responses():
    names = register()
    assert "twin_success_envelope" in names
    assert "twin_success_envelope" in schemathesis.checks.CHECKS.get_all_names()
    schema = schemathesis.openapi.from_dict(load_spec(TUTORHUB).raw)
    operation = schema["/v1/enrollmentpayment/{sys_enrollmentPaymentId}"]["GET"]
    case = operation.Case(path_parameters={"sys_enrollmentPaymentId": PAYMENT["id"]})
    check = schemathesis.checks.CHECKS.get_one("twin_success_envelope")

    def response(body: dict) -> requests.Response:
        made = requests.Response()
        made.status_code = 200
        made._content = json.dumps(body).encode()
        made.headers["Content-Type"] = "application/json"
        made.request = requests.Request("GET", f"http://twin.test/enrollmentmanagement-api/v1/enrollmentpayment/{PAYMENT['id']}").prepare()
        return made

    case.validate_response(response(envelope("getEnrollmentPayment", PAYMENT)), checks=[check])
    with pytest.raises(FailureGroup, match="action is 'read'"):
        case.validate_response(response(envelope("getEnrollmentPayment", PAYMENT, action="read")), checks=[check])


def test_the_suite_sees_the_roles_and_tenant_the_guide_names():
    from pathlib import Path

    from contracts.spec import parse_spec

    doc = {"info": {"x-twin-project": "solvio"}, "paths": {},
           "x-twin-tenant": {"header": "mbx-school-codename", "required": True, "object": "school"},
           "x-twin-roles": [{"name": "superAdmin", "tenant": False}, {"name": "tenantOwner", "tenant": True}]}
    spec = parse_spec(doc, Path("solvio-writinglab.yaml"))
    assert (spec.tenant_header, spec.tenant_object) == ("mbx-school-codename", "school")
    assert spec.roles == {"superAdmin": False, "tenantOwner": True}
    tutorhub = load_spec(TUTORHUB)  # its prose names no role; its role overlay declares three
    assert tutorhub.roles == {"admin": False, "tutor": False, "student": False} and tutorhub.tenant_object is None


def test_the_suite_reads_each_operations_role_table():
    tutorhub = load_spec(TUTORHUB)
    assert tutorhub.op("cancelEnrollment").access == frozenset({"admin"})
    assert tutorhub.op("getEnrollment").access is None  # open to every role
