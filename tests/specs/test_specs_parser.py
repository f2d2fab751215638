"""The parser reads each of the three guides into the typed model: identity, servers, tenant rule,
data objects, relations, default APIs, parameters, filters and response shapes, including the
guides' trickier rows."""

from __future__ import annotations

import pytest
from specs_testing import SLUGS, guide_line, guide_path

from specs.model import Api, Service
from specs.parser import parse_guide, parse_guide_file

IDENTITIES = [
    ("tutorhub-enrollmentmanagement", "tutorhub", "enrollmentManagement", "/enrollmentmanagement-api"),
    ("workforceos-subscriptionmanagement", "workforceos", "subscriptionManagement", "/subscriptionmanagement-api"),
    ("airbnb-bookingmanagement", "airbnb", "bookingManagement", "/bookingmanagement-api"),
]


def api(service: Service, name: str) -> Api:
    return next(a for a in service.apis if a.name == name)


# -- identity ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("slug", "project", "name", "base_path"), IDENTITIES)
def test_parser_reads_project_service_and_base_path(
    services: dict[str, Service], slug: str, project: str, name: str, base_path: str
) -> None:
    service = services[slug]
    assert (service.project, service.name, service.base_path) == (project, name, base_path)
    assert service.slug == slug
    assert service.source == f"{slug}.txt"


@pytest.mark.parametrize("slug", SLUGS)
def test_parser_reads_the_three_server_urls_in_guide_order(services: dict[str, Service], slug: str) -> None:
    servers = services[slug].servers
    assert list(servers) == ["preview", "staging", "production"]
    assert all(url.startswith("https://") and url.endswith(services[slug].base_path) for url in servers.values())
    assert ".prw." in servers["preview"] and "-stage." in servers["staging"]


@pytest.mark.parametrize(("slug", "description", "frontend"), [
    ("tutorhub-enrollmentmanagement", "Handles enrollments (course booking", "Students select a course pack"),
    ("workforceos-subscriptionmanagement", "Manages company AI subscriptions", "This service handles AI subscription payments."),
    ("airbnb-bookingmanagement", "Orchestrates booking, payment, calendar", ""),  # the guide has no architect's section
])
def test_parser_reads_the_service_descriptions(services: dict[str, Service], slug: str, description: str, frontend: str) -> None:
    service = services[slug]
    assert service.description.startswith(description)
    assert service.frontend_description.startswith(frontend)
    assert bool(service.frontend_description) is bool(frontend)


def test_workforceos_names_its_tenant_header() -> None:
    service = parse_guide_file(guide_path("workforceos-subscriptionmanagement"))
    assert service.tenant is not None
    assert service.tenant.header == "mbx-company-codename"


@pytest.mark.parametrize("slug", ["tutorhub-enrollmentmanagement", "airbnb-bookingmanagement"])
def test_guides_without_a_tenant_section_have_no_tenant_rule(services: dict[str, Service], slug: str) -> None:
    assert services[slug].tenant is None


@pytest.mark.parametrize(
    ("slug", "objects", "properties", "relations", "apis", "parameters", "filters", "lists", "select_lists"),
    [
        ("tutorhub-enrollmentmanagement", 5, 35, 6, 26, 52, 20, 9, 3),
        ("workforceos-subscriptionmanagement", 4, 32, 2, 19, 47, 20, 4, 0),
        ("airbnb-bookingmanagement", 6, 53, 7, 25, 72, 22, 6, 0),
    ],
)
def test_parser_counts_what_each_guide_describes(
    services: dict[str, Service], slug: str, objects: int, properties: int, relations: int, apis: int,
    parameters: int, filters: int, lists: int, select_lists: int,
) -> None:
    service = services[slug]
    assert len(service.data_objects) == objects
    assert sum(len(o.properties) for o in service.data_objects) == properties
    assert sum(len(o.relations) for o in service.data_objects) == relations
    assert len(service.apis) == apis
    assert sum(len(a.parameters) for a in service.apis) == parameters
    assert sum(len(a.filters) for a in service.apis) == filters
    assert sum(a.response.is_list for a in service.apis) == lists
    assert sum(a.response.select_list for a in service.apis) == select_lists


