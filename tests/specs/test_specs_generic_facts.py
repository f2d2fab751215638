"""What the spec says for a twin and a judge to agree on any guide: the one rule for a Date, the
roles and the tenant a guide's prose names, and the shape of every extra key of a response example.
Written against synthetic guides (page text) and prose snippets in both forms."""

from __future__ import annotations

import calendar
import json
import re
from typing import Any

import pytest
from specs_testing import APPOINTMENT_RECORD, SyntheticGuide, operation_by_id

from specs.emitter import emit_openapi
from specs.parser import parse_guide
from specs.prose import is_platform_role, required_keys, roles_named, tenant_object
from specs.values import DATETIME_PATTERN, FILTER_DATE_PATTERN, is_datetime


def emit(guide: SyntheticGuide) -> dict[str, Any]:
    return emit_openapi(parse_guide(guide.text(), source=f"{guide.slug}.txt"))


def _real_day(year: int, month: int, day: int) -> bool:
    return 1 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


# -- one rule for a Date ---------------------------------------------------------------------------
@pytest.mark.parametrize("year", [0, 1, 4, 100, 400, 1900, 2000, 2023, 2024, 9999])
def test_a_date_is_a_real_calendar_day_with_a_time_and_a_zone(year: int) -> None:
    for month in range(0, 14):
        for day in range(0, 33):
            value = f"{year:04d}-{month:02d}-{day:02d}T10:30:00.125Z"
            assert is_datetime(value) == _real_day(year, month, day), value


@pytest.mark.parametrize("value", [
    "2024-03-19T12:13:54.124Z", "2024-03-19T12:13:54Z", "2024-03-19T12:13:54.123456+05:30", "0001-01-01T00:00:00-01:00",
])
def test_the_usual_date_forms_are_dates(value: str) -> None:
    assert is_datetime(value)


@pytest.mark.parametrize("value", [
    "0000-01-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-03-19", "2024-03-19T12:13:54",
    "2024-03-19T24:00:00Z", "2024-03-19T12:13:54.1234567Z", "2024-03-19 12:13:54Z", 20240319,
    # Other scripts' digits: Python's \d takes them, a backend's ECMAScript \d does not.
    "٢٠٢٤-03-19T12:13:54Z", "2024-03-19T12:13:5\u0664Z", "２０２４-03-19T12:13:54Z",
])
def test_what_no_backend_calls_a_date_is_not_one(value: Any) -> None:
    assert not is_datetime(value)


def test_every_date_schema_of_a_spec_carries_the_rule(synthetic: SyntheticGuide) -> None:
    doc = emit(synthetic)
    create = operation_by_id(doc, "createAppointment")
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["scheduledAt"]["pattern"] == DATETIME_PATTERN
    record = doc["components"]["schemas"]["Appointment"]["properties"]
    assert {record[key]["pattern"] for key in ("scheduledAt", "createdAt", "updatedAt")} == {DATETIME_PATTERN}


def test_a_date_filter_names_only_real_days(synthetic: SyntheticGuide) -> None:
    doc = emit(synthetic)
    params = {p["name"]: p for p in operation_by_id(doc, "listAppointments")["parameters"] if "name" in p}
    pattern = re.compile(params["scheduledAt"]["schema"]["items"]["pattern"])
    assert FILTER_DATE_PATTERN in pattern.pattern
    for good in ("2024-02-29", "2024-01-15T10:00:00Z", "$today", "$leq-2024-01-31", "null"):
        assert pattern.match(good), good
    for bad in ("0000-01-01", "2023-02-29", "$lin-2024-13-01", "yesterday", "٢٠٢٤-01-15", "$leq-2024-01-3\u0661"):
        assert not pattern.match(bad), bad


# -- roles and tenants from prose ------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "only users with the `superAdmin`, `admin`, or `saasAdmin` roles can write (upload) to it.",  # Markdown
    "only users with the superAdmin, admin, or saasAdmin roles can write (upload) to it.",  # page text
    "only users with the **superAdmin**, **admin** or **saasAdmin** roles can write",
])
def test_the_roles_a_guide_names_are_read_from_either_form(text: str) -> None:
    assert roles_named(text) == ["superAdmin", "admin", "saasAdmin"]


def test_roles_are_listed_once_in_order_of_first_mention() -> None:
    text = ("Fetch a dispute (guest, host, assigned admin, or admin role). Only users with the `tenantOwner` or "
            "`tenantAdmin` roles can write; when a user with one of these admin roles logs in … the tenantOwner/vet role.")
    assert roles_named(text) == ["admin", "tenantOwner", "tenantAdmin", "vet"]


@pytest.mark.parametrize("text", [
    "Access depends on the roles of the caller.", "The teacher (auth:user, role enforced at API layer).",
    "enforced by membership/role checks", "Each user's roleId decides.", "with their own role",
])
def test_prose_that_names_no_role_gives_none(text: str) -> None:
    assert roles_named(text) == []


