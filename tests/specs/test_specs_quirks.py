"""The guides' known defects are read the most likely way and reported as warnings that carry the
guide line showing the defect; the specs keep them under `info.x-twin-warnings`."""

from __future__ import annotations

import re
from typing import Any

import pytest
from specs_testing import SLUGS, guide_line, guide_path, operation_by_id, parameters, resolve

from specs.model import Service

TUTORHUB = "tutorhub-enrollmentmanagement"
WORKFORCEOS = "workforceos-subscriptionmanagement"
AIRBNB = "airbnb-bookingmanagement"
KNOWN_QUIRKS = {"missing-column", "statuscode-string", "rowcount-string", "type-typo", "mixed-case-route"}

# A line of the guide that shows each defect, found by looking at the text, not by the parser.
DEFECT_LINE = {
    "statuscode-string": re.compile(r'^"statusCode": "\d+",?$'),
    "rowcount-string": re.compile(r'^"rowCount": "\\"Number\\"",?$'),
    "type-typo": re.compile(r'^"\w+": "NUmber",?$'),
    "missing-column": re.compile(
        r"^(ID|String|Text|Integer|Double|Boolean|Date|Enum|Object) \| (Yes|No) \|"  # property row without IsArray
        r"|^\| \w+ \| \w+ \| request\.\w+\?\.\["  # parameter row without Required
    ),
    "mixed-case-route": re.compile(r"^/v1/(?=[^:]*[A-Z])[\w/]*(/:\w+)*$"),
}


def quirk(slug: str, line: int, code: str, text: str, shown: str) -> Any:
    """One named quirk: its guide line, code, a part of its message and how the line begins."""
    return pytest.param(slug, line, code, text, shown, id=f"{slug.split('-')[0]}:{line}:{code}")


def lines_showing(slug: str, code: str) -> list[int]:
    lines = guide_path(slug).read_text(encoding="utf-8").splitlines()
    return [number for number, line in enumerate(lines, 1) if DEFECT_LINE[code].match(line.strip())]


def warnings_of(service: Service, code: str) -> list[int]:
    return [w.line for w in service.warnings if w.code == code]


@pytest.mark.parametrize("slug", SLUGS)
def test_the_guides_raise_only_the_known_quirks(services: dict[str, Service], slug: str) -> None:
    assert {w.code for w in services[slug].warnings} <= KNOWN_QUIRKS


@pytest.mark.parametrize("code", sorted(KNOWN_QUIRKS))
@pytest.mark.parametrize("slug", SLUGS)
def test_each_defect_in_the_guide_is_warned_about_once_at_its_line(services: dict[str, Service], slug: str, code: str) -> None:
    assert warnings_of(services[slug], code) == lines_showing(slug, code)


@pytest.mark.parametrize(("slug", "code", "count"), [
    (TUTORHUB, "missing-column", 11), (TUTORHUB, "statuscode-string", 26), (TUTORHUB, "rowcount-string", 9),
    (TUTORHUB, "type-typo", 9), (TUTORHUB, "mixed-case-route", 0),
    (WORKFORCEOS, "missing-column", 0), (WORKFORCEOS, "statuscode-string", 19), (WORKFORCEOS, "rowcount-string", 4),
    (WORKFORCEOS, "type-typo", 4), (WORKFORCEOS, "mixed-case-route", 2),
    (AIRBNB, "missing-column", 0), (AIRBNB, "statuscode-string", 25), (AIRBNB, "rowcount-string", 6),
    (AIRBNB, "type-typo", 6), (AIRBNB, "mixed-case-route", 0),
])
def test_number_of_warnings_per_quirk(services: dict[str, Service], slug: str, code: str, count: int) -> None:
    assert len(warnings_of(services[slug], code)) == count


@pytest.mark.parametrize(("slug", "line", "code", "text", "shown"), [
    quirk(TUTORHUB, 97, "missing-column", "property paymentStatus: the IsArray column is missing", "Enum | Yes | No | Status of payment"),
    quirk(TUTORHUB, 101, "missing-column", "property enrollmentStatus: the IsArray column is missing", "Enum | Yes | No | Enrollment status"),
    quirk(TUTORHUB, 921, "missing-column", "cancelEnrollment: parameter cancelReason has no Required value", "| cancelReason | String | request.body"),
    quirk(TUTORHUB, 985, "missing-column", "adminRefundEnrollment: parameter enrollmentId has no Required value", "| enrollmentId | ID | request.body"),
    quirk(TUTORHUB, 1219, "missing-column", "cleanupPendingEnrollments: parameter maxAgeMinutes has no Required value", "| maxAgeMinutes | Integer |"),
    quirk(TUTORHUB, 411, "statuscode-string", "createEnrollment: statusCode example is the string '201'; read as 201", '"statusCode": "201",'),
    quirk(TUTORHUB, 475, "statuscode-string", "getEnrollment: statusCode example is the string '200'; read as 200", '"statusCode": "200",'),
    quirk(TUTORHUB, 571, "rowcount-string", "listEnrollments: rowCount example is a string", '"rowCount": "\\"Number\\"",'),
    quirk(TUTORHUB, 639, "type-typo", "listEnrollments: paging.pageRowCount type 'NUmber' read as Number", '"pageRowCount": "NUmber",'),
    quirk(WORKFORCEOS, 1152, "mixed-case-route", "getCompanySubscriptionPaymentByOrderId: route /v1/companySubscriptionpaymentbyorderid/:orderId",
     "/v1/companySubscriptionpaymentbyorderid/:orderId"),
    quirk(WORKFORCEOS, 1204, "mixed-case-route", "getCompanySubscriptionPaymentByPaymentId: route /v1/companySubscriptionpaymentbypaymentid/:paymentId",
     "/v1/companySubscriptionpaymentbypaymentid/:paymentId"),
    quirk(AIRBNB, 858, "type-typo", "listReservations: paging.pageRowCount type 'NUmber'", '"pageRowCount": "NUmber",'),
])
def test_named_quirk_is_warned_at_the_line_that_shows_it(
    services: dict[str, Service], slug: str, line: int, code: str, text: str, shown: str
) -> None:
    matching = [w for w in services[slug].warnings if w.line == line and w.code == code]
    assert len(matching) == 1, [str(w) for w in services[slug].warnings if w.line == line]
    assert text in matching[0].message
    assert guide_line(slug, line).startswith(shown)
    assert str(matching[0]).startswith(f"line {line}: [{code}] ")