# -- data objects ----------------------------------------------------------------------------------
def test_enrollment_properties_have_the_guide_types_and_flags(services: dict[str, Service]) -> None:
    enrollment = services["tutorhub-enrollmentmanagement"].data_object("enrollment")
    assert enrollment is not None
    assert [(p.name, p.type, p.is_array, p.required) for p in enrollment.properties] == [
        ("coursePackId", "ID", False, True),
        ("studentId", "ID", False, True),
        ("tutorProfileId", "ID", False, True),
        ("lessonSlotIds", "ID", True, True),
        ("totalAmount", "Double", False, True),
        ("currency", "String", False, True),
        ("paymentStatus", "Enum", False, True),
        ("refundStatus", "Enum", False, True),
        ("enrollmentStatus", "Enum", False, True),
        ("enrolledAt", "Date", False, False),
        ("paymentConfirmation", "Enum", False, True),
    ]


def test_a_row_without_its_isarray_cell_keeps_its_required_secret_and_description(services: dict[str, Service]) -> None:
    enrollment = services["tutorhub-enrollmentmanagement"].data_object("enrollment")
    assert enrollment is not None
    status = enrollment.find_property("enrollmentStatus")
    assert status is not None
    assert (status.is_array, status.required, status.secret) == (False, True, False)
    assert status.description.startswith("Enrollment status: pending (not paid)")
    assert status.enum == ["pending", "active", "completed", "canceled"]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_property_records_the_guide_line_of_its_row(services: dict[str, Service], slug: str) -> None:
    for obj in services[slug].data_objects:
        for prop in obj.properties:
            assert guide_line(slug, prop.line - 1).strip() == f"{prop.name} |"
            assert guide_line(slug, prop.line).startswith(prop.type if prop.type != "Number" else "N")


def test_array_properties_are_read_from_the_isarray_column(services: dict[str, Service]) -> None:
    arrays = {
        (slug, obj.name, p.name)
        for slug, service in services.items() for obj in service.data_objects for p in obj.properties if p.is_array
    }
    assert arrays == {
        ("tutorhub-enrollmentmanagement", "enrollment", "lessonSlotIds"),
        ("workforceos-subscriptionmanagement", "companySubscription", "subscribedFeatures"),
    }


def test_relations_to_local_objects_and_foreign_objects(services: dict[str, Service]) -> None:
    dispute = services["airbnb-bookingmanagement"].data_object("dispute")
    assert dispute is not None
    assert [(r.property, r.target, r.kind, r.required) for r in dispute.relations] == [
        ("reservationId", "reservation", "parent", True),
        ("raisedBy", "user", "parent", True),
        ("adminId", "user", "parent", False),
        ("relatedPaymentId", "paymentRecord", "parent", False),
    ]


def test_filter_properties_of_a_data_object(services: dict[str, Service]) -> None:
    subscription = services["workforceos-subscriptionmanagement"].data_object("companySubscription")
    assert subscription is not None
    assert subscription.filters == ["activationDate", "expiryDate", "status", "paymentStatus", "companyId", "paymentConfirmation"]


def test_default_apis_come_from_the_default_crud_table(services: dict[str, Service]) -> None:
    tutorhub = services["tutorhub-enrollmentmanagement"]
    enrollment = tutorhub.data_object("enrollment")
    method = tutorhub.data_object("sys_paymentMethod")
    assert enrollment is not None and method is not None
    assert enrollment.default_apis == {
        "create": "createEnrollment", "update": "cancelEnrollment", "delete": None,
        "get": "getEnrollment", "list": "listEnrollments",
    }
    assert method.default_apis == {"create": None, "update": None, "delete": None, "get": None, "list": "listPaymentCustomerMethods"}


# -- APIs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("slug", SLUGS)
def test_every_api_records_the_guide_line_of_its_heading(services: dict[str, Service], slug: str) -> None:
    for item in services[slug].apis:
        assert guide_line(slug, item.line) == item.title
        assert item.title.endswith(" API")


def test_default_api_marks_are_read_from_the_api_heading(services: dict[str, Service]) -> None:
    tutorhub = services["tutorhub-enrollmentmanagement"]
    assert api(tutorhub, "createEnrollment").default_role == "create"
    assert api(tutorhub, "listRefundRequests").default_role == "list"
    assert api(tutorhub, "cancelEnrollment").default_role is None  # "Auto" in the table, no mark


