"""Schemathesis 4 loads each spec and can generate a request for every operation (one example per
operation keeps this quick); the generated requests fill every path placeholder, send the tenant
header where the spec asks for it and a JSON body where the operation has a required one."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from specs_testing import SLUGS, SyntheticGuide

from specs.build import OPENAPI_DIR
from specs.emitter import emit_openapi
from specs.parser import parse_guide

EXPECTED_COUNTS = {
    "tutorhub-enrollmentmanagement": 26,
    "workforceos-subscriptionmanagement": 19,
    "airbnb-bookingmanagement": 25,
}


def one_case_per_operation(schema: Any) -> dict[str, Any]:
    """Draw one generated case for each operation of a loaded schema, by operationId."""
    cases: dict[str, Any] = {}
    for result in schema.get_all_operations():
        operation = result.ok()  # raises if Schemathesis could not read the operation

        @given(operation.as_strategy())
        @settings(max_examples=1, suppress_health_check=list(HealthCheck), database=None, deadline=None)
        def draw(case: Any) -> None:
            cases[case.operation.definition.raw["operationId"]] = case

        draw()
    return cases


@pytest.fixture(scope="module")
def drawn() -> dict[str, dict[str, Any]]:
    return {slug: one_case_per_operation(schemathesis.openapi.from_path(OPENAPI_DIR / f"{slug}.yaml")) for slug in SLUGS}


@pytest.mark.parametrize("slug", SLUGS)
def test_schemathesis_generates_a_case_for_every_operation(drawn: dict[str, dict[str, Any]], slug: str) -> None:
    assert len(drawn[slug]) == EXPECTED_COUNTS[slug]


@pytest.mark.parametrize("slug", SLUGS)
def test_generated_cases_fill_every_path_placeholder(drawn: dict[str, dict[str, Any]], slug: str) -> None:
    for name, case in drawn[slug].items():
        placeholders = set(re.findall(r"{(\w+)}", case.path))
        assert set(case.path_parameters or {}) == placeholders, name
        assert all(str(value) for value in (case.path_parameters or {}).values()), name


def test_generated_workforceos_cases_send_the_tenant_header(drawn: dict[str, dict[str, Any]]) -> None:
    for name, case in drawn["workforceos-subscriptionmanagement"].items():
        assert case.headers and case.headers.get("mbx-company-codename"), name


@pytest.mark.parametrize("slug", SLUGS)
def test_generated_cases_send_a_json_object_body_when_one_is_required(drawn: dict[str, dict[str, Any]], slug: str) -> None:
    schema = schemathesis.openapi.from_path(OPENAPI_DIR / f"{slug}.yaml")
    required = {
        result.ok().definition.raw["operationId"]
        for result in schema.get_all_operations()
        if result.ok().definition.raw.get("requestBody", {}).get("required")
    }
    assert required, "each guide has creates with required bodies"
    for name in required:
        assert isinstance(drawn[slug][name].body, dict), name


def test_start_payment_cases_carry_a_payment_method_id(drawn: dict[str, dict[str, Any]]) -> None:
    body = drawn["tutorhub-enrollmentmanagement"]["startEnrollmentPayment"].body
    assert "paymentMethodId" in body["paymentUserParams"]


def test_schemathesis_generates_a_case_for_every_operation_of_the_synthetic_guide(synthetic: SyntheticGuide) -> None:
    doc = emit_openapi(parse_guide(synthetic.text(), source="synthetic.txt"))
    cases = one_case_per_operation(schemathesis.openapi.from_dict(doc))
    assert sorted(cases) == sorted(synthetic.apis)
    assert all(case.headers.get("x-clinic-code") for case in cases.values())