@pytest.mark.parametrize("slug", SLUGS)
def test_spec_keeps_every_parser_warning_under_info(specs: dict[str, Any], services: dict[str, Service], slug: str) -> None:
    assert specs[slug]["info"]["x-twin-warnings"] == [str(w) for w in services[slug].warnings]


# -- how each quirk is read ------------------------------------------------------------------------------
def test_a_property_row_without_isarray_is_a_required_scalar_enum_in_the_spec(specs: dict[str, Any]) -> None:
    schema = specs[TUTORHUB]["components"]["schemas"]["Enrollment"]
    for name in ("paymentStatus", "enrollmentStatus"):
        assert schema["properties"][name]["type"] == "string"
        assert name in schema["required"]
        assert specs[TUTORHUB]["x-twin-data-objects"]["enrollment"]["properties"][name]["isArray"] is False


@pytest.mark.parametrize(("api", "body"), [
    ("cancelEnrollment", ["cancelReason"]),
    ("adminRefundEnrollment", ["enrollmentId", "reason"]),
    ("cascadeTutorBan", ["tutorProfileId", "reason"]),
    ("cascadeCourseRemoval", ["coursePackId", "reason"]),
    ("cleanupPendingEnrollments", ["maxAgeMinutes"]),
    ("checkEnrollmentCompletion", ["enrollmentId"]),
])
def test_a_parameter_row_without_required_is_an_optional_body_parameter(specs: dict[str, Any], api: str, body: list[str]) -> None:
    operation = operation_by_id(specs[TUTORHUB], api)
    request = operation["requestBody"]
    schema = request["content"]["application/json"]["schema"]
    assert list(schema["properties"]) == body
    assert [name for name in body if name in schema.get("required", [])] == []
    assert request["required"] is False


def test_cancel_reason_keeps_its_path_parameter_required(specs: dict[str, Any]) -> None:
    operation = operation_by_id(specs[TUTORHUB], "cancelEnrollment")
    assert parameters(specs[TUTORHUB], operation)[("path", "enrollmentId")]["required"] is True


@pytest.mark.parametrize(("slug", "api", "status"), [
    (TUTORHUB, "createEnrollment", 201), (TUTORHUB, "getEnrollment", 200),
    (WORKFORCEOS, "createCompanySubscription", 201), (AIRBNB, "deleteReservation", 200),
])
def test_a_string_status_code_is_read_as_the_integer(specs: dict[str, Any], slug: str, api: str, status: int) -> None:
    operation = operation_by_id(specs[slug], api)
    assert [code for code in operation["responses"] if code.startswith("2")] == [str(status)]
    specific = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    assert specific["properties"]["statusCode"] == {"type": "integer", "const": status}
    assert operation["x-twin-status"] == status


@pytest.mark.parametrize("slug", SLUGS)
def test_row_count_and_paging_numbers_are_integers_despite_the_examples(specs: dict[str, Any], slug: str) -> None:
    schemas = specs[slug]["components"]["schemas"]
    assert all(p["type"] == "integer" for p in schemas["Paging"]["properties"].values())
    for item in specs[slug]["paths"].values():
        for operation in item.values():
            status = str(operation["x-twin-status"])
            envelope = operation["responses"][status]["content"]["application/json"]["schema"]["properties"]
            assert envelope["rowCount"]["type"] == "integer"
            if operation["x-twin-list"]:
                assert resolve(specs[slug], envelope["paging"]) is schemas["Paging"]


def test_a_mixed_case_route_is_kept_as_written(specs: dict[str, Any]) -> None:
    paths = specs[WORKFORCEOS]["paths"]
    assert paths["/v1/companySubscriptionpaymentbyorderid/{orderId}"]["get"]["operationId"] == "getCompanySubscriptionPaymentByOrderId"
    assert "/v1/companysubscriptionpaymentbyorderid/{orderId}" not in paths
