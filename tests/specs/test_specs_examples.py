"""Every operation carries realistic examples (request parameters and body, the success answer, the
error answers), each valid against its own schema, with references to records the twin seeds."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from specs_testing import SLUGS

import fixtures


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A 2020-12 validator for `schema`, its `#/components/...` references resolved in the document."""
    return jsonschema.Draft202012Validator({**schema, "components": doc["components"]})


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def examples(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example of the document."""
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            for param in map(lambda p: resolve(doc, p), op.get("parameters") or []):
                if "example" in param:
                    out.append((f"{where} {param['name']}", param["schema"], param["example"]))
            if "requestBody" in op:
                media = op["requestBody"]["content"]["application/json"]
                out.append((f"{where} body", media["schema"], media["example"]))
            for code, response in op["responses"].items():
                media = resolve(doc, response)["content"]["application/json"]
                out.append((f"{where} {code}", media["schema"], media["example"]))
    return out


@pytest.mark.parametrize("slug", SLUGS)
def test_every_operation_has_a_request_and_a_response_example(specs: dict[str, Any], slug: str) -> None:
    doc = specs[slug]
    for item in doc["paths"].values():
        for op in item.values():
            status = str(op["x-twin-status"])
            assert "example" in op["responses"][status]["content"]["application/json"], op["operationId"]
            if "requestBody" in op:
                assert op["requestBody"]["content"]["application/json"]["example"], op["operationId"]
            for param in map(lambda p: resolve(doc, p), op.get("parameters") or []):
                if param.get("required"):
                    assert "example" in param, (op["operationId"], param["name"])


@pytest.mark.parametrize("slug", SLUGS)
def test_every_example_is_valid_against_its_schema(specs: dict[str, Any], slug: str) -> None:
    doc = specs[slug]
    found = examples(doc)
    assert len(found) > 100
    for where, schema, example in found:
        errors = [e.message for e in validator(doc, schema).iter_errors(example)]
        assert errors == [], f"{where}: {errors[:3]}"


def test_examples_point_at_records_the_twin_seeds(specs: dict[str, Any]) -> None:
    doc = specs["tutorhub-enrollmentmanagement"]
    body = doc["paths"]["/v1/enrollments"]["post"]["requestBody"]["content"]["application/json"]["example"]
    foreign = {name: ext["fields"] for name, ext in doc["x-twin-foreign-objects"].items()}
    seeded = fixtures.load("tutorhub", foreign, 0).objects
    assert body["coursePackId"] in {p["id"] for p in seeded["coursePack"]}
    assert set(body["lessonSlotIds"]) <= {s["id"] for s in seeded["lessonSlot"]}
    assert body["currency"] == "USD" and body["refundStatus"] == "notRequested"


def test_the_id_a_create_example_answers_is_the_one_the_get_example_addresses(specs: dict[str, Any]) -> None:
    doc = specs["tutorhub-enrollmentmanagement"]
    created = doc["paths"]["/v1/enrollments"]["post"]["responses"]["201"]["content"]["application/json"]["example"]
    get = doc["paths"]["/v1/enrollments/{enrollmentId}"]["get"]
    (param,) = [p for p in get["parameters"] if p["name"] == "enrollmentId"]
    assert param["example"] == created["enrollment"]["id"]


def test_the_tenant_header_example_is_a_company_the_twin_seeds(specs: dict[str, Any]) -> None:
    header = specs["workforceos-subscriptionmanagement"]["components"]["parameters"]["TenantHeader"]
    assert header["example"] in ("babil", "acme")
