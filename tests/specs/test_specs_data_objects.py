"""Every data object of a guide is a component schema (the full record), and every enum keeps the
guide's options in order, with an `<enum>_idx` integer from 0 to n-1 beside it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from specs_testing import GUIDE_ENUMS, SLUGS, guide_path

from specs.model import Service

DATA_OBJECTS = {
    "tutorhub-enrollmentmanagement": [
        "enrollment", "refundRequest", "sys_enrollmentPayment", "sys_paymentCustomer", "sys_paymentMethod",
    ],
    "workforceos-subscriptionmanagement": [
        "companySubscription", "sys_companySubscriptionPayment", "sys_paymentCustomer", "sys_paymentMethod",
    ],
    "airbnb-bookingmanagement": [
        "reservation", "paymentRecord", "dispute", "sys_reservationPayment", "sys_paymentCustomer", "sys_paymentMethod",
    ],
}
ENUM_CASES = [pytest.param(*row, id=f"{row[0].split('-')[0]}:{row[1]}.{row[2]}") for row in GUIDE_ENUMS]
SYSTEM_FIELDS = ["isActive", "recordVersion", "createdAt", "updatedAt", "_owner"]


def component(spec: dict[str, Any], obj: str) -> dict[str, Any]:
    return spec["components"]["schemas"][obj[:1].upper() + obj[1:]]


def options_of(schema: dict[str, Any]) -> list[str]:
    return [value for value in schema["enum"] if value is not None]


@pytest.mark.parametrize("slug", SLUGS)
def test_the_guide_lists_the_data_objects_the_tests_expect(slug: str) -> None:
    text = guide_path(slug).read_text(encoding="utf-8")
    assert re.findall(r"^(\w+) Data Object: ", text, flags=re.M) == DATA_OBJECTS[slug]


@pytest.mark.parametrize("slug", SLUGS)
def test_parser_reads_every_data_object_in_guide_order(services: dict[str, Service], slug: str) -> None:
    assert [o.name for o in services[slug].data_objects] == DATA_OBJECTS[slug]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_data_object_is_a_component_schema_of_the_full_record(
    specs: dict[str, Any], services: dict[str, Service], slug: str
) -> None:
    spec = specs[slug]
    for obj in services[slug].data_objects:
        schema = component(spec, obj.name)
        expected = ["id"]
        for prop in obj.properties:
            expected.append(prop.name)
            if prop.type == "Enum":
                expected.append(f"{prop.name}_idx")
        assert list(schema["properties"]) == [*expected, *SYSTEM_FIELDS], obj.name
        required = ["id", *(p.name for p in obj.properties if p.required)]
        assert [name for name in schema["required"] if not name.endswith("_idx")] == [*required, *SYSTEM_FIELDS]
        assert spec["x-twin-data-objects"][obj.name]["schema"] == f"#/components/schemas/{obj.name[:1].upper() + obj.name[1:]}"


@pytest.mark.parametrize("slug", SLUGS)
def test_every_data_object_is_described_under_x_twin_data_objects(specs: dict[str, Any], slug: str) -> None:
    assert list(specs[slug]["x-twin-data-objects"]) == DATA_OBJECTS[slug]
    assert [tag["name"] for tag in specs[slug]["tags"]] == DATA_OBJECTS[slug]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_enum_property_of_the_guide_is_in_the_enum_table(services: dict[str, Service], slug: str) -> None:
    parsed = [(obj.name, p.name) for obj in services[slug].data_objects for p in obj.properties if p.type == "Enum"]
    assert parsed == [(obj, prop) for s, obj, prop, _ in GUIDE_ENUMS if s == slug]


@pytest.mark.parametrize(("slug", "obj", "prop", "options"), ENUM_CASES)
def test_enum_component_property_keeps_the_guide_options_in_order(
    specs: dict[str, Any], slug: str, obj: str, prop: str, options: list[str]
) -> None:
    schema = component(specs[slug], obj)["properties"][prop]
    assert options_of(schema) == options
    assert specs[slug]["x-twin-data-objects"][obj]["properties"][prop]["options"] == options


@pytest.mark.parametrize(("slug", "obj", "prop", "options"), ENUM_CASES)
def test_enum_idx_ranges_from_zero_to_the_option_count_minus_one(
    specs: dict[str, Any], slug: str, obj: str, prop: str, options: list[str]
) -> None:
    idx = component(specs[slug], obj)["properties"][f"{prop}_idx"]
    assert "integer" in (idx["type"] if isinstance(idx["type"], list) else [idx["type"]])
    assert (idx["minimum"], idx["maximum"]) == (0, len(options) - 1)


def test_enum_body_parameters_offer_the_data_object_options(specs: dict[str, Any]) -> None:
    checked = 0
    for slug, obj, prop, options in GUIDE_ENUMS:
        for item in specs[slug]["paths"].values():
            for operation in item.values():
                if operation.get("x-twin-data-object") != obj or "requestBody" not in operation:
                    continue
                body = operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
                if prop in body:
                    assert options_of(body[prop]) == options, f"{slug} {operation['operationId']}.{prop}"
                    checked += 1
    assert checked >= 10  # e.g. refundStatus of createEnrollment, status of createCompanySubscription


def test_data_object_relations_keep_target_kind_and_required(specs: dict[str, Any]) -> None:
    enrollment = specs["tutorhub-enrollmentmanagement"]["x-twin-data-objects"]["enrollment"]
    assert enrollment["relations"] == [
        {"property": "coursePackId", "target": "coursePack", "targetField": "id", "kind": "parent", "required": True},
        {"property": "studentId", "target": "user", "targetField": "id", "kind": "parent", "required": True},
        {"property": "tutorProfileId", "target": "tutorProfile", "targetField": "id", "kind": "parent", "required": True},
        {"property": "lessonSlotIds", "target": "lessonSlot", "targetField": "id", "kind": "parent", "required": True},
    ]
    subscription = specs["workforceos-subscriptionmanagement"]["x-twin-data-objects"]["companySubscription"]
    assert [(r["property"], r["target"], r["kind"], r["required"]) for r in subscription["relations"]] == [
        ("lastRenewedBy", "user", "sibling", False), ("ownerId", "user", "sibling", True),
    ]


@pytest.mark.parametrize(("slug", "foreign"), [
    ("tutorhub-enrollmentmanagement", ["coursePack", "lessonSlot", "tutorProfile", "user"]),
    ("workforceos-subscriptionmanagement", ["user"]),
    ("airbnb-bookingmanagement", ["listing", "user"]),
])
def test_objects_the_service_points_at_but_does_not_own_are_foreign_objects(
    specs: dict[str, Any], slug: str, foreign: list[str]
) -> None:
    assert list(specs[slug]["x-twin-foreign-objects"]) == foreign


def test_foreign_objects_carry_the_fields_the_responses_show_of_them(specs: dict[str, Any]) -> None:
    foreign = specs["tutorhub-enrollmentmanagement"]["x-twin-foreign-objects"]
    assert {"fullname", "avatar", "email"} <= set(foreign["user"]["fields"])
    assert foreign["coursePack"]["fields"]["title"] == "String"
    assert foreign["lessonSlot"]["fields"]["scheduledDate"] == "Date"
