"""What a request body may change (mockserver/bodyrule.py), through HTTP: workflow-owned routes
validate like generic ones, and no body moves a record's tenant, owner, id, version or timestamps."""

from __future__ import annotations

from typing import Any

import pytest
from twin_testing import TUTORHUB, WORKFORCEOS, Twin

WOS = "/subscriptionmanagement-api/v1"
TUT = "/enrollmentmanagement-api/v1"
SUPERADMIN = ("workforceos", "superadmin")
TUTOR_ADMIN = ("tutorhub", "admin")


async def granted_subscription(twin: Twin, company: str = "babil") -> dict[str, Any]:
    """A subscription a platform admin granted to `company` (the workflow-owned create)."""
    status, body = await twin.call("POST", f"{WOS}/companysubscriptions", as_=SUPERADMIN, tenant=company,
                                   json={"activationDate": "2020-01-01T00:00:00Z", "expiryDate": "2020-02-01T00:00:00Z",
                                         "status": "active", "ownerId": "00000000-0000-4000-8000-000000000001"})
    assert status == 201, body
    return body["companySubscription"]


@pytest.fixture
async def office(make_twin: Any) -> Twin:
    return await make_twin(WORKFORCEOS)


async def patch_subscription(twin: Twin, subscription: dict[str, Any], body: Any) -> tuple[int, dict[str, Any]]:
    return await twin.call("PATCH", f"{WOS}/companysubscriptions/{subscription['id']}", as_=SUPERADMIN,
                           tenant="babil", json=body)


@pytest.mark.parametrize("value, message", [
    ({}, "errMsg_paymentStatusisNotAValidString"),
    ("totally-bogus", "errMsg_paymentStatusisNotAValidEnumOption"),
])
async def test_a_workflow_update_refuses_an_invalid_value_naming_the_field(office: Twin, value: Any, message: str):
    subscription = await granted_subscription(office)
    status, body = await patch_subscription(office, subscription, {"paymentStatus": value})
    assert status == 400, body
    assert body["message"] == message and "paymentStatus" in body["detail"]
    _, after = await office.call("GET", f"{WOS}/companysubscriptions/{subscription['id']}", as_=SUPERADMIN,
                                 tenant="babil")
    assert after["companySubscription"]["paymentStatus"] == subscription["paymentStatus"]
    assert after["companySubscription"]["recordVersion"] == subscription["recordVersion"]


async def test_a_workflow_update_checks_declared_fields_against_the_schema(office: Twin):
    subscription = await granted_subscription(office)
    status, body = await patch_subscription(office, subscription, {"status": "sleeping"})
    assert status == 400 and body["message"] == "errMsg_statusisNotAValidEnumOption"


async def test_a_body_cannot_move_a_record_to_another_tenant(office: Twin):
    subscription = await granted_subscription(office, "babil")
    acme = (await granted_subscription(office, "acme"))["companyId"]
    status, body = await patch_subscription(office, subscription, {"companyId": acme, "status": "inactive"})
    assert status == 200, body
    assert body["companySubscription"]["companyId"] == subscription["companyId"] != acme
    assert body["companySubscription"]["status"] == "inactive"  # the declared field is applied
    status, _ = await office.call("GET", f"{WOS}/companysubscriptions/{subscription['id']}", as_=SUPERADMIN,
                                  tenant="acme")
    assert status == 404  # still babil's, invisible from acme


async def test_a_valid_value_for_a_field_the_update_does_not_take_is_ignored(office: Twin):
    subscription = await granted_subscription(office)
    status, body = await patch_subscription(office, subscription, {"paymentStatus": "canceled", "amount": 1})
    assert status == 200, body
    assert body["companySubscription"]["paymentStatus"] == subscription["paymentStatus"]
    assert body["companySubscription"]["amount"] == subscription["amount"]


async def test_system_fields_in_a_body_are_never_applied(make_twin: Any):
    twin = await make_twin(TUTORHUB)
    payment = {"ownerId": None, "orderId": "028bccca-8004-40d0-834d-ca00febba168", "paymentId": "pi_rule",
               "paymentStatus": "created", "statusLiteral": "pending", "redirectUrl": None}
    forged = {"id": "00000000-0000-4000-8000-00000000dead", "_owner": "00000000-0000-4000-8000-00000000beef",
              "recordVersion": 99, "isActive": False, "createdAt": "2001-01-01T00:00:00Z",
              "updatedAt": "2001-01-01T00:00:00Z", "paymentStatus_idx": 7}
    status, body = await twin.call("POST", f"{TUT}/enrollmentpayment", as_=TUTOR_ADMIN, json={**payment, **forged})
    assert status == 201, body
    created = body["sys_enrollmentPayment"]
    assert created["id"] != forged["id"] and created["recordVersion"] == 1 and created["isActive"] is True
    assert created["createdAt"] != forged["createdAt"]
    status, body = await twin.call("PATCH", f"{TUT}/enrollmentpayment/{created['id']}", as_=TUTOR_ADMIN,
                                   json={**forged, "paymentStatus": "paid"})
    assert status == 200, body
    updated = body["sys_enrollmentPayment"]
    assert updated["paymentStatus"] == "paid"
    assert (updated["id"], updated["recordVersion"], updated["isActive"]) == (created["id"], 2, True)
    assert updated["createdAt"] == created["createdAt"]
    _, listed = await twin.call("GET", f"{TUT}/enrollmentpayments", as_=TUTOR_ADMIN)
    assert [p["id"] for p in listed["sys_enrollmentPayments"]] == [created["id"]]