def test_api_descriptions_are_split_at_the_architect_heading(services: dict[str, Service]) -> None:
    create = api(services["tutorhub-enrollmentmanagement"], "createEnrollment")
    assert create.description.startswith("Creates a new enrollment for a student")
    assert create.frontend_description.startswith("Student chooses course pack")
    assert "[Default create API]" not in create.description


def test_body_parameter_of_an_array_property_is_an_array(services: dict[str, Service]) -> None:
    params = {p.name: p for p in api(services["tutorhub-enrollmentmanagement"], "createEnrollment").parameters}
    assert list(params) == ["coursePackId", "tutorProfileId", "lessonSlotIds", "totalAmount", "currency", "refundStatus", "enrolledAt"]
    assert params["lessonSlotIds"].is_array
    assert params["refundStatus"].enum == ["notRequested", "eligible", "processed", "ineligible"]
    assert {p.location for p in params.values()} == {"body"}


def test_query_parameter_is_located_by_its_population(services: dict[str, Service]) -> None:
    (param,) = api(services["tutorhub-enrollmentmanagement"], "listEnrollments").parameters
    assert (param.name, param.location, param.type, param.required) == ("tutorProfileId", "query", "ID", False)
    assert param.description == "Optional tutor profile ID filter for tutors to see enrollments in their courses."


def test_path_parameter_of_a_lookup_by_string_keeps_its_type(services: dict[str, Service]) -> None:
    (param,) = api(services["airbnb-bookingmanagement"], "getReservationPaymentByPaymentId").parameters
    assert (param.name, param.location, param.type, param.required) == ("paymentId", "path", "String", True)


def test_parameter_descriptions_come_from_the_name_colon_rows(services: dict[str, Service]) -> None:
    params = {p.name: p for p in api(services["tutorhub-enrollmentmanagement"], "startEnrollmentPayment").parameters}
    assert params["paymentUserParams"].type == "Object"
    assert params["paymentUserParams"].required is True
    assert params["paymentUserParams"].description.endswith("Must include paymentMethodId.")


def test_an_api_with_no_request_parameters_has_none(services: dict[str, Service]) -> None:
    assert api(services["tutorhub-enrollmentmanagement"], "listRefundRequests").parameters == []


def test_filters_of_a_list_api_carry_the_guide_semantics(services: dict[str, Service]) -> None:
    filters = {f.name: f for f in api(services["airbnb-bookingmanagement"], "listReservations").filters}
    assert list(filters) == ["listingId", "approvalType", "bookingStatus", "hostId", "guestId", "checkIn", "paymentConfirmation"]
    assert (filters["listingId"].match, filters["listingId"].case_insensitive) == ("exact", False)
    assert (filters["approvalType"].match, filters["approvalType"].enum) == ("enum", ["instant", "manual"])
    assert filters["approvalType"].case_insensitive
    assert filters["checkIn"].match == "date"
    assert filters["checkIn"].specials == ["$today", "$ltoday", "$week", "$lweek", "$month", "$leq-<date>", "$lin-<date>"]
    assert all(f.multiple and f.null for f in filters.values())


def test_string_filters_match_partially_and_object_filters_match_anything(services: dict[str, Service]) -> None:
    filters = {f.name: f for f in api(services["tutorhub-enrollmentmanagement"], "listPaymentCustomerMethods").filters}
    assert (filters["cardHolderName"].match, filters["cardHolderName"].case_insensitive) == ("partial", True)
    assert filters["cardInfo"].match == "any"


def test_a_post_api_that_returns_a_list_keeps_its_filters_and_list_response(services: dict[str, Service]) -> None:
    ban = api(services["tutorhub-enrollmentmanagement"], "cascadeTutorBan")
    assert (ban.method, ban.route) == ("POST", "/v1/cascadetutorban")
    assert [f.name for f in ban.filters] == ["paymentConfirmation"]
    assert (ban.response.is_list, ban.response.data_name, ban.response.action) == (True, "enrollments", "list")


