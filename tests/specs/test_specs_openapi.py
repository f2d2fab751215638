"""What the committed OpenAPI specs say: valid 3.1 documents with servers, bearer security, the
tenant header where the guide asks for it, success envelopes pinned per operation, the five error
responses everywhere, 201 only for creates, paging on GET lists, filter semantics, select lists and
the payment start body."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from specs_testing import SLUGS, guide_path, operation_by_id, operations, parameters, resolve

TUTORHUB = "tutorhub-enrollmentmanagement"
WORKFORCEOS = "workforceos-subscriptionmanagement"
AIRBNB = "airbnb-bookingmanagement"
ERROR_CODES = ["400", "401", "403", "404", "500"]
CREATES = {
    TUTORHUB: {"createEnrollment", "createRefundRequest", "adminRefundEnrollment", "createEnrollmentPayment"},
    WORKFORCEOS: {"createCompanySubscription", "createCompanySubscriptionPayment"},
    AIRBNB: {"createDispute", "createReservation", "createPaymentRecord", "createReservationPayment"},
}
DATE_SPECIALS = ["$today", "$ltoday", "$week", "$lweek", "$month", "$leq-<date>", "$lin-<date>"]


def success(operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The success status and its self-contained envelope schema."""
    (status,) = [code for code in operation["responses"] if code.startswith("2")]
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    return status, schema


def resource(operation: dict[str, Any]) -> dict[str, Any]:
    """The schema of one item of the resource under the dataName key."""
    _, specific = success(operation)
    schema = specific["properties"][operation["x-twin-data-name"]]
    return schema["items"] if operation["x-twin-list"] else schema


def filter_param(spec: dict[str, Any], api: str, name: str) -> dict[str, Any]:
    return parameters(spec, operation_by_id(spec, api))[("query", name)]


def accepts(schema: dict[str, Any], value: Any) -> bool:
    return Draft202012Validator(schema).is_valid(value)


# -- document --------------------------------------------------------------------------------------
@pytest.mark.parametrize("slug", SLUGS)
def test_committed_spec_is_valid_openapi_3_1(committed_specs: dict[str, Any], slug: str) -> None:
    assert committed_specs[slug]["openapi"] == "3.1.0"
    validate_openapi(committed_specs[slug])


@pytest.mark.parametrize("slug", SLUGS)
def test_spec_names_its_project_service_and_guide(specs: dict[str, Any], services: dict[str, Any], slug: str) -> None:
    info = specs[slug]["info"]
    service = services[slug]
    assert (info["x-twin-project"], info["x-twin-service"], info["x-twin-guide"]) == (service.project, service.name, guide_path(slug).name)
    assert specs[slug]["x-twin-base-path"] == service.base_path


@pytest.mark.parametrize("slug", SLUGS)
def test_spec_lists_preview_staging_and_production_servers(specs: dict[str, Any], services: dict[str, Any], slug: str) -> None:
    servers = specs[slug]["servers"]
    assert [s["x-twin-env"] for s in servers] == ["preview", "staging", "production"]
    assert [s["url"] for s in servers] == list(services[slug].servers.values())


@pytest.mark.parametrize("slug", SLUGS)
def test_every_operation_is_secured_by_a_bearer_jwt(specs: dict[str, Any], slug: str) -> None:
    spec = specs[slug]
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert all("security" not in op for _, _, op in operations(spec))  # none opts out


@pytest.mark.parametrize("slug", SLUGS)
def test_paging_limits_are_documented(specs: dict[str, Any], slug: str) -> None:
    assert specs[slug]["x-twin-paging"] == {"default-page-row-count": 25, "max-page-row-count": 1000}


# -- tenant ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("slug", [TUTORHUB, AIRBNB])
def test_a_service_without_tenant_section_has_a_null_tenant_and_no_header_parameter(specs: dict[str, Any], slug: str) -> None:
    spec = specs[slug]
    assert spec["x-twin-tenant"] is None
    assert "parameters" not in spec["components"]
    for _, _, operation in operations(spec):
        assert not [key for key in parameters(spec, operation) if key[0] == "header"]
        assert operation["x-twin-tenant"] is False


def test_workforceos_declares_its_tenant_header(specs: dict[str, Any]) -> None:
    assert specs[WORKFORCEOS]["x-twin-tenant"] == {"header": "mbx-company-codename", "required": True, "object": "company"}


