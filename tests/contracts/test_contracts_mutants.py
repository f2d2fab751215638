"""The suite judged by mutants: the twin with one deliberate defect at a time must fail `twin verify`
(and fail it on the rule that owns the defect); the unmodified twin must pass everything.

Each row: mutant, the service its defect shows on, the scenarios worth running (None: the whole
probes + scenarios layer of that service), and the rules of which at least one must fail. Response
mutants (`mockserver/mutant_catalog.py`) rewrite answers of every service, so one service shows
them; rule mutants (the twin's workflows) switch one business rule off.
"""

from __future__ import annotations

from collections import Counter

import pytest
from contracts_testing import get, verify_twin

ENVELOPE, PAGING, RESOURCE, ERROR, STATUS = ("twin_success_envelope",), ("twin_list_paging",), (), ("twin_error_envelope",), \
    ("twin_success_status",)

MATRIX: list[tuple[str, str, str | None, tuple[str, ...]]] = [
    # -- rule mutants: the twin's workflows skip one rule --------------------------------------------
    ("auth-optional", "tutorhub", "auth.", ("auth.required/no-token-401",)),
    ("role-bypass", "tutorhub", "tutorhub.roles", ("tutorhub.roles/admin-only",)),
    # a pair no hand-written role rule covers: only the spec's role table, checked pair by pair, holds it
    ("admin-books", "airbnb", "roles.table", ("roles.table/refused[createReservation:admin]",)),
    ("tenant-leak", "workforceos", "workforceos.tenant-isolation", ("workforceos.tenant-isolation/other-tenant",)),
    ("soft-delete-visible", "tutorhub", "crud.", ("crud.lifecycle/get-after-delete-404",)),
    ("version-frozen", "tutorhub", "crud.", ("crud.lifecycle/update-increments-version",)),
    ("filter-ignored", "tutorhub", "filters.", ("filters.exact/returns-exactly-matching",)),
    ("paging-total-wrong", "tutorhub", "paging.", ("paging.consistent/pages-partition-the-list",)),
    ("filter-first-value-only", "tutorhub", "filters.", ("filters.exact/repeated-means-any-of",)),
    ("filter-null-ignored", "tutorhub", "filters.", ("filters.exact/null-matches-unset",)),
    ("date-special-ignored", "airbnb", "filters.", ("filters.exact/date-special-",)),
    ("slot-double-booking", "tutorhub", "tutorhub.slot-double-booking", ("tutorhub.slot-double-booking/booked-slot-refused",)),
    ("refund-before-first-lesson", "tutorhub", "tutorhub.refund-window", ("tutorhub.refund-window/refund-refused-before-first-lesson",)),
    ("refund-twice", "tutorhub", "tutorhub.refund-window", ("tutorhub.refund-window/refund-only-once",)),
    ("second-subscription", "workforceos", "workforceos.one-subscription", ("workforceos.one-subscription/second-subscription-refused",)),
    ("reservation-overlap", "airbnb", "airbnb.reservation-overlap", ("airbnb.reservation-overlap/overlapping-stay-refused",)),
    ("payment-record-mutable", "airbnb", "airbnb.payment-records-immutable", ("airbnb.payment-records-immutable/record-never-changes",)),
    ("unsigned-webhook", "tutorhub", "tutorhub.payment", ("tutorhub.payment/forged-webhook-refused",)),
    ("payment-status-stuck", "tutorhub", "tutorhub.payment", ("tutorhub.payment/payment-flips-order-paid",)),
    # -- response mutants: statuses ------------------------------------------------------------------
    ("create-answers-200", "tutorhub", None, ("twin_success_status", "crud.lifecycle/create-201")),
    ("update-answers-201", "tutorhub", None, ("twin_success_status",)),
    ("error-as-200", "tutorhub", None, ("auth.required/no-token-401", "twin_success_envelope")),
    ("not-found-as-400", "tutorhub", None, ("crud.lifecycle/unknown-id-404", "crud.lifecycle/get-after-delete-404")),
    ("forbidden-as-404", "tutorhub", None, ("tutorhub.roles/admin-only",)),
    ("unauthorized-as-403", "tutorhub", None, ("auth.required/no-token-401",)),
    ("validation-as-500", "tutorhub", None, ("crud.lifecycle/create-without-body-400",)),
    ("list-server-error", "tutorhub", None, ("crud.lifecycle/list-includes-created", "twin_documented_status")),
    # -- success envelope --------------------------------------------------------------------------
    ("envelope-status-lowercase", "tutorhub", None, ENVELOPE),
    ("envelope-statuscode-string", "tutorhub", None, ENVELOPE),
    ("envelope-statuscode-200", "tutorhub", None, ENVELOPE),
    ("envelope-no-dataname", "tutorhub", None, ENVELOPE),
    ("envelope-dataname-wrong", "tutorhub", None, ENVELOPE),
    ("envelope-data-under-data", "tutorhub", None, ENVELOPE),
    ("envelope-method-lowercase", "tutorhub", None, ENVELOPE),
    ("envelope-action-wrong", "tutorhub", None, ENVELOPE),
    ("envelope-rowcount-off", "tutorhub", None, ENVELOPE),
    ("envelope-no-requestid", "tutorhub", None, ENVELOPE),
    ("envelope-elapsed-string", "tutorhub", None, ENVELOPE),
    ("single-as-array", "tutorhub", None, ENVELOPE),
    ("list-as-object", "tutorhub", None, ENVELOPE),
    ("payment-result-missing", "tutorhub", None, ENVELOPE),
    # -- paging ------------------------------------------------------------------------------------
    ("paging-missing", "tutorhub", None, PAGING),
    ("paging-pagecount-off", "tutorhub", None, PAGING),
    ("paging-total-below-rows", "tutorhub", None, PAGING),
    ("paging-page-number-stuck", "tutorhub", None, PAGING),
    # -- records -----------------------------------------------------------------------------------
    ("idx-off-by-one", "tutorhub", None, ("twin_enum_values",)),
    ("enum-uppercase", "tutorhub", None, ("twin_enum_values",)),
    ("record-version-missing", "tutorhub", None, ("twin_resource_keys",)),
    ("owner-missing", "tutorhub", None, ("twin_resource_keys",)),
    ("id-null", "tutorhub", None, ("twin_resource_keys",)),
    ("created-at-null", "tutorhub", None, ("twin_resource_keys",)),
    ("foreign-keys-dropped", "tutorhub", None, ("twin_resource_keys",)),
    ("extra-key-in-record", "tutorhub", None, ("twin_resource_keys",)),
    ("dates-not-iso", "tutorhub", None, ("twin_value_types",)),
    ("numbers-as-strings", "tutorhub", None, ("twin_value_types",)),
    ("isactive-string", "tutorhub", None, ("twin_value_types",)),
    # -- errors ------------------------------------------------------------------------------------
    ("error-result-ok", "tutorhub", None, ERROR),
    ("error-errcode-500", "tutorhub", None, ERROR),
    ("error-status-string", "tutorhub", None, ERROR),
    ("error-no-message", "tutorhub", None, ERROR),
    ("error-date-epoch", "tutorhub", None, ERROR),
    ("error-bare-text", "tutorhub", None, ERROR),
    # -- stateful answers --------------------------------------------------------------------------
    ("updated-at-frozen", "tutorhub", None, ("crud.lifecycle/update-increments-version",)),
    ("list-omits-newest", "tutorhub", None, ("crud.lifecycle/list-includes-created",)),
    ("get-wrong-id", "tutorhub", None, ("crud.lifecycle/get-returns-created",)),
    ("delete-not-soft", "tutorhub", None, ("crud.lifecycle/delete-is-soft",)),
    ("owner-changes-on-update", "tutorhub", "crud.", ("crud.lifecycle/owner-unchanged",)),
]