# -- responses -------------------------------------------------------------------------------------
def test_full_record_response_lists_every_field_in_guide_order(services: dict[str, Service]) -> None:
    response = api(services["tutorhub-enrollmentmanagement"], "createEnrollment").response
    assert (response.status, response.data_name, response.action, response.is_list) == (201, "enrollment", "create", False)
    assert list(response.fields)[:5] == ["id", "coursePackId", "studentId", "tutorProfileId", "lessonSlotIds"]
    assert response.fields["paymentStatus_idx"] == "Integer"
    assert response.fields["isActive"] == "Boolean"
    assert not response.select_list and not response.derived


def test_select_list_get_shows_its_joins_as_the_guide_does(services: dict[str, Service]) -> None:
    response = api(services["tutorhub-enrollmentmanagement"], "getEnrollment").response
    assert response.select_list
    assert response.fields == {"isActive": "Boolean"}
    joins = {j.key: j for j in response.joins}
    assert [(j.key, j.is_array, j.target, j.via) for j in response.joins] == [
        ("coursePack", False, "coursePack", ["coursePackId"]),
        ("lessonSlots", True, "lessonSlot", ["lessonSlotIds"]),
        ("student", False, "user", ["studentId"]),
        ("tutorProfile", False, "tutorProfile", ["tutorProfileId"]),
    ]
    assert joins["coursePack"].fields == {
        "tutorProfileId": "ID", "title": "String", "price": "Double", "category": "String",
        "schedulingType": "Enum", "schedulingType_idx": "Integer",
    }
    assert joins["tutorProfile"].fields["bio"] == "Text"


def test_a_join_two_relations_away_is_followed_through_the_local_object(services: dict[str, Service]) -> None:
    response = api(services["tutorhub-enrollmentmanagement"], "listRefundRequests").response
    assert (response.is_list, response.select_list) == (True, True)
    assert [(j.key, j.is_array, j.target, j.via) for j in response.joins] == [
        ("enrollment", True, "enrollment", ["enrollmentId"]),
        ("coursePack", False, "coursePack", ["enrollmentId", "coursePackId"]),
        ("requester", True, "user", ["requestedBy"]),
    ]


def test_joins_named_unlike_their_relation_are_resolved_by_their_stem_and_fields(services: dict[str, Service]) -> None:
    response = api(services["airbnb-bookingmanagement"], "listReservations").response
    assert not response.select_list
    assert [(j.key, j.target, j.via) for j in response.joins] == [
        ("listingJoins", "listing", ["listingId"]),
        ("hostDetails", "user", ["hostId"]),
    ]


def test_payment_apis_keep_their_extra_payment_result(services: dict[str, Service]) -> None:
    start = api(services["tutorhub-enrollmentmanagement"], "startEnrollmentPayment")
    assert start.data_object == "enrollment"
    assert list(start.response.extra_keys) == ["paymentResult"]
    assert start.response.extra_keys["paymentResult"]["success"] is True


def test_an_action_api_with_a_create_example_answers_201(services: dict[str, Service]) -> None:
    refund = api(services["tutorhub-enrollmentmanagement"], "adminRefundEnrollment")
    assert refund.data_object == "refundRequest"
    assert (refund.response.status, refund.response.action, refund.response.data_name) == (201, "create", "refundRequest")


@pytest.mark.parametrize("slug", SLUGS)
def test_every_api_acts_on_a_data_object_of_its_guide(services: dict[str, Service], slug: str) -> None:
    names = {o.name for o in services[slug].data_objects}
    assert all(a.data_object in names for a in services[slug].apis)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_envelope_method_matches_the_request_method(services: dict[str, Service], slug: str) -> None:
    assert all(a.response.method == a.method for a in services[slug].apis)


# -- independence from the text's incidental form ----------------------------------------------------
@pytest.mark.parametrize("slug", SLUGS)
def test_windows_line_endings_parse_to_the_same_service(services: dict[str, Service], slug: str) -> None:
    text = guide_path(slug).read_text(encoding="utf-8")
    crlf = parse_guide(text.replace("\n", "\r\n"), source=f"{slug}.txt")
    assert crlf.model_dump() == services[slug].model_dump()


def test_parsing_is_deterministic(services: dict[str, Service]) -> None:
    slug = "workforceos-subscriptionmanagement"
    assert parse_guide_file(guide_path(slug)).model_dump() == services[slug].model_dump()