def test_every_workforceos_operation_requires_the_tenant_header(specs: dict[str, Any]) -> None:
    spec = specs[WORKFORCEOS]
    count = 0
    for _, _, operation in operations(spec):
        header = parameters(spec, operation).get(("header", "mbx-company-codename"))
        assert header is not None, operation["operationId"]
        assert header["required"] is True
        assert header["schema"]["type"] == "string" and header["schema"]["minLength"] == 1
        assert operation["x-twin-tenant"] is True
        count += 1
    assert count == 19


# -- responses -------------------------------------------------------------------------------------
@pytest.mark.parametrize("slug", SLUGS)
def test_every_operation_has_the_five_error_responses(specs: dict[str, Any], slug: str) -> None:
    spec = specs[slug]
    for _, _, operation in operations(spec):
        errors = [code for code in operation["responses"] if not code.startswith("2")]
        assert errors == ERROR_CODES, operation["operationId"]
        for code in ERROR_CODES:
            assert operation["responses"][code] == {"$ref": f"#/components/responses/Error{code}"}


@pytest.mark.parametrize("code", ERROR_CODES)
@pytest.mark.parametrize("slug", SLUGS)
def test_error_responses_are_error_envelopes_with_their_status(specs: dict[str, Any], slug: str, code: str) -> None:
    spec = specs[slug]
    schema = spec["components"]["responses"][f"Error{code}"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": f"#/components/schemas/Error{code}"}
    envelope = spec["components"]["schemas"][f"Error{code}"]
    assert envelope["required"] == ["result", "status", "message", "errCode", "date"]
    assert envelope["properties"]["result"] == {"type": "string", "const": "ERR"}
    assert envelope["properties"]["status"] == {"type": "integer", "const": int(code)}
    assert envelope["properties"]["errCode"] == {"type": "integer", "const": int(code)}


@pytest.mark.parametrize("slug", SLUGS)
def test_201_is_the_success_status_of_create_operations_only(specs: dict[str, Any], slug: str) -> None:
    statuses = {op["operationId"]: success(op)[0] for _, _, op in operations(specs[slug])}
    assert {name for name, status in statuses.items() if status == "201"} == CREATES[slug]
    assert {status for name, status in statuses.items() if name not in CREATES[slug]} == {"200"}
    for _, _, operation in operations(specs[slug]):
        assert (operation["x-twin-action"] == "create") is (operation["operationId"] in CREATES[slug])


@pytest.mark.parametrize("slug", SLUGS)
def test_every_success_envelope_pins_status_data_name_method_and_action(specs: dict[str, Any], slug: str) -> None:
    for _, method, operation in operations(specs[slug]):
        status, specific = success(operation)
        props = specific["properties"]
        assert props["statusCode"] == {"type": "integer", "const": int(status)}
        assert props["dataName"] == {"type": "string", "const": operation["x-twin-data-name"]}
        assert props["method"] == {"type": "string", "const": method}
        assert props["action"] == {"type": "string", "const": operation["x-twin-action"]}
        assert props["status"] == {"type": "string", "const": "OK"}
        assert operation["x-twin-data-name"] in specific["required"]
        assert "allOf" not in specific  # self-contained: generators cannot merge constants over a base


@pytest.mark.parametrize("slug", SLUGS)
def test_list_responses_carry_the_list_envelope_keys_and_others_do_not(specs: dict[str, Any], slug: str) -> None:
    list_keys = {"paging", "filters", "uiPermissions"}
    for _, _, operation in operations(specs[slug]):
        required = set(success(operation)[1]["required"])
        assert {"status", "statusCode", "dataName", "method", "action", "rowCount", "requestId"} <= required
        assert (list_keys <= required) is operation["x-twin-list"]
        item = success(operation)[1]["properties"][operation["x-twin-data-name"]]
        assert (item.get("type") == "array") is operation["x-twin-list"]


@pytest.mark.parametrize("slug", SLUGS)
def test_get_lists_and_only_get_lists_take_page_number_and_page_row_count(specs: dict[str, Any], slug: str) -> None:
    spec = specs[slug]
    for _, method, operation in operations(spec):
        paging = {name for (where, name), p in parameters(spec, operation).items() if p.get("x-twin-paging")}
        expected = {"pageNumber", "pageRowCount"} if method == "GET" and operation["x-twin-list"] else set()
        assert paging == expected, operation["operationId"]


def test_page_row_count_is_capped_at_the_maximum(specs: dict[str, Any]) -> None:
    params = parameters(specs[TUTORHUB], operation_by_id(specs[TUTORHUB], "listEnrollments"))
    assert params[("query", "pageRowCount")]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert params[("query", "pageNumber")]["schema"]["minimum"] == 1


def test_full_record_responses_refer_to_the_data_object_component(specs: dict[str, Any]) -> None:
    spec = specs[TUTORHUB]
    assert resource(operation_by_id(spec, "createEnrollment")) == {"$ref": "#/components/schemas/Enrollment"}
    assert resource(operation_by_id(spec, "updateRefundRequest")) == {"$ref": "#/components/schemas/RefundRequest"}


def test_full_record_list_with_joins_adds_them_to_the_component(specs: dict[str, Any]) -> None:
    item = resource(operation_by_id(specs[TUTORHUB], "listEnrollments"))
    base, joins = item["allOf"]
    assert base == {"$ref": "#/components/schemas/Enrollment"}
    assert list(joins["properties"]) == ["coursePack", "lessonSlots", "student", "tutorProfile"]
    assert all(j["type"] == "array" for j in joins["properties"].values())


def test_create_operations_link_to_the_operations_addressing_the_new_record(specs: dict[str, Any]) -> None:
    operation = operation_by_id(specs[TUTORHUB], "createEnrollment")
    links = operation["responses"]["201"]["links"]
    assert links["getEnrollment"] == {"operationId": "getEnrollment", "parameters": {"enrollmentId": "$response.body#/enrollment/id"}}
    assert {"cancelEnrollment", "startEnrollmentPayment"} <= set(links)


# -- select lists ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("api", "keys"), [
    ("getEnrollment", ["isActive", "coursePack", "lessonSlots", "student", "tutorProfile"]),
    ("getRefundRequest", ["isActive", "enrollment"]),
    ("listRefundRequests", ["isActive", "enrollment", "coursePack", "requester"]),
])
def test_select_list_response_admits_exactly_the_guide_keys(specs: dict[str, Any], api: str, keys: list[str]) -> None:
    operation = operation_by_id(specs[TUTORHUB], api)
    item = resource(operation)
    assert operation["x-twin-select-list"] is True
    assert item["additionalProperties"] is False
    assert list(item["properties"]) == keys
    assert item["required"] == ["isActive"]