@pytest.mark.parametrize("text", [
    "Payment details. Must include paymentMethodId and currency.",  # page text
    "Payment details. Must include `paymentMethodId` and `currency`.",  # Markdown
    "Payment details. **Must include** `paymentMethodId`, `currency`",
])
def test_the_keys_an_object_must_include_are_read_from_either_form(text: str) -> None:
    assert required_keys(text) == ["paymentMethodId", "currency"]


def test_platform_roles_are_the_super_and_saas_ones() -> None:
    assert [is_platform_role(r) for r in ("superAdmin", "saasAdmin", "admin", "tenantOwner", "user")] == [
        True, True, False, False, False]


@pytest.mark.parametrize(("header", "name"), [
    ("mbx-school-codename", "school"), ("mbx-company-codename", "company"), ("x-clinic-code", "clinic"),
    ("X-Tenant", "company"), ("mbx-codename", "company"),
])
def test_the_tenant_object_is_what_the_header_names(header: str, name: str) -> None:
    assert tenant_object(header) == name


def test_the_spec_lists_the_guides_roles_with_their_tenant_scope(synthetic: SyntheticGuide) -> None:
    synthetic.objects["pet"] += "\nOnly users with the vet, receptionist or saasAdmin roles may edit a pet."
    doc = emit(synthetic)
    assert doc["x-twin-roles"] == [
        {"name": "vet", "tenant": True}, {"name": "receptionist", "tenant": True}, {"name": "saasAdmin", "tenant": False},
    ]
    assert doc["components"]["parameters"]["TenantHeader"]["description"] == "The tenant (clinic codename) the call acts for."


def test_without_a_tenant_no_role_is_a_tenants(synthetic: SyntheticGuide) -> None:
    synthetic.tenant_header = None
    synthetic.objects["pet"] += "\nOnly users with the vet role may edit a pet."
    assert emit(synthetic)["x-twin-roles"] == [{"name": "vet", "tenant": False}]


def test_a_guide_naming_no_role_lists_none(synthetic: SyntheticGuide) -> None:
    assert emit(synthetic)["x-twin-roles"] == []


# -- extra keys keep the example's shape ----------------------------------------------------------------
ANALYTICS = {
    "visitCount": "Integer", "averageWeightKg": "Double", "lastVisit": "Date", "busy": True, "score": 3, "ratio": 0.5,
    "days": [{"day": "Date", "visits": "Integer"}, {}, {}], "tags": ["String"], "flags": [],
}


def test_an_extra_key_is_required_and_typed_as_its_example(synthetic: SyntheticGuide) -> None:
    example = synthetic.envelope("appointments", "GET", "list", [APPOINTMENT_RECORD, {}, {}], paging=True)
    example = example[:-2] + ',\n"weeklyAnalytics": ' + json.dumps(ANALYTICS) + "\n}"
    synthetic.apis["listAppointments"] = synthetic.api_section(
        "List Appointments", "listAppointments", "GET", "/v1/appointments", default="list", response=example)
    op = operation_by_id(emit(synthetic), "listAppointments")
    assert op["x-twin-extra-keys"] == ["weeklyAnalytics"]
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]  # self-contained
    assert "weeklyAnalytics" in answer["required"]
    props = answer["properties"]["weeklyAnalytics"]["properties"]
    assert props["visitCount"]["type"] == ["integer", "null"] and props["averageWeightKg"]["type"] == ["number", "null"]
    assert props["lastVisit"]["pattern"] == DATETIME_PATTERN
    assert (props["busy"], props["score"], props["ratio"]) == ({"type": "boolean"}, {"type": "integer"}, {"type": "number"})
    assert props["days"]["type"] == "array"
    assert set(props["days"]["items"]["properties"]) == {"day", "visits"}
    assert props["tags"] == {"type": "array", "items": {"type": ["string", "null"]}}
    assert props["flags"] == {"type": "array", "items": {}}  # an empty example: items of any kind, still declared


def test_both_forms_of_a_guide_give_the_same_roles_and_tenant() -> None:
    docs = []
    for form, sentence in (("text", "Only users with the vet, receptionist or saasAdmin roles may edit a pet."),
                           ("markdown", "Only users with the `vet`, `receptionist` or `saasAdmin` roles may edit a pet.")):
        guide = SyntheticGuide(form=form)
        guide.objects["pet"] += "\n" + sentence + "\n"
        docs.append(emit(guide))
    assert docs[0]["x-twin-roles"] == docs[1]["x-twin-roles"] == [
        {"name": "vet", "tenant": True}, {"name": "receptionist", "tenant": True}, {"name": "saasAdmin", "tenant": False}]
    assert docs[0]["x-twin-tenant"] == docs[1]["x-twin-tenant"] == {"header": "x-clinic-code", "required": True, "object": "clinic"}
