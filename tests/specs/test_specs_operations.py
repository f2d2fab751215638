"""Every operation of the three guides is in its committed spec, with the guide's method, route and
every parameter (path, query, body and filter), and nothing else.

The expectations come from `data/guide_operations.tsv`, read off the guide text, not by the parser;
the first tests prove that table still matches the guides.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from specs_testing import GUIDE_OPERATIONS, SLUGS, GuideOperation, guide_path, operations, parameters

from specs.emitter import UUID_PATTERN

EXPECTED_COUNTS = {
    "tutorhub-enrollmentmanagement": 26,
    "workforceos-subscriptionmanagement": 19,
    "airbnb-bookingmanagement": 25,
}
SCALAR_TYPES = {
    "ID": "string", "String": "string", "Text": "string", "Date": "string", "Enum": "string",
    "Integer": "integer", "Double": "number", "Boolean": "boolean", "Object": "object",
}


def openapi_path(route: str) -> str:
    return re.sub(r":(\w+)", r"{\1}", route)


def types_of(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema admits, `null` left out."""
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    return kinds - {"null", None}


def scalar(schema: dict[str, Any]) -> dict[str, Any]:
    """The item schema of an array schema, else the schema itself."""
    return schema["items"] if types_of(schema) == {"array"} else schema


def assert_schema_is_guide_type(schema: dict[str, Any], guide_type: str, where: str) -> None:
    item = scalar(schema)
    assert types_of(item) == {SCALAR_TYPES[guide_type]}, f"{where}: {schema} is not a {guide_type}"
    if guide_type == "ID":
        # a UUID; a list's parameter filtering a property also takes `null` (unset), by pattern
        assert item.get("format") == "uuid" or item.get("pattern") == f"^({UUID_PATTERN}|null)$", where
    if guide_type == "Date":
        assert item.get("format") == "date-time", where
    if guide_type == "Enum":
        assert item.get("enum"), f"{where}: an Enum without options"


def spec_operation(specs: dict[str, Any], op: GuideOperation) -> dict[str, Any]:
    item = specs[op.slug]["paths"].get(openapi_path(op.route))
    assert item is not None, f"{op.route} is not a path of {op.slug}"
    operation = item.get(op.method.lower())
    assert operation is not None, f"{op.method} {op.route} is not in {op.slug}"
    return operation


# -- the expectation table matches the guides ----------------------------------------------------
@pytest.mark.parametrize("slug", SLUGS)
def test_the_expected_table_names_every_api_the_guide_describes(slug: str) -> None:
    text = guide_path(slug).read_text(encoding="utf-8")
    in_guide = re.findall(r"^The (\w+) API REST controller can be triggered", text, flags=re.M)
    assert [op.name for op in GUIDE_OPERATIONS if op.slug == slug] == in_guide
    assert len(in_guide) == EXPECTED_COUNTS[slug]


def test_the_three_guides_describe_seventy_operations() -> None:
    assert len(GUIDE_OPERATIONS) == 70
    assert Counter(op.slug for op in GUIDE_OPERATIONS) == EXPECTED_COUNTS


# -- the specs hold exactly those operations -----------------------------------------------------
@pytest.mark.parametrize("slug", SLUGS)
def test_spec_has_one_operation_per_guide_api_and_no_other(specs: dict[str, Any], slug: str) -> None:
    in_spec = sorted(op["operationId"] for _, _, op in operations(specs[slug]))
    assert in_spec == sorted(op.name for op in GUIDE_OPERATIONS if op.slug == slug)
    assert len(in_spec) == EXPECTED_COUNTS[slug]


@pytest.mark.parametrize("op", GUIDE_OPERATIONS, ids=str)
def test_operation_has_the_guide_method_and_route(specs: dict[str, Any], op: GuideOperation) -> None:
    operation = spec_operation(specs, op)
    assert operation["operationId"] == op.name
    assert operation["x-twin-api"] == op.name
    assert operation["x-twin-route"] == op.route


@pytest.mark.parametrize("op", GUIDE_OPERATIONS, ids=str)
def test_operation_has_every_path_and_query_parameter_of_the_guide(specs: dict[str, Any], op: GuideOperation) -> None:
    spec = specs[op.slug]
    params = parameters(spec, spec_operation(specs, op))
    for location, name, type_, required in op.parameters:
        if location == "body":
            continue
        param = params.get((location, name))
        assert param is not None, f"{op}: no {location} parameter {name}"
        assert param["required"] is (True if location == "path" else required), f"{op}: {name} required"
        assert_schema_is_guide_type(param["schema"], type_, f"{op}.{name}")


@pytest.mark.parametrize("op", GUIDE_OPERATIONS, ids=str)
def test_every_placeholder_of_the_route_is_a_required_path_parameter(specs: dict[str, Any], op: GuideOperation) -> None:
    spec = specs[op.slug]
    params = parameters(spec, spec_operation(specs, op))
    placeholders = re.findall(r":(\w+)", op.route)
    assert sorted(name for (location, name) in params if location == "path") == sorted(placeholders)
    assert all(params[("path", name)]["required"] for name in placeholders)


@pytest.mark.parametrize("op", GUIDE_OPERATIONS, ids=str)
def test_operation_body_has_every_body_parameter_of_the_guide(specs: dict[str, Any], op: GuideOperation) -> None:
    operation = spec_operation(specs, op)
    body = [(name, type_, required) for location, name, type_, required in op.parameters if location == "body"]
    assert operation["x-twin-body"] == [name for name, _, _ in body]
    if not body:
        assert "requestBody" not in operation
        return
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert list(schema["properties"]) == [name for name, _, _ in body]
    assert schema.get("required", []) == [name for name, _, required in body if required]
    assert operation["requestBody"]["required"] is any(required for _, _, required in body)
    for name, type_, _ in body:
        assert_schema_is_guide_type(schema["properties"][name], type_, f"{op}.{name}")


@pytest.mark.parametrize("op", GUIDE_OPERATIONS, ids=str)
def test_operation_has_every_filter_of_the_guide_as_a_repeatable_query_parameter(
    specs: dict[str, Any], op: GuideOperation
) -> None:
    spec = specs[op.slug]
    params = parameters(spec, spec_operation(specs, op))
    filters = {name: p for (location, name), p in params.items() if location == "query" and "x-twin-filter" in p}
    assert list(filters) == [name for name, _ in op.filters]
    for name, type_ in op.filters:
        param = filters[name]
        assert param["x-twin-filter"]["property"] == name
        assert param["x-twin-filter"]["type"] == type_
        assert param["required"] is False
        assert (param["style"], param["explode"]) == ("form", True)
        assert param["schema"]["type"] == "array"


@pytest.mark.parametrize("op", GUIDE_OPERATIONS, ids=str)
def test_operation_has_no_parameter_the_guide_does_not_name(specs: dict[str, Any], op: GuideOperation) -> None:
    spec = specs[op.slug]
    params = parameters(spec, spec_operation(specs, op))
    expected = {(location, name) for location, name, _, _ in op.parameters if location != "body"}
    expected |= {("query", name) for name, _ in op.filters}
    extra = {
        key for key, p in params.items()
        if key not in expected and not p.get("x-twin-paging") and key[0] != "header"
    }
    assert extra == set()