def test_get_enrollment_shows_its_joins_as_objects_and_lesson_slots_as_an_array(specs: dict[str, Any]) -> None:
    props = resource(operation_by_id(specs[TUTORHUB], "getEnrollment"))["properties"]
    assert props["coursePack"]["type"] == ["object", "null"]
    assert props["student"]["type"] == ["object", "null"]
    assert props["tutorProfile"]["type"] == ["object", "null"]
    assert props["lessonSlots"]["type"] == "array"
    assert list(props["lessonSlots"]["items"]["properties"]) == [
        "scheduledDate", "scheduledTime", "status", "status_idx", "locationType", "locationType_idx", "locationDetails",
    ]
    assert list(props["student"]["properties"]) == ["fullname", "avatar"]


def test_get_enrollment_joins_record_the_relations_they_follow(specs: dict[str, Any]) -> None:
    joins = operation_by_id(specs[TUTORHUB], "getEnrollment")["x-twin-joins"]
    assert [(j["key"], j["target"], j["via"], j["isArray"]) for j in joins] == [
        ("coursePack", "coursePack", ["coursePackId"], False),
        ("lessonSlots", "lessonSlot", ["lessonSlotIds"], True),
        ("student", "user", ["studentId"], False),
        ("tutorProfile", "tutorProfile", ["tutorProfileId"], False),
    ]


def test_select_list_validates_the_guide_shape_and_rejects_other_keys(specs: dict[str, Any]) -> None:
    item = resource(operation_by_id(specs[TUTORHUB], "getRefundRequest"))
    shaped = {"isActive": True, "enrollment": {"coursePackId": "c1", "studentId": "s1"}}
    assert accepts(item, shaped)
    assert not accepts(item, {**shaped, "reason": "not in the select list"})
    assert not accepts(item, {"enrollment": shaped["enrollment"]})  # isActive is required


