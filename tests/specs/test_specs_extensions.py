"""The one reader of the `x-twin-*` vocabulary (`specs.extensions.read_extensions`): what the emitter
writes comes back typed, a malformed extension is refused with a message naming it and where it is,
and the facts the twin and the judge share (payment roles, system fields) are spec data."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from specs_testing import SLUGS, SyntheticGuide, envelope, operation_by_id

from specs.emitter import emit_openapi
from specs.extensions import SYSTEM_FIELDS, SpecExtensionError, read_extensions
from specs.parser import parse_guide
from specs.payment import order_parameter

ROOT = Path(__file__).resolve().parents[2]
PAYMENT_RESULT = {"paymentTicketId": "ID", "orderId": "ID", "paymentStatus": "String", "success": "Boolean"}


def emit(guide: SyntheticGuide) -> dict[str, Any]:
    return emit_openapi(parse_guide(guide.text(), source=f"{guide.slug}.txt"))


def with_payment_result(example: str) -> str:
    """A response example (page-text form) that also carries the payment flow's `paymentResult`."""
    body = json.loads(example)
    body["paymentResult"] = PAYMENT_RESULT
    return json.dumps(body, indent=0)


def add_payment_apis(guide: SyntheticGuide) -> None:
    """The payment flow's three APIs for the synthetic guide's `appointment` order, plus a `start…`
    API that is no part of it (its answer carries no `paymentResult`)."""
    record = {"id": "ID", "visitStatus": "Enum", "isActive": True}
    for role, method, route, params in (
        ("start", "PATCH", "/v1/startappointmentpayment/:appointmentId",
         [("appointmentId", "ID", "true", "path"), ("paymentUserParams", "Object", "true", "body")]),
        ("refresh", "PATCH", "/v1/refreshappointmentpayment/:appointmentId",
         [("appointmentId", "ID", "true", "path"), ("paymentUserParams", "Object", "false", "body")]),
        ("callback", "POST", "/v1/callbackappointmentpayment", [("appointmentId", "ID", "false", "body")]),
    ):
        name = f"{role}AppointmentPayment"
        guide.apis[name] = guide.api_section(
            f"{role.title()} Appointmentpayment", name, method, route, params=params,
            response=with_payment_result(envelope("appointment", method, "update", record)))
    guide.apis["startAppointmentReminder"] = guide.api_section(
        "Start Appointmentreminder", "startAppointmentReminder", "PATCH", "/v1/startappointmentreminder/:appointmentId",
        params=[("appointmentId", "ID", "true", "path")], response=envelope("appointment", "PATCH", "update", record))


# -- round trip: emitter → reader ------------------------------------------------------------------
def test_the_document_facts_the_emitter_writes_read_back_typed(synthetic: SyntheticGuide) -> None:
    ext = read_extensions(emit(synthetic))
    assert (ext.info.project, ext.info.service, ext.info.guide) == (
        "vetclinic", "appointmentManagement", "vetclinic-appointmentmanagement.txt")
    assert ext.base_path == "/appointmentmanagement-api"
    assert ext.tenant is not None and (ext.tenant.header, ext.tenant.required, ext.tenant.object) == ("x-clinic-code", True, "clinic")
    assert ext.system_fields == SYSTEM_FIELDS
    assert (ext.paging.default_page_row_count, ext.paging.max_page_row_count) == (25, 1000)
    assert {s.env: s.url for s in ext.servers}["staging"] == "https://stage.vetclinic.example.test/appointmentmanagement-api"
    appointment = ext.data_objects["appointment"]
    assert appointment.schema_ref == "#/components/schemas/Appointment"
    assert appointment.properties["visitStatus"].type == "Enum"
    assert appointment.properties["visitStatus"].options == ("scheduled", "checkedIn", "completed", "noShow")
    assert appointment.properties["petId"].required is True
    assert [(r.property, r.target) for r in appointment.relations] == [("petId", "pet")]
    assert appointment.default_apis["create"] == "createAppointment"


