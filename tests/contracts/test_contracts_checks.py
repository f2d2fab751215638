"""The response checks on hand-made answers: a right answer passes every check, and each kind of
drift fails the check that owns it (and says why)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import pytest
from contracts_testing import ENROLLMENT, PAYMENT, WORKFORCEOS, envelope, error_body, exchange

from contracts.checks import REGISTRY, judge
from contracts.checks.base import Exchange, is_iso_datetime, type_problem
from contracts.registry import load_builtins
from contracts.spec import parse_spec

load_builtins()  # the suite's own checks and scenarios are what these tests judge


def failed(ex) -> dict[str, str]:
    return {v.check: v.message for v in judge(ex) if not v.passed}


def applied(ex) -> set[str]:
    return {v.check for v in judge(ex)}


# -- right answers pass -------------------------------------------------------------------------
@pytest.mark.parametrize(("api", "resource"), [
    ("createEnrollmentPayment", PAYMENT), ("getEnrollmentPayment", PAYMENT), ("updateEnrollmentPayment", PAYMENT),
    ("deleteEnrollmentPayment", {**PAYMENT, "isActive": False}), ("listEnrollmentPayments", [PAYMENT, PAYMENT]),
    ("listEnrollments", [ENROLLMENT]), ("listEnrollmentPayments", []),
])
def test_right_success_answers_pass_every_check(api, resource):
    ex = exchange(api, 201 if api.startswith("create") else 200, envelope(api, resource))
    assert failed(ex) == {}
    assert {"twin_success_status", "twin_success_envelope", "twin_json_answer", "twin_documented_status"} <= applied(ex)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
def test_right_errors_pass(status):
    ex = exchange("getEnrollmentPayment", status, error_body(status))
    assert failed(ex) == {}
    assert "twin_error_envelope" in applied(ex)
    assert "twin_success_envelope" not in applied(ex)  # not applicable to errors


def test_every_check_is_registered_with_a_description():
    assert {"twin_success_status", "twin_success_envelope", "twin_list_paging", "twin_error_envelope", "twin_resource_keys",
            "twin_enum_values", "twin_value_types", "twin_documented_status", "twin_json_answer"} <= set(REGISTRY)
    assert all(check.description for check in REGISTRY.values())


# -- status rules -------------------------------------------------------------------------------
def test_create_answering_200_fails_success_status():
    body = envelope("createEnrollmentPayment", PAYMENT, http_status=200)
    problems = failed(exchange("createEnrollmentPayment", 200, body))
    assert "201" in problems["twin_success_status"]


def test_201_outside_create_fails():
    body = envelope("updateEnrollmentPayment", PAYMENT, http_status=201)
    problems = failed(exchange("updateEnrollmentPayment", 201, body))
    assert "create only" in problems["twin_success_status"]


def test_undocumented_status_fails():
    problems = failed(exchange("getEnrollmentPayment", 409, error_body(409)))
    assert "409" in problems["twin_documented_status"]


def test_undeclared_method_probe_is_not_judged_by_the_envelope_rules():
    ex = exchange("getEnrollmentPayment", 405, error_body(405), method="TRACE")
    assert applied(ex) == {"twin_error_envelope"}


# -- success envelope -----------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "expected"), [
    ({"status": "ok"}, "status is 'ok'"),
    ({"statusCode": "200"}, "statusCode is '200'"),
    ({"statusCode": 201}, "differs from the HTTP status"),
    ({"dataName": "payment"}, "dataName is 'payment'"),
    ({"method": "get"}, "method is 'get'"),
    ({"action": "read"}, "action is 'read'"),
    ({"rowCount": 2}, "rowCount 2"),
    ({"requestId": ""}, "requestId"),
    ({"elapsedMs": "3ms"}, "elapsedMs"),
])
def test_envelope_drift_fails_success_envelope(change, expected):
    body = envelope("getEnrollmentPayment", PAYMENT, **change)
    assert expected in failed(exchange("getEnrollmentPayment", 200, body))["twin_success_envelope"]


@pytest.mark.parametrize("key", ["status", "statusCode", "dataName", "method", "action", "rowCount", "requestId", "elapsedMs"])
def test_missing_envelope_key_fails(key):
    body = envelope("getEnrollmentPayment", PAYMENT)
    del body[key]
    assert "twin_success_envelope" in failed(exchange("getEnrollmentPayment", 200, body))


def test_resource_under_the_wrong_key_fails():
    body = envelope("getEnrollmentPayment", PAYMENT)
    body["data"] = body.pop("sys_enrollmentPayment")
    assert "is missing" in failed(exchange("getEnrollmentPayment", 200, body))["twin_success_envelope"]


def test_single_resource_as_array_and_list_as_object_fail():
    single = envelope("getEnrollmentPayment", PAYMENT)
    single["sys_enrollmentPayment"] = [PAYMENT]
    assert "expected an object" in failed(exchange("getEnrollmentPayment", 200, single))["twin_success_envelope"]
    listed = envelope("listEnrollmentPayments", [PAYMENT])
    listed["sys_enrollmentPayments"] = PAYMENT
    assert "expected an array" in failed(exchange("listEnrollmentPayments", 200, listed))["twin_success_envelope"]


def test_missing_extra_key_fails():
    body = envelope("startEnrollmentPayment", ENROLLMENT)
    assert "paymentResult" in failed(exchange("startEnrollmentPayment", 200, body))["twin_success_envelope"]
    assert "twin_success_envelope" not in failed(exchange("startEnrollmentPayment", 200, {**body, "paymentResult": {}}))


# -- paging -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("paging", "expected"), [
    (None, "paging is None"),
    ({"pageNumber": 1, "pageRowCount": 25, "totalRowCount": 1, "pageCount": 1}, "totalRowCount 1 < the 2 rows"),
    ({"pageNumber": 1, "pageRowCount": 25, "totalRowCount": 2, "pageCount": 2}, "pageCount 2"),
    ({"pageNumber": 1, "pageRowCount": 1, "totalRowCount": 2, "pageCount": 2}, "2 rows answered but paging.pageRowCount is 1"),
    ({"pageNumber": 1, "pageRowCount": 25, "totalRowCount": 5, "pageCount": 1}, "should hold 5"),
    ({"pageNumber": "1", "pageRowCount": 25, "totalRowCount": 2, "pageCount": 1}, "paging.pageNumber"),
])
def test_inconsistent_paging_fails(paging, expected):
    body = envelope("listEnrollmentPayments", [PAYMENT, PAYMENT], paging=paging)
    assert expected in failed(exchange("listEnrollmentPayments", 200, body))["twin_list_paging"]


def test_paging_must_echo_the_requested_page():
    body = envelope("listEnrollmentPayments", [PAYMENT])
    body["paging"].update(pageNumber=1, pageRowCount=1, totalRowCount=2, pageCount=2)
    ex = exchange("listEnrollmentPayments", 200, body, url="http://t/x?pageNumber=2&pageRowCount=1")
    assert "the request asked for 2" in failed(ex)["twin_list_paging"]


def test_single_answers_need_no_paging():
    assert "twin_list_paging" not in applied(exchange("getEnrollmentPayment", 200, envelope("getEnrollmentPayment", PAYMENT)))


# -- records ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["id", "isActive", "recordVersion", "createdAt", "updatedAt", "_owner"])
def test_full_records_carry_the_system_fields(key):
    record = {k: v for k, v in PAYMENT.items() if k != key}
    assert key in failed(exchange("getEnrollmentPayment", 200, envelope("getEnrollmentPayment", record)))["twin_resource_keys"]


def test_required_property_missing_or_null_fails():
    missing = {k: v for k, v in PAYMENT.items() if k != "paymentId"}
    assert "paymentId" in failed(exchange("getEnrollmentPayment", 200, envelope("getEnrollmentPayment", missing)))["twin_resource_keys"]
    null = {**PAYMENT, "orderId": None}
    assert "orderId is required but null" in failed(exchange("getEnrollmentPayment", 200, envelope("getEnrollmentPayment", null)))["twin_resource_keys"]


def test_optional_property_may_be_null():
    record = {**PAYMENT, "redirectUrl": None, "ownerId": None}
    assert failed(exchange("getEnrollmentPayment", 200, envelope("getEnrollmentPayment", record))) == {}


def test_select_list_answers_carry_only_listed_keys():
    record = {"isActive": True, "coursePack": {"title": "x"}, "lessonSlots": [], "student": {}, "tutorProfile": {}}
    assert failed(exchange("getEnrollment", 200, envelope("getEnrollment", record))) == {}
    leaked = {**record, "internalNote": "x"}
    assert "internalNote" in failed(exchange("getEnrollment", 200, envelope("getEnrollment", leaked)))["twin_resource_keys"]


@pytest.mark.parametrize(("change", "expected"), [
    ({"paymentStatus": "PAID"}, "not one of"),
    ({"paymentStatus_idx": 2}, "paymentStatus_idx is 2"),
    ({"refundStatus_idx": None}, "refundStatus_idx is None"),
])
def test_enum_values_and_positions(change, expected):
    record = {**ENROLLMENT, **change}
    assert expected in failed(exchange("listEnrollments", 200, envelope("listEnrollments", [record])))["twin_enum_values"]


def test_enum_without_its_idx_fails_on_full_records():
    record = {k: v for k, v in ENROLLMENT.items() if k != "enrollmentStatus_idx"}
    assert "no enrollmentStatus_idx" in failed(exchange("listEnrollments", 200, envelope("listEnrollments", [record])))["twin_enum_values"]


def test_joined_enum_positions_are_integers():
    record = {**ENROLLMENT, "lessonSlots": [{"status": "booked", "status_idx": "1"}]}
    assert "status_idx" in failed(exchange("listEnrollments", 200, envelope("listEnrollments", [record])))["twin_enum_values"]


@pytest.mark.parametrize(("change", "expected"), [
    ({"totalAmount": "240.0"}, "expected a number"),
    ({"createdAt": "Mon, 23 Nov 2026 14:05:44 GMT"}, "ISO-8601"),
    ({"enrolledAt": "2026-11-23"}, "ISO-8601"),
    ({"isActive": "true"}, "expected a boolean"),
    ({"recordVersion": 0}, "≥ 1"),
    ({"recordVersion": 1.5}, "expected an integer"),
    ({"lessonSlotIds": "6f1c5e0e-0000-4000-8000-000000000014"}, "expected an array"),
    ({"studentId": 12}, "expected a string"),
    ({"lessonSlots": {"scheduledDate": "yesterday"}}, "expected an array of joined records"),
])
def test_value_types(change, expected):
    record = {**ENROLLMENT, **change}
    assert expected in failed(exchange("listEnrollments", 200, envelope("listEnrollments", [record])))["twin_value_types"]


def test_joined_dates_are_iso():
    record = {**ENROLLMENT, "lessonSlots": [{"scheduledDate": "2027-01-05", "status": "booked", "status_idx": 1}]}
    assert "scheduledDate" in failed(exchange("listEnrollments", 200, envelope("listEnrollments", [record])))["twin_value_types"]


def test_string_arrays_and_integers_of_another_service():
    sub = {"id": "6f1c5e0e-0000-4000-8000-000000000020", "activationDate": "2026-11-23T14:05:44.985Z",
           "expiryDate": "2026-12-23T14:05:44.985Z", "status": "active", "status_idx": 0, "subscribedFeatures": ["a", "b"],
           "lastRenewedBy": None, "currency": "usd", "paymentStatus": "paid", "paymentStatus_idx": 1,
           "paymentStatusUpdatedAt": None, "ownerId": "6f1c5e0e-0000-4000-8000-000000000021", "stripeSubscriptionId": None,
           "amount": 4999, "companyId": "6f1c5e0e-0000-4000-8000-000000000022", "paymentConfirmation": "paid",
           "paymentConfirmation_idx": 2, "isActive": True, "recordVersion": 1, "createdAt": "2026-11-23T14:05:44.985Z",
           "updatedAt": "2026-11-23T14:05:44.985Z", "_owner": None}
    ok = exchange("getCompanySubscription", 200, envelope("getCompanySubscription", sub, spec_path=WORKFORCEOS), spec_path=WORKFORCEOS)
    assert failed(ok) == {}
    bad = copy.deepcopy(sub) | {"amount": 49.99, "subscribedFeatures": ["a", 3]}
    problems = failed(exchange("getCompanySubscription", 200, envelope("getCompanySubscription", bad, spec_path=WORKFORCEOS),
                               spec_path=WORKFORCEOS))["twin_value_types"]
    assert "amount" in problems and "subscribedFeatures[1]" in problems


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "expected"), [
    ({"result": "OK"}, "result is 'OK'"),
    ({"errCode": 500}, "errCode 500 differs"),
    ({"status": "404"}, "status is '404'"),
    ({"message": ""}, "message"),
    ({"date": 1767225600000}, "date"),
    ({"detail": {"x": 1}}, "detail"),
])
def test_error_envelope_drift(change, expected):
    assert expected in failed(exchange("getEnrollmentPayment", 404, error_body(404, **change)))["twin_error_envelope"]


def test_error_without_json_fails_error_and_json_checks():
    ex = exchange("getEnrollmentPayment", 404, "Not Found", content_type="text/plain")
    problems = failed(ex)
    assert "not a JSON object" in problems["twin_error_envelope"]
    assert "Content-Type" in problems["twin_json_answer"]


def test_error_body_answered_as_200_fails_the_success_envelope():
    assert "status is 404, expected 'OK'" in failed(exchange("getEnrollmentPayment", 200, error_body(404)))["twin_success_envelope"]


# -- value helpers ------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "ok"), [
    ("2024-03-19T12:13:54.124Z", True), ("2024-03-19T12:13:54Z", True), ("2024-03-19T12:13:54.124+02:00", True),
    ("2024-03-19T12:13:54.123456789Z", True), ("2024-03-19", False), ("2024-02-30T00:00:00Z", False),
    ("2024-03-19T12:13:54", False), (1710850434, False), (None, False),
])
def test_iso_datetime(value, ok):
    assert is_iso_datetime(value) is ok


def test_type_problem_accepts_null_and_refuses_booleans_as_numbers():
    assert type_problem("Double", None) is None
    assert type_problem("Double", True) is not None
    assert type_problem("Integer", 3) is None
    assert type_problem("Object", {"a": 1}) is None


def _summary_exchange(stats: dict) -> Exchange:
    """An answer of `getClinicStats`, an operation on no data object whose example shows three keys."""
    op = {"operationId": "getClinicStats", "x-twin-api": "getClinicStats", "x-twin-action": "get",
          "x-twin-data-name": "clinicStats", "x-twin-data-object": None, "x-twin-status": 200, "x-twin-list": False,
          "x-twin-fields": ["visits", "busiestDay", "open"], "x-twin-extra-keys": [], "x-twin-joins": []}
    spec = parse_spec({"info": {"x-twin-project": "vetclinic"}, "paths": {"/v1/clinicstats": {"get": op}}},
                      Path("vetclinic-appointmentmanagement.yaml"))
    body = {"status": "OK", "statusCode": 200, "elapsedMs": 1.5, "ssoTime": 0, "source": "db", "cacheKey": "x",
            "userId": "u", "sessionId": "s", "requestId": "r-1", "dataName": "clinicStats", "method": "GET",
            "action": "get", "appVersion": "1", "rowCount": 1, "clinicStats": stats}
    return Exchange(spec=spec, facts=spec.op("getClinicStats"), method="GET", url="http://twin.test/v1/clinicstats",
                    status=200, headers={"content-type": "application/json"}, text=json.dumps(body))


def test_an_answer_on_no_data_object_carries_the_keys_its_example_shows_not_a_records():
    stats = {"visits": 0, "busiestDay": "2027-01-04T00:00:00.000Z", "open": False}
    assert "twin_resource_keys" not in failed(_summary_exchange(stats))
    with_id = _summary_exchange(stats)
    with_id.facts = replace(with_id.facts, fields=(*with_id.facts.fields, "id"))
    assert "lacks the system field 'id'" in failed(with_id)["twin_resource_keys"]