def test_list_refund_requests_shows_course_pack_as_an_object_and_the_others_as_arrays(specs: dict[str, Any]) -> None:
    props = resource(operation_by_id(specs[TUTORHUB], "listRefundRequests"))["properties"]
    assert props["enrollment"]["type"] == "array"
    assert props["requester"]["type"] == "array"
    assert props["coursePack"]["type"] == ["object", "null"]


# -- filters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("slug", SLUGS)
def test_list_payment_customers_filters_customer_id_partially_and_user_id_exactly(specs: dict[str, Any], slug: str) -> None:
    customer = filter_param(specs[slug], "listPaymentCustomers", "customerId")["x-twin-filter"]
    user = filter_param(specs[slug], "listPaymentCustomers", "userId")["x-twin-filter"]
    assert (customer["match"], customer["caseInsensitive"], customer["type"]) == ("partial", True, "String")
    assert (user["match"], user["caseInsensitive"], user["type"]) == ("exact", False, "ID")
    assert customer["multiple"] and customer["null"] and user["multiple"] and user["null"]


@pytest.mark.parametrize("name", ["activationDate", "expiryDate"])
def test_list_company_subscriptions_filters_dates_with_the_special_values(specs: dict[str, Any], name: str) -> None:
    flt = filter_param(specs[WORKFORCEOS], "listCompanySubscriptions", name)["x-twin-filter"]
    assert flt == {
        "property": name, "type": "Date", "match": "date", "caseInsensitive": False, "multiple": True,
        "null": True, "specials": DATE_SPECIALS, "isArray": False,
    }


@pytest.mark.parametrize(("value", "valid"), [
    ("2024-01-15", True), ("$today", True), ("$ltoday", True), ("$week", True), ("$lweek", True), ("$month", True),
    ("$leq-2024-01-15", True), ("$lin-2024-02-29", True), ("null", True),
    ("$leq-", False), ("$leq-<date>", False), ("$yesterday", False), ("2024-13-01", False), ("soon", False),
])
def test_date_filter_values_are_dates_specials_or_null(specs: dict[str, Any], value: str, valid: bool) -> None:
    schema = filter_param(specs[WORKFORCEOS], "listCompanySubscriptions", "activationDate")["schema"]
    assert accepts(schema, [value]) is valid


@pytest.mark.parametrize(("value", "valid"), [("active", True), ("expired", True), ("null", True), ("archived", False)])
def test_enum_filter_values_are_typed_by_the_options_or_null(specs: dict[str, Any], value: str, valid: bool) -> None:
    param = filter_param(specs[WORKFORCEOS], "listCompanySubscriptions", "status")
    # Any letter case is accepted too: the extension says so (generators offer the options as written).
    assert (param["x-twin-filter"]["match"], param["x-twin-filter"]["caseInsensitive"]) == ("enum", True)
    assert param["schema"]["items"]["enum"] == ["active", "inactive", "pending", "expired", "null"]
    assert accepts(param["schema"], [value]) is valid


@pytest.mark.parametrize(("value", "valid"), [
    ("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", True), ("null", True), ("42", False), ("user-1", False),
])
def test_id_filter_values_are_uuids_or_null(specs: dict[str, Any], value: str, valid: bool) -> None:
    schema = filter_param(specs[TUTORHUB], "listPaymentCustomers", "userId")["schema"]
    assert accepts(schema, [value]) is valid


def test_a_filter_may_be_repeated_to_match_any_of_its_values(specs: dict[str, Any]) -> None:
    schema = filter_param(specs[TUTORHUB], "listEnrollments", "paymentConfirmation")["schema"]
    assert accepts(schema, ["paid", "processing"])
    assert not accepts(schema, ["paid", "unknown"])


def test_object_filters_match_any_value(specs: dict[str, Any]) -> None:
    flt = filter_param(specs[AIRBNB], "listPaymentCustomerMethods", "cardInfo")["x-twin-filter"]
    assert (flt["match"], flt["type"]) == ("any", "Object")