def test_the_operation_facts_the_emitter_writes_read_back_typed(synthetic: SyntheticGuide) -> None:
    doc = emit(synthetic)
    ext = read_extensions(doc)
    assert [op.api for op in ext.operations] == [
        op["operationId"] for item in doc["paths"].values() for op in item.values()]
    create = ext.operation("/v1/appointments", "post")
    assert (create.api, create.method, create.route, create.action, create.data_name, create.status) == (
        "createAppointment", "POST", "/v1/appointments", "create", "appointment", 201)
    assert create.body == ("petId", "scheduledAt", "reason", "visitStatus", "notes", "reminderEmails")
    assert create.default_api == "create" and create.tenant is True and create.payment is None and create.access is None
    get = ext.operation("/v1/appointments/{appointmentId}", "GET")
    assert get.select_list and get.fields == ("scheduledAt", "visitStatus", "isActive")
    assert [(j.key, j.target, j.is_array, j.fields) for j in get.joins] == [("pet", "pet", False, {"name": "String", "species": "String"})]
    listing = ext.operation("/v1/appointments", "get")
    assert listing.is_list and listing.paging_params == frozenset({"pageNumber", "pageRowCount"})
    status = listing.filters["visitStatus"]
    assert (status.property, status.type, status.match, status.case_insensitive, status.null) == ("visitStatus", "Enum", "enum", True, True)
    assert listing.filters["scheduledAt"].match == "date" and "$today" in listing.filters["scheduledAt"].specials
    assert listing.filters["reason"].match == "partial"


def test_an_operation_may_name_the_roles_allowed_to_call_it(synthetic: SyntheticGuide) -> None:
    doc = emit(synthetic)
    operation_by_id(doc, "createAppointment")["x-twin-access"] = ["clinicAdmin", "vet"]
    ext = read_extensions(doc)
    assert ext.operation("/v1/appointments", "post").access == frozenset({"clinicAdmin", "vet"})
    assert ext.operation("/v1/appointments", "get").access is None  # absent: every role


def test_a_spec_without_the_newer_keys_reads_with_the_defaults_they_imply(synthetic: SyntheticGuide) -> None:
    doc = emit(synthetic)
    del doc["x-twin-system-fields"]
    prop = doc["x-twin-data-objects"]["appointment"]["properties"]["visitStatus"]
    prop["enum"] = prop.pop("options")  # specs built before 0.2 named the options `enum`
    ext = read_extensions(doc)
    assert ext.system_fields == SYSTEM_FIELDS
    assert ext.data_objects["appointment"].properties["visitStatus"].options == ("scheduled", "checkedIn", "completed", "noShow")


# -- malformed extensions ----------------------------------------------------------------------------
@pytest.mark.parametrize(("break_it", "expected"), [
    (lambda doc: operation_by_id(doc, "createAppointment").update({"x-twin-status": "created"}),
     "clinic.yaml: paths./v1/appointments.post: x-twin-status: Input should be a valid integer"),
    (lambda doc: operation_by_id(doc, "createAppointment").update({"x-twin-payment": "pay"}),
     "paths./v1/appointments.post: x-twin-payment: Input should be 'start', 'refresh' or 'callback' (got 'pay')"),
    (lambda doc: operation_by_id(doc, "listAppointments")["parameters"][0]["x-twin-filter"].update(match="fuzzy"),
     "paths./v1/appointments.get.parameters[0]: x-twin-filter.match: Input should be"),
    (lambda doc: doc["x-twin-data-objects"]["appointment"]["properties"]["notes"].pop("type"),
     "clinic.yaml: x-twin-data-objects.appointment.properties.notes.type: Field required"),
    (lambda doc: doc.update({"x-twin-tenant": {"required": True}}),
     "x-twin-tenant.header: Field required"),
    (lambda doc: doc.update({"x-twin-system-fields": "id"}),
     "x-twin-system-fields: Input should be a valid tuple (got 'id')"),
])
def test_a_malformed_extension_is_refused_naming_it_and_where_it_is(synthetic: SyntheticGuide, break_it: Any,
                                                                   expected: str) -> None:
    doc = copy.deepcopy(emit(synthetic))
    break_it(doc)
    with pytest.raises(SpecExtensionError) as caught:
        read_extensions(doc, "clinic.yaml")
    assert expected in str(caught.value)
    assert isinstance(caught.value, ValueError)  # the CLIs report ValueErrors as a message, not a traceback