def test_every_mutant_the_twin_offers_has_a_row(available_mutants: set[str]) -> None:
    """A new defect in the twin needs a row here (and a rule that catches it)."""
    assert available_mutants - {row[0] for row in MATRIX} == set()
    assert len(MATRIX) >= 40


@pytest.mark.parametrize(("mutant", "project", "only", "expected"), MATRIX, ids=[row[0] for row in MATRIX])
def test_mutant_is_caught(twin_url: str, available_mutants: set[str], mutant: str, project: str, only: str | None,
                          expected: tuple[str, ...]) -> None:
    assert mutant in available_mutants, f"the twin no longer offers {mutant!r}: drop its row"
    report = verify_twin(twin_url, mutant, [project], only=[only] if only else None)
    failed = sorted({r.rule for r in report.failed})
    assert failed, f"{mutant}: the suite passed a twin with this defect"
    assert any(rule.startswith(prefix) for rule in failed for prefix in expected), \
        f"{mutant}: caught, but not by {expected}; failed rules: {failed}"


@pytest.mark.parametrize("mutant", ["envelope-status-lowercase", "create-answers-200", "error-errcode-500", "list-server-error"])
def test_generated_layer_alone_catches_response_mutants(twin_url: str, mutant: str) -> None:
    """The Schemathesis layer (with the suite's registered checks) catches defects by itself too."""
    report = verify_twin(twin_url, mutant, ["tutorhub"], layers=["generated"], phases=["fuzzing"], max_examples=3)
    failed = {r.rule for r in report.failed}
    assert failed, f"{mutant}: the generated layer passed"
    assert all(r.layer.startswith(("generated", "response")) or "generated" in r.layer for r in report.failed)


def _active_records(twin_url: str) -> Counter[tuple[str, str]]:
    return Counter({(s["slug"], name): count for s in get(f"{twin_url}/__twin/services")["services"]
                    for name, count in s["objects"].items()})


def test_clean_twin_passes_every_rule_on_all_services(twin_url: str) -> None:
    """The unmodified twin: every layer, every service, no failure; at most
    5 % of rule checks skipped; and the run leaves the active records as it found them, apart from
    those its report lists as left behind (records the guides offer no way to delete)."""
    before: Counter[tuple[str, str]] = Counter()

    def count_before() -> None:
        before.update(_active_records(twin_url))

    report = verify_twin(twin_url, None, None, layers=["probes", "scenarios", "generated"], payment_wait=10.0,
                         after_reset=count_before)
    left = Counter((service, item["object"]) for service, items in report.left_behind.items() for item in items)
    grown = {key: count - before[key] for key, count in _active_records(twin_url).items() if count != before[key]}
    assert grown == {key: n for key, n in left.items() if n}, f"active records changed by {grown}; listed as left behind: {dict(left)}"
    assert all(item["reason"] == "the guide has no delete operation for it" for items in report.left_behind.values() for item in items)
    counts = report.counts()
    assert counts["skip"] <= 0.05 * len(report.results), f"{counts['skip']} of {len(report.results)} rule checks skipped"
    failures = "\n".join(f"{r.service} {r.operation} {r.rule}: {r.message[:300]}" for r in report.failed)
    assert report.ok, failures
    assert len(report.services) == 3
    passed_scenarios = {r.rule.split("/")[0] for r in report.results if r.layer == "scenario" and r.status == "pass"}
    assert {"tutorhub.refund-window", "workforceos.tenant-isolation", "airbnb.reservation-overlap"} <= passed_scenarios
