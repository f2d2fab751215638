"""A guide the tests write themselves (the made-up `vetclinic` project, see `conftest.SyntheticGuide`)
is read like the three real ones: nothing in the deriver is tied to the known guides. Each test
varies one fragment and looks at one behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_openapi
from specs_testing import APPOINTMENT_RECORD, VISIT_STATUSES, SyntheticGuide, operation_by_id, operations, parameters

from specs.emitter import emit_openapi
from specs.model import Api, Service
from specs.parser import parse_guide
from twin.cli import main


def parse(guide: SyntheticGuide) -> Service:
    return parse_guide(guide.text(), source=f"{guide.slug}.txt")


def emit(guide: SyntheticGuide) -> dict[str, Any]:
    return emit_openapi(parse(guide))


def api(service: Service, name: str) -> Api:
    return next(a for a in service.apis if a.name == name)


def warnings(service: Service) -> list[tuple[int, str]]:
    return [(w.line, w.code) for w in service.warnings]


# -- identity --------------------------------------------------------------------------------------
def test_project_service_and_servers_come_from_the_guide(synthetic: SyntheticGuide) -> None:
    service = parse(synthetic)
    assert (service.project, service.name, service.slug) == ("vetclinic", "appointmentManagement", "vetclinic-appointmentmanagement")
    assert service.base_path == "/appointmentmanagement-api"
    assert service.servers == {
        "preview": "https://vetclinic.prw.example.test/appointmentmanagement-api",
        "staging": "https://stage.vetclinic.example.test/appointmentmanagement-api",
        "production": "https://vetclinic.example.test/appointmentmanagement-api",
    }


def test_another_project_name_gives_another_slug_and_title(synthetic: SyntheticGuide) -> None:
    synthetic.project, synthetic.service = "zoo-keeper", "feedingSchedule"
    doc = emit(synthetic)
    assert (doc["info"]["x-twin-project"], doc["info"]["x-twin-service"]) == ("zoo-keeper", "feedingSchedule")
    assert parse(synthetic).slug == "zoo-keeper-feedingschedule"
    assert doc["x-twin-base-path"] == "/feedingschedule-api"


def test_the_tenant_header_is_the_one_the_guide_names(synthetic: SyntheticGuide) -> None:
    doc = emit(synthetic)
    assert doc["x-twin-tenant"] == {"header": "x-clinic-code", "required": True, "object": "clinic"}
    for _, _, operation in operations(doc):
        assert parameters(doc, operation)[("header", "x-clinic-code")]["required"] is True


def test_without_a_tenant_section_there_is_no_tenant_header(synthetic: SyntheticGuide) -> None:
    synthetic.tenant_header = None
    doc = emit(synthetic)
    assert doc["x-twin-tenant"] is None
    assert all(not [k for k in parameters(doc, op) if k[0] == "header"] for _, _, op in operations(doc))


def test_a_tenant_section_naming_no_header_assumes_the_usual_one_with_a_warning(synthetic: SyntheticGuide) -> None:
    synthetic.tenant_header = "x-clinic-code"
    text = synthetic.text().replace('headers["x-clinic-code"] = tenantCodenameFromUrl;', "send the tenant along.")
    service = parse_guide(text, source="vague-tenant.txt")
    assert service.tenant is not None and service.tenant.header == "mbx-company-codename"
    line = text.splitlines().index("Tenant URL Prefix and Header Forwarding") + 1
    assert [(w.line, w.code) for w in service.warnings if w.code == "tenant-header"] == [(line, "tenant-header")]


# -- data objects ------------------------------------------------------------------------------------
def test_data_objects_properties_and_enum_options_in_order(synthetic: SyntheticGuide) -> None:
    service = parse(synthetic)
    assert [o.name for o in service.data_objects] == ["appointment", "pet"]
    appointment = service.data_object("appointment")
    assert appointment is not None
    assert [(p.name, p.type, p.is_array, p.required) for p in appointment.properties] == [
        ("petId", "ID", False, True), ("scheduledAt", "Date", False, True), ("reason", "String", False, True),
        ("visitStatus", "Enum", False, True), ("notes", "Text", False, False), ("weightKg", "Double", False, False),
        ("reminderEmails", "String", True, False),
    ]
    assert appointment.enums == {"visitStatus": VISIT_STATUSES}
    assert appointment.find_property("weightKg").description == ""  # type: ignore[union-attr]  # "-" means none


def test_components_hold_both_records_with_the_enum_index(synthetic: SyntheticGuide) -> None:
    schemas = emit(synthetic)["components"]["schemas"]
    appointment = schemas["Appointment"]
    assert list(appointment["properties"]) == list(APPOINTMENT_RECORD)
    assert appointment["properties"]["visitStatus"]["enum"] == VISIT_STATUSES
    assert (appointment["properties"]["visitStatus_idx"]["minimum"], appointment["properties"]["visitStatus_idx"]["maximum"]) == (0, 3)
    assert appointment["properties"]["reminderEmails"]["type"] == ["array", "null"]
    assert list(schemas["Pet"]["properties"]) == [
        "id", "name", "species", "ownerId", "isActive", "recordVersion", "createdAt", "updatedAt", "_owner",
    ]


def test_relations_filters_and_defaults_of_the_data_objects(synthetic: SyntheticGuide) -> None:
    doc = emit(synthetic)
    appointment = doc["x-twin-data-objects"]["appointment"]
    assert appointment["relations"] == [{"property": "petId", "target": "pet", "targetField": "id", "kind": "parent", "required": True}]
    assert appointment["filters"] == ["visitStatus", "reason", "scheduledAt"]
    assert appointment["defaultApis"] == {
        "create": "createAppointment", "update": "updateAppointment", "delete": None,
        "get": "getAppointment", "list": "listAppointments",
    }
    assert doc["x-twin-data-objects"]["pet"]["defaultApis"]["delete"] == "deletePet"
    assert list(doc["x-twin-foreign-objects"]) == ["user"]  # pet.ownerId points outside the service


# -- APIs ------------------------------------------------------------------------------------------
def test_every_api_with_its_method_route_and_parameters(synthetic: SyntheticGuide) -> None:
    service = parse(synthetic)
    assert [(a.name, a.method, a.route) for a in service.apis] == [
        ("createAppointment", "POST", "/v1/appointments"),
        ("getAppointment", "GET", "/v1/appointments/:appointmentId"),
        ("listAppointments", "GET", "/v1/appointments"),
        ("updateAppointment", "PATCH", "/v1/appointments/:appointmentId"),
        ("deletePet", "DELETE", "/v1/pets/:petId"),
    ]
    create = api(service, "createAppointment")
    assert [(p.name, p.location, p.required) for p in create.parameters] == [
        ("petId", "body", True), ("scheduledAt", "body", True), ("reason", "body", True),
        ("visitStatus", "body", True), ("notes", "body", False), ("reminderEmails", "body", False),
    ]
    assert [(p.name, p.location) for p in api(service, "deletePet").parameters] == [("petId", "path")]
    assert [a.line for a in service.apis] == [
        synthetic.line_of(f"{title} API") for title in ("Create Appointment", "Get Appointment", "List Appointments", "Update Appointment", "Delete Pet")
    ]


def test_a_path_parameter_is_required_even_when_its_row_says_false(synthetic: SyntheticGuide) -> None:
    synthetic.apis["deletePet"] = synthetic.apis["deletePet"].replace("| petId | ID | true |", "| petId | ID | false |")
    doc = emit(synthetic)
    assert parameters(doc, operation_by_id(doc, "deletePet"))[("path", "petId")]["required"] is True
    validate_openapi(doc)


def test_create_answers_201_with_the_full_record(synthetic: SyntheticGuide) -> None:
    operation = operation_by_id(emit(synthetic), "createAppointment")
    assert "201" in operation["responses"]
    schema = operation["responses"]["201"]["content"]["application/json"]["schema"]
    assert schema["properties"]["appointment"] == {"$ref": "#/components/schemas/Appointment"}
    assert operation["responses"]["201"]["links"]["getAppointment"]["parameters"] == {"appointmentId": "$response.body#/appointment/id"}


def test_list_filters_carry_the_semantics_the_guide_states(synthetic: SyntheticGuide) -> None:
    doc = emit(synthetic)
    params = parameters(doc, operation_by_id(doc, "listAppointments"))
    status = params[("query", "visitStatus")]["x-twin-filter"]
    reason = params[("query", "reason")]["x-twin-filter"]
    scheduled = params[("query", "scheduledAt")]["x-twin-filter"]
    assert (status["match"], status["caseInsensitive"]) == ("enum", True)
    assert (reason["match"], reason["caseInsensitive"]) == ("partial", True)
    assert (scheduled["match"], scheduled["specials"][-2:]) == ("date", ["$leq-<date>", "$lin-<date>"])
    assert {("query", "pageNumber"), ("query", "pageRowCount")} <= set(params)
    assert api(parse(synthetic), "listAppointments").filters[0].enum == VISIT_STATUSES


def test_select_list_get_with_a_join_admits_only_the_guide_keys(synthetic: SyntheticGuide) -> None:
    service = parse(synthetic)
    response = api(service, "getAppointment").response
    assert response.select_list
    assert [(j.key, j.target, j.via, j.is_array) for j in response.joins] == [("pet", "pet", ["petId"], False)]
    doc = emit_openapi(service)
    item = operation_by_id(doc, "getAppointment")["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["appointment"]
    assert item["additionalProperties"] is False
    assert list(item["properties"]) == ["scheduledAt", "visitStatus", "isActive", "pet"]
    assert list(item["properties"]["pet"]["properties"]) == ["name", "species"]


# -- broken or missing examples --------------------------------------------------------------------------
def test_an_empty_response_example_is_derived_from_the_data_object_with_a_warning(synthetic: SyntheticGuide) -> None:
    service = parse(synthetic)
    response = api(service, "updateAppointment").response
    assert response.derived
    assert (response.status, response.data_name, response.action, response.is_list) == (200, "appointment", "update", False)
    assert list(response.fields) == list(APPOINTMENT_RECORD)
    heading = synthetic.line_of("REST Response", after="Update Appointment API")
    assert (heading, "empty-response") in warnings(service)
    assert (heading, "derived-response") in warnings(service)


def test_a_derived_response_refers_to_the_data_object_component(synthetic: SyntheticGuide) -> None:
    operation = operation_by_id(emit(synthetic), "updateAppointment")
    assert operation["x-twin-derived-response"] is True
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["appointment"] == {"$ref": "#/components/schemas/Appointment"}


def test_a_response_example_that_is_not_json_is_derived_with_a_warning(synthetic: SyntheticGuide) -> None:
    service = parse(synthetic)
    response = api(service, "deletePet").response
    assert response.derived
    assert (response.status, response.data_name, response.action) == (200, "pet", "delete")
    bad = [w for w in service.warnings if w.code == "bad-json"]
    assert [w.line for w in bad] == [synthetic.line_of("{", after="Delete Pet API", exact=True)]
    assert bad[0].message == "deletePet: the response example is not JSON (Expecting ',' delimiter)"
    assert (synthetic.line_of("REST Response", after="Delete Pet API"), "derived-response") in warnings(service)


def test_the_synthetic_guide_raises_exactly_the_warnings_of_its_two_broken_examples(synthetic: SyntheticGuide) -> None:
    assert sorted(code for _, code in warnings(parse(synthetic))) == ["bad-json", "derived-response", "derived-response", "empty-response"]


def test_a_guide_with_good_examples_raises_no_warning(synthetic: SyntheticGuide) -> None:
    synthetic.apis["updateAppointment"] = synthetic.api_section(
        "Update Appointment", "updateAppointment", "PATCH", "/v1/appointments/:appointmentId",
        params=[("appointmentId", "ID", "true", "path"), ("visitStatus", "Enum", "false", "body")],
        response=synthetic.envelope("appointment", "PATCH", "update", APPOINTMENT_RECORD),
    )
    del synthetic.apis["deletePet"]
    service = parse(synthetic)
    assert service.warnings == []
    assert not any(a.response.derived for a in service.apis)


# -- the same quirks as the real guides, at the synthetic guide's lines ----------------------------------
def test_a_misspelt_property_type_is_read_as_the_closest_type(synthetic: SyntheticGuide) -> None:
    synthetic.objects["pet"] = synthetic.objects["pet"].replace("String | false | Yes | No | Dog, cat", "Strng | false | Yes | No | Dog, cat")
    service = parse(synthetic)
    assert service.data_object("pet").find_property("species").type == "String"  # type: ignore[union-attr]
    assert (synthetic.line_of("Strng | false"), "type-typo") in warnings(service)


def test_a_property_row_without_isarray_is_read_as_a_scalar(synthetic: SyntheticGuide) -> None:
    synthetic.objects["pet"] = synthetic.objects["pet"].replace("String | false | Yes | No | Dog, cat", "String | Yes | No | Dog, cat")
    service = parse(synthetic)
    species = service.data_object("pet").find_property("species")  # type: ignore[union-attr]
    assert (species.is_array, species.required, species.description) == (False, True, "Dog, cat, …")  # type: ignore[union-attr]
    assert (synthetic.line_of("String | Yes | No | Dog, cat"), "missing-column") in warnings(service)


def test_a_property_row_spanning_lines_is_read_whole_and_warned_at_its_first_line(synthetic: SyntheticGuide) -> None:
    synthetic.objects["pet"] = synthetic.objects["pet"].replace(
        "String | false | Yes | No | The pet's name. |", "Strng | false | Yes | No | The pet's\nname, as the owner\nspells it. |"
    )
    service = parse(synthetic)
    name = service.data_object("pet").find_property("name")  # type: ignore[union-attr]
    assert (name.type, name.required, name.description) == ("String", True, "The pet's name, as the owner spells it.")  # type: ignore[union-attr]
    assert [p.name for p in service.data_object("pet").properties] == ["name", "species", "ownerId"]  # type: ignore[union-attr]
    assert name.line == synthetic.line_of("Strng | false")  # type: ignore[union-attr]
    assert (synthetic.line_of("Strng | false"), "type-typo") in warnings(service)


def test_a_parameter_row_without_required_is_an_optional_parameter(synthetic: SyntheticGuide) -> None:
    synthetic.apis["deletePet"] = synthetic.api_section(
        "Delete Pet", "deletePet", "DELETE", "/v1/pets/:petId",
        params=[("petId", "ID", "true", "path"), ("reason", "String", None, "body")],
        response=synthetic.envelope("pet", "DELETE", "delete", {"id": "ID", "name": "String"}),
    )
    service = parse(synthetic)
    reason = api(service, "deletePet").parameters[1]
    assert (reason.name, reason.location, reason.required) == ("reason", "body", False)
    assert (synthetic.line_of("| reason | String | request.body"), "missing-column") in warnings(service)


def test_a_string_status_code_is_read_as_an_integer_at_its_line(synthetic: SyntheticGuide) -> None:
    synthetic.apis["createAppointment"] = synthetic.apis["createAppointment"].replace('"statusCode": 201', '"statusCode": "201"')
    service = parse(synthetic)
    assert api(service, "createAppointment").response.status == 201
    assert (synthetic.line_of('"statusCode": "201"'), "statuscode-string") in warnings(service)


def test_a_mixed_case_route_is_kept_with_a_warning(synthetic: SyntheticGuide) -> None:
    synthetic.apis["deletePet"] = synthetic.api_section(
        "Delete Pet", "deletePet", "DELETE", "/v1/petRegister/:petId", params=[("petId", "ID", "true", "path")],
        response=synthetic.envelope("pet", "DELETE", "delete", {"id": "ID"}),
    )
    service = parse(synthetic)
    assert "/v1/petRegister/{petId}" in emit_openapi(service)["paths"]
    assert (synthetic.line_of("/v1/petRegister/:petId"), "mixed-case-route") in warnings(service)


def test_a_parameter_count_that_disagrees_with_the_table_trusts_the_table(synthetic: SyntheticGuide) -> None:
    synthetic.apis["deletePet"] = synthetic.api_section(
        "Delete Pet", "deletePet", "DELETE", "/v1/pets/:petId", params=[("petId", "ID", "true", "path")], declared=3,
        response=synthetic.envelope("pet", "DELETE", "delete", {"id": "ID"}),
    )
    service = parse(synthetic)
    assert len(api(service, "deletePet").parameters) == 1
    assert (synthetic.line_of("Rest Request Parameters", after="Delete Pet API"), "parameter-count") in warnings(service)


def test_a_join_that_matches_no_relation_is_kept_with_an_unknown_target(synthetic: SyntheticGuide) -> None:
    synthetic.apis["getAppointment"] = synthetic.apis["getAppointment"].replace('"pet": {', '"clinicRoom": {')
    service = parse(synthetic)
    (join,) = api(service, "getAppointment").response.joins
    assert (join.key, join.target) == ("clinicRoom", None)
    assert any(code == "unresolved-join" for _, code in warnings(service))


def test_a_list_whose_data_name_is_an_ies_plural_acts_on_the_singular_object(synthetic: SyntheticGuide) -> None:
    record = {"id": "ID", "title": "String", "isActive": True, "recordVersion": "Integer", "createdAt": "Date", "updatedAt": "Date", "_owner": "ID"}
    synthetic.objects["category"] = synthetic.data_object(
        "category", "A kind of visit.", synthetic.property_rows([("title", "String", "false", "Yes", "No", "Its name.")]),
    )
    synthetic.apis["listCategories"] = synthetic.api_section(  # not named in the default APIs table
        "List Categories", "listCategories", "GET", "/v1/categories",
        response=synthetic.envelope("categories", "GET", "list", [record, {}, {}], paging=True),
    )
    operation = api(parse(synthetic), "listCategories")
    assert (operation.data_object, operation.response.data_name) == ("category", "categories")
    item = operation_by_id(emit(synthetic), "listCategories")["responses"]["200"]["content"]["application/json"]["schema"]
    assert item["properties"]["categories"]["items"] == {"$ref": "#/components/schemas/Category"}


def test_straight_quotes_in_the_population_column_are_read_too(synthetic: SyntheticGuide) -> None:
    text = synthetic.text().replace("“", '"').replace("”", '"')
    service = parse_guide(text, source="straight.txt")
    assert [(p.name, p.location) for p in api(service, "updateAppointment").parameters] == [
        ("appointmentId", "path"), ("visitStatus", "body"), ("notes", "body"),
    ]


# -- the emitted spec ------------------------------------------------------------------------------
def test_the_synthetic_spec_is_valid_openapi(synthetic: SyntheticGuide) -> None:
    validate_openapi(emit(synthetic))


def test_the_synthetic_spec_keeps_the_warnings(synthetic: SyntheticGuide) -> None:
    service = parse(synthetic)
    assert emit_openapi(service)["info"]["x-twin-warnings"] == [str(w) for w in service.warnings]


def test_twin_specs_build_writes_the_synthetic_spec_and_check_then_passes(
    synthetic: SyntheticGuide, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = synthetic.write(tmp_path, "clinic-guide.txt")
    out = tmp_path / "openapi"
    assert main(["specs", "build", "--out", str(out), str(guide)]) == 0
    assert [p.name for p in out.iterdir()] == ["vetclinic-appointmentmanagement.yaml"]
    assert "clinic-guide.txt → " in capsys.readouterr().out
    assert main(["specs", "check", "--out", str(out), str(guide)]) == 0
    synthetic.apis["deletePet"] = synthetic.apis["deletePet"].replace("/v1/pets/:petId", "/v1/animals/:petId")
    synthetic.write(tmp_path, "clinic-guide.txt")
    assert main(["specs", "check", "--quiet", "--out", str(out), str(guide)]) == 1


def test_a_second_api_on_a_taken_method_and_route_is_left_out_with_a_warning(synthetic: SyntheticGuide) -> None:
    synthetic.apis["rescheduleAppointment"] = synthetic.api_section(
        "Reschedule Appointment", "rescheduleAppointment", "PATCH", "/v1/Appointments/:appointmentId",
        params=[("appointmentId", "ID", "true", "path"), ("scheduledAt", "Date", "true", "body")],
        response=synthetic.envelope("appointment", "PATCH", "update", APPOINTMENT_RECORD),
    )
    service = parse(synthetic)
    assert [a.name for a in service.apis].count("updateAppointment") == 1
    assert "rescheduleAppointment" not in [a.name for a in service.apis]
    [warning] = [w for w in service.warnings if w.code == "duplicate-route"]
    assert warning.line == synthetic.line_of("Reschedule Appointment API", exact=True)
    assert "updateAppointment" in warning.message
    assert operation_by_id(emit_openapi(service), "updateAppointment")


def test_a_filter_named_like_a_request_parameter_leaves_one_parameter_of_that_name(synthetic: SyntheticGuide) -> None:
    synthetic.apis["listAppointments"] = synthetic.api_section(
        "List Appointments", "listAppointments", "GET", "/v1/appointments", default="list",
        params=[("reason", "String", "false", "query")],
        filters=[("visitStatus", "Enum", "Where the visit stands."), ("reason", "String", "Why the owner booked.")],
        response=synthetic.envelope("appointments", "GET", "list", [APPOINTMENT_RECORD, {}, {}], paging=True),
    )
    service = parse(synthetic)
    assert [f.name for f in api(service, "listAppointments").filters] == ["visitStatus"]
    assert [w.code for w in service.warnings].count("filter-shadows-parameter") == 1
    spec = emit_openapi(service)
    validate_openapi(spec)
    listed = [p.get("name") for p in operation_by_id(spec, "listAppointments")["parameters"]]
    assert listed.count("reason") == 1


def test_a_lists_id_or_enum_parameter_named_like_a_property_also_takes_null(synthetic: SyntheticGuide) -> None:
    """Such a parameter filters its property (the twin applies it like a declared filter), so, like
    a filter, `null` asks for the records where it is unset; elsewhere an ID stays a UUID."""
    synthetic.apis["listAppointments"] = synthetic.api_section(
        "List Appointments", "listAppointments", "GET", "/v1/appointments", default="list",
        params=[("petId", "ID", "false", "query"), ("visitStatus", "Enum", "false", "query")],
        response=synthetic.envelope("appointments", "GET", "list", [APPOINTMENT_RECORD, {}, {}], paging=True),
    )
    spec = emit(synthetic)
    params = parameters(spec, operation_by_id(spec, "listAppointments"))
    uuid = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    assert params[("query", "petId")]["schema"] == {"type": "string", "pattern": f"^({uuid}|null)$"}
    assert params[("query", "visitStatus")]["schema"]["enum"] == [*VISIT_STATUSES, "null"]
    get = parameters(spec, operation_by_id(spec, "getAppointment"))
    assert get[("path", "appointmentId")]["schema"]["format"] == "uuid"
    validate_openapi(spec)