def test_the_twin_and_the_judge_refuse_a_malformed_spec_file_naming_it(synthetic: SyntheticGuide, tmp_path: Path) -> None:
    import yaml

    from contracts.spec import SpecFileError, load_spec
    from mockserver.specindex import load_service

    doc = emit(synthetic)
    operation_by_id(doc, "getAppointment")["x-twin-list"] = "sometimes"
    path = tmp_path / "clinic.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ValueError, match=r"clinic\.yaml: paths\./v1/appointments/\{appointmentId\}\.get: x-twin-list"):
        load_service(path)
    with pytest.raises(SpecFileError, match=r"clinic\.yaml: paths\./v1/appointments/\{appointmentId\}\.get: x-twin-list"):
        load_spec(path)


# -- payment roles -----------------------------------------------------------------------------------
def test_the_payment_flow_apis_carry_their_role(synthetic: SyntheticGuide) -> None:
    add_payment_apis(synthetic)
    ext = read_extensions(emit(synthetic))
    roles = {op.api: op.payment for op in ext.operations}
    assert roles["startAppointmentPayment"] == "start"
    assert roles["refreshAppointmentPayment"] == "refresh"
    assert roles["callbackAppointmentPayment"] == "callback"
    assert roles["startAppointmentReminder"] is None  # named like one, but its answer carries no paymentResult
    assert roles["createAppointment"] is None


def test_the_known_guides_payment_apis_carry_their_role(committed_specs: dict[str, dict[str, Any]]) -> None:
    orders = {"airbnb-bookingmanagement": "Reservation", "tutorhub-enrollmentmanagement": "Enrollment",
              "workforceos-subscriptionmanagement": "CompanySubscription"}
    assert set(orders) == set(SLUGS)
    for slug, order in orders.items():
        ext = read_extensions(committed_specs[slug], slug)
        roles = {op.api: op.payment for op in ext.operations if op.payment is not None}
        assert roles == {f"start{order}Payment": "start", f"refresh{order}Payment": "refresh",
                         f"callback{order}Payment": "callback"}, slug
        data_object = order[:1].lower() + order[1:]
        assert all(op.data_object == data_object for op in ext.operations if op.payment), slug


def test_every_record_schema_lists_the_system_fields_the_spec_declares(committed_specs: dict[str, dict[str, Any]]) -> None:
    for slug, doc in committed_specs.items():
        ext = read_extensions(doc)
        assert ext.system_fields == SYSTEM_FIELDS
        for obj in ext.data_objects.values():
            schema = doc["components"]["schemas"][obj.schema_ref.rsplit("/", 1)[-1]]
            assert set(SYSTEM_FIELDS) <= set(schema["required"]), (slug, obj.schema_ref)


# -- one reader ------------------------------------------------------------------------------------
def _spelled_extensions(path: Path) -> list[int]:
    """Lines of `path` whose code (docstrings left out) spells an `x-twin-` key."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "x-twin-" in node.value
            and id(node) not in docstrings]


def test_only_specs_spells_the_extension_keys() -> None:
    spelled = {str(path.relative_to(ROOT)): lines
               for folder in ("mockserver", "contracts", "fixtures", "bench", "twin")
               for path in sorted((ROOT / folder).rglob("*.py"))
               if (lines := _spelled_extensions(path))}
    assert spelled == {}


def test_a_callback_names_its_order_by_the_body_parameter_naming_the_order_object(
        committed_specs: dict[str, dict[str, Any]]) -> None:
    found = {}
    for slug in SLUGS:
        ext = read_extensions(committed_specs[slug])
        for op in ext.operations:
            if op.payment == "callback" and op.data_object:
                found[op.api] = order_parameter(op.body, op.data_object)
    assert found == {"callbackReservationPayment": "reservationId", "callbackEnrollmentPayment": "enrollmentId",
                     "callbackCompanySubscriptionPayment": "companySubscriptionId"}
    assert order_parameter(["note"], "visit") == "visitId"  # none named: the order object's id