def test_filter_extension_says_whether_the_property_is_an_array(specs: dict[str, Any], services: dict[str, Any]) -> None:
    for slug, spec in specs.items():
        for _, _, operation in operations(spec):
            obj = services[slug].data_object(operation["x-twin-data-object"])
            for param in parameters(spec, operation).values():
                if "x-twin-filter" in param:
                    prop = obj.find_property(param["name"])
                    assert param["x-twin-filter"]["isArray"] is bool(prop and prop.is_array)


# -- payment start ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("slug", "api"), [
    (TUTORHUB, "startEnrollmentPayment"),
    (WORKFORCEOS, "startCompanySubscriptionPayment"),
    (AIRBNB, "startReservationPayment"),
])
def test_start_payment_requires_payment_user_params_with_a_payment_method_id(specs: dict[str, Any], slug: str, api: str) -> None:
    operation = operation_by_id(specs[slug], api)
    body = operation["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["paymentUserParams"]
    assert schema["properties"]["paymentUserParams"]["required"] == ["paymentMethodId"]
    assert accepts(schema, {"paymentUserParams": {"paymentMethodId": "pm_card_visa"}})
    assert not accepts(schema, {"paymentUserParams": {}})
    assert not accepts(schema, {})


@pytest.mark.parametrize(("slug", "api"), [
    (TUTORHUB, "startEnrollmentPayment"),
    (WORKFORCEOS, "startCompanySubscriptionPayment"),
    (AIRBNB, "startReservationPayment"),
])
def test_start_payment_response_requires_the_payment_result(specs: dict[str, Any], slug: str, api: str) -> None:
    operation = operation_by_id(specs[slug], api)
    _, specific = success(operation)
    data_name = operation["x-twin-data-name"]
    assert specific["required"][-2:] == [data_name, "paymentResult"]
    result = specific["properties"]["paymentResult"]
    assert result["type"] == "object"
    assert {"paymentTicketId", "orderId", "paymentId", "paymentStatus", "success"} <= set(result["properties"])
    assert result["properties"]["success"] == {"type": "boolean"}
    assert operation["x-twin-extra-keys"] == ["paymentResult"]


def test_refresh_payment_keeps_payment_user_params_optional(specs: dict[str, Any]) -> None:
    schema = operation_by_id(specs[TUTORHUB], "refreshEnrollmentPayment")["requestBody"]["content"]["application/json"]["schema"]
    assert "required" not in schema
    assert accepts(schema, {})


# -- bodies ----------------------------------------------------------------------------------------
def test_optional_body_values_may_be_null_only_when_the_property_may_be(specs: dict[str, Any]) -> None:
    body = operation_by_id(specs[TUTORHUB], "updateRefundRequest")["requestBody"]["content"]["application/json"]["schema"]
    assert accepts(body, {"adminNote": None})  # adminNote is optional on the record
    assert not accepts(body, {"status": None})  # status is required on the record
    assert accepts(body, {"status": "approved"})
    assert not accepts(body, {"status": "maybe"})


def test_record_ids_and_dates_are_checked_by_pattern(specs: dict[str, Any]) -> None:
    record = specs[TUTORHUB]["components"]["schemas"]["RefundRequest"]
    assert accepts(record["properties"]["id"], "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")
    assert not accepts(record["properties"]["id"], "refund-1")
    assert accepts(record["properties"]["requestedAt"], "2024-01-15T10:00:00Z")
    assert not accepts(record["properties"]["requestedAt"], "2024-01-15")


@pytest.mark.parametrize("slug", SLUGS)
def test_every_operation_says_which_data_object_it_acts_on(specs: dict[str, Any], slug: str) -> None:
    objects = set(specs[slug]["x-twin-data-objects"])
    for _, _, operation in operations(specs[slug]):
        assert operation["x-twin-data-object"] in objects
        assert operation["tags"] == [operation["x-twin-data-object"]]
        assert re.fullmatch(r"\d+", str(operation["x-twin-guide-line"]))


def test_default_api_roles_come_from_the_default_crud_table(specs: dict[str, Any]) -> None:
    roles = {op["operationId"]: op["x-twin-default-api"] for _, _, op in operations(specs[TUTORHUB])}
    assert roles["cancelEnrollment"] == "update"
    assert roles["getPaymentCustomerByUserId"] == "get"
    assert roles["adminRefundEnrollment"] is None
    assert resolve(specs[TUTORHUB], {"$ref": "#/x-twin-data-objects/enrollment/defaultApis"})["delete"] is None
