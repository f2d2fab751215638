"""The rule inventory, the filter forms it names, the stateful system-field rule, the clean-up's
bookkeeping and the reports (HTML failures first, JUnit properties) — without a server."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from contracts_testing import AIRBNB, TUTORHUB, WORKFORCEOS

from contracts.client import SYSTEM_FIELDS_CHECK, Api, Reply
from contracts.inventory import inventory, render_inventory
from contracts.registry import load_builtins
from contracts.report import render_html, render_junit, render_text
from contracts.results import FAIL, PASS, SKIP, Report, RuleResult, Tally
from contracts.scenarios.base import SCENARIOS
from contracts.scenarios.common import filter_forms, special_matches, special_value
from contracts.spec import FilterFacts, load_spec, parse_spec
from contracts.target import ServiceTarget

load_builtins()  # the suite's own checks and scenarios are what these tests judge


def _target(path: Path) -> ServiceTarget:
    return ServiceTarget(spec=load_spec(path), base_url="http://twin.test")


@pytest.mark.parametrize("path", [TUTORHUB, WORKFORCEOS, AIRBNB], ids=lambda p: p.stem)
def test_every_rule_of_the_known_guides_has_a_check(path: Path):
    rules = inventory(_target(path))
    assert rules and all(rule.checked for rule in rules), [r.statement for r in rules if not r.checked]
    assert {rule.guide for rule in rules} == {f"{path.stem}.txt"}
    kinds = {rule.kind for rule in rules}
    assert {"envelope", "error", "record", "system-fields", "paging", "filter", "auth", "business"} <= kinds


def test_inventory_names_each_documented_filter_form_and_owner_rule():
    rules = inventory(_target(AIRBNB))
    held = {check for rule in rules for check in rule.checks}
    assert "filters.exact/repeated-means-any-of[listReservations.guestId]" in held
    assert "filters.exact/null-matches-unset[listReservations.guestId]" in held
    assert "filters.exact/date-special-leq[listReservations.checkIn]" in held
    owner = next(r for r in rules if r.statement == "reservation: an update keeps id and _owner")
    assert owner.checks == ["crud.lifecycle/owner-unchanged[reservation]", SYSTEM_FIELDS_CHECK]


def _unseen() -> ServiceTarget:
    raw = copy.deepcopy(load_spec(WORKFORCEOS).raw)
    raw["info"]["x-twin-project"] = "unseenco"
    raw["info"]["x-twin-guide"] = "unseenco-billing.md"
    return ServiceTarget(spec=parse_spec(raw, Path("/nowhere/unseenco-billing.yaml")), base_url="")


def test_generic_rules_hold_an_unseen_guide_to_every_rule_it_states():
    """A project the suite has no scenarios for: every rule, tenancy included, is held by a generic check."""
    rules = inventory(_unseen())
    assert rules and all(r.checked for r in rules), [r.statement for r in rules if not r.checked]
    assert not any(r.kind == "business" for r in rules)
    tenancy = next(r for r in rules if r.kind == "tenancy")
    assert "tenancy.isolation/foreign-tenant-header-refused" in tenancy.checks


def test_a_rule_no_check_holds_is_listed_as_unchecked(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(SCENARIOS, "tenancy.isolation")
    unchecked = [r for r in inventory(_unseen()) if not r.checked]
    assert [r.kind for r in unchecked] == ["tenancy"]
    text = render_inventory([_unseen()])
    assert "unseenco-billing.md" in text and "UNCHECKED" in text and "1 unchecked" in text


def test_filter_forms_follow_the_filter_facts():
    flt = FilterFacts(name="checkIn", property="checkIn", type="Date", match="date", case_insensitive=False, multiple=True,
                      allows_null=True, is_array=False, specials=("$today", "$leq-<date>"))
    assert filter_forms(flt) == ["returns-exactly-matching", "repeated-means-any-of", "null-matches-unset",
                                 "date-special-today", "date-special-leq"]
    single = FilterFacts(name="x", property="x", type="String", match="exact", case_insensitive=False, multiple=False,
                         allows_null=False, is_array=False)
    assert filter_forms(single) == ["returns-exactly-matching"]


@pytest.mark.parametrize(("special", "value", "expected"), [
    ("$today", "2026-12-02T23:59:00.000Z", True), ("$today", "2026-12-01T10:00:00.000Z", False),
    ("$ltoday", "2026-12-01T10:00:00.000Z", True), ("$ltoday", "2026-12-02T00:00:00.000Z", False),
    ("$week", "2026-11-30T00:00:00.000Z", True), ("$week", "2026-11-29T23:00:00.000Z", False),
    ("$lweek", "2026-11-23T00:00:00.000Z", True), ("$lweek", "2026-11-30T00:00:00.000Z", False),
    ("$month", "2026-12-31T10:00:00.000Z", True), ("$month", "2026-11-30T10:00:00.000Z", False),
    ("$leq-2026-05-01", "2026-05-01T22:00:00.000Z", True), ("$leq-2026-05-01", "2026-05-02T00:00:00.000Z", False),
    ("$lin-2026-05-01", "2026-05-01T00:00:00.000Z", True), ("$lin-2026-05-01", "2026-04-30T23:59:00.000Z", False),
    ("$today", None, False),
])
def test_date_specials_as_the_specs_define_them(special: str, value: str | None, expected: bool):
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday
    assert special_matches(special, value, now) is expected


def test_date_special_with_a_date_takes_a_day_some_row_has():
    rows = [{"d": "2026-01-01T10:00:00Z"}, {"d": "2026-03-05T10:00:00Z"}, {"d": None}]
    assert special_value("$leq-<date>", rows, "d") == "$leq-2026-03-05"
    assert special_value("$week", rows, "d") == "$week"


def _reply(api: str, record: dict, method: str = "PATCH", status: int = 200) -> Reply:
    import json

    facts = load_spec(TUTORHUB).op(api)
    body = {"status": "OK", "statusCode": status, "dataName": facts.data_name, facts.data_name: record}
    return Reply(method=method, url="http://twin.test/x", status=status, headers={}, text=json.dumps(body), facts=facts)


def test_the_stateful_rule_catches_an_update_that_changes_owner():
    tally = Tally()
    api = Api(_target(TUTORHUB), None, None, tally)  # type: ignore[arg-type]
    record = {"id": "r1", "_owner": "u1", "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z",
              "recordVersion": 1, "isActive": True}
    api._judge_evolution(load_spec(TUTORHUB).op("createEnrollmentPayment"), _reply("createEnrollmentPayment", record, "POST", 201))
    changed = {**record, "_owner": "u2", "recordVersion": 2, "updatedAt": "2026-01-01T00:00:01.000Z"}
    api._judge_evolution(load_spec(TUTORHUB).op("updateEnrollmentPayment"), _reply("updateEnrollmentPayment", changed))
    results = {(r.operation, r.rule): r for r in tally.results()}
    assert results[("createEnrollmentPayment", SYSTEM_FIELDS_CHECK)].status == PASS
    broken = results[("updateEnrollmentPayment", SYSTEM_FIELDS_CHECK)]
    assert broken.status == FAIL and "_owner 'u1' → 'u2'" in broken.message


def test_the_ledger_tracks_what_is_still_alive():
    tally = Tally()
    tally.ledger.created("svc", "x", "a", "admin", None)
    tally.ledger.created("svc", "x", "b", "admin", None)
    tally.ledger.deleted("svc", "a")
    assert [c.id for c in tally.ledger.live("svc")] == ["b"] and tally.ledger.ids("svc") == {"a", "b"}


def _failing_report() -> Report:
    exchange = {"request": "PATCH http://twin.test/v1/x/1\n{\"a\": 1}", "response": "HTTP 200\n{\"_owner\": \"u2\"}",
                "curl": "curl -sS -X PATCH 'http://twin.test/v1/x/1' -H \"Authorization: Bearer $TOKEN\""}
    results = [
        RuleResult(service="svc", layer="generated", rule="twin_success_envelope", status=PASS, operation="getX", passed=4),
        RuleResult(service="svc", layer="scenario", rule="crud.lifecycle/owner-unchanged[x]", status=FAIL, operation="updateX",
                   message="an update changed system fields it must keep: _owner 'u1' → 'u2'", failed=1, exchange=exchange),
        RuleResult(service="svc", layer="scenario", rule="filters.exact/null-matches-unset[listX.y]", status=SKIP,
                   operation="listX", message="skipped: no identity 'admin' configured"),
    ]
    return Report(results=results, services={"svc": {"baseUrl": "http://twin.test", "operations": ["getX", "updateX", "listX"],
                                                     "identities": ["admin (admin)"], "generatedAs": "admin (admin)"}},
                  duration=1.0, coverage_gaps={"svc": ["deleteX"]}, unchecked={"svc.txt": ["tenancy rule"]},
                  left_behind={"svc": [{"object": "payment", "id": "p-1", "reason": "the guide has no delete operation for it"}]})


def test_html_shows_the_failure_first_with_its_request_answer_and_curl():
    page = render_html(_failing_report())
    failures = page.index("Failures (1)")
    assert failures < page.index("Coverage gaps") < page.index("Every rule, per service")
    first = page[failures:page.index("Coverage gaps")]
    for text in ("owner-unchanged[x]", "_owner &#x27;u1&#x27; → &#x27;u2&#x27;", "PATCH http://twin.test/v1/x/1", "HTTP 200",
                 "curl -sS -X PATCH"):
        assert text in first
    for text in ("Skipped, by reason (1)", "no identity &#x27;admin&#x27; configured", "Unchecked rules (1)", "tenancy rule",
                 "Left behind (1)", "p-1", "deleteX"):
        assert text in page
    assert not re.search(r"<span class='fail'>0 failed", page), "a zero count is never shown in red"
    assert "<span class='zero'>0 failed</span>" in render_html(Report(results=[_failing_report().results[0]],
                                                                        services=_failing_report().services))


def test_text_report_has_the_same_sections():
    text = render_text(_failing_report())
    for heading in ("FAILURES (1)", "replay: curl", "SKIPPED, by reason", "COVERAGE GAPS (1)", "UNCHECKED RULES (1)",
                    "LEFT BEHIND (1)", "svc · payment (the guide has no delete operation for it): p-1"):
        assert heading in text
    assert "(33.3 %)" in text.splitlines()[0]


def test_fail_on_gaps_turns_a_gap_into_a_failed_run():
    report = Report(results=[_failing_report().results[0]], services=_failing_report().services, coverage_gaps={"svc": ["deleteX"]})
    assert report.ok and "1 coverage gap" in render_text(report)
    report.fail_on_gaps = True
    assert not report.ok and render_text(report).endswith("never answered a success (--fail-on-gaps)")


def test_junit_cases_carry_operation_rule_and_layer():
    root = ET.fromstring(render_junit(_failing_report()))
    case = next(c for c in root.iter("testcase") if c.get("name", "").startswith("crud.lifecycle/owner-unchanged"))
    props = {p.get("name"): p.get("value") for p in case.find("properties")}
    assert props == {"service": "svc", "operation": "updateX", "rule": "crud.lifecycle/owner-unchanged[x]", "layer": "scenario"}
    assert "curl -sS -X PATCH" in case.find("failure").text
    suite_props = {p.get("name"): p.get("value") for p in root.find("testsuite").find("properties")}
    assert suite_props["coverageGaps"] == "deleteX" and suite_props["leftBehind"] == "payment:p-1"
