"""Identical reads are answered from memory between writes, and never once anything changed."""

from __future__ import annotations

import uuid

from twin_testing import TUTORHUB, WORKFORCEOS

from mockserver.keys import WORLD

BASE = "/enrollmentmanagement-api/v1"
ADMIN = ("tutorhub", "admin")
PAYMENTS = f"{BASE}/enrollmentpayments?pageRowCount=50"


def payment_body(**overrides: object) -> dict[str, object]:
    return {"orderId": str(uuid.uuid4()), "paymentId": "pi_cache", "paymentStatus": "succeeded",
            "statusLiteral": "paid", **overrides}


async def listed(twin, url: str = PAYMENTS, as_=ADMIN) -> list[str]:  # type: ignore[no-untyped-def]
    status, body = await twin.call("GET", url, as_=as_)
    assert status == 200, body
    return [r["paymentId"] for r in body["sys_enrollmentPayments"]]


async def test_a_create_shows_in_the_next_identical_list(make_twin):
    twin = await make_twin(TUTORHUB)
    assert await listed(twin) == await listed(twin) == []
    await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment_body(paymentId="pi_new"))
    assert await listed(twin) == ["pi_new"]


async def test_an_update_and_a_delete_show_in_the_next_identical_get(make_twin):
    twin = await make_twin(TUTORHUB)
    _, created = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment_body())
    url = f"{BASE}/enrollmentpayment/{created['sys_enrollmentPayment']['id']}"
    for _ in range(2):
        _, body = await twin.call("GET", url, as_=ADMIN)
        assert body["sys_enrollmentPayment"]["recordVersion"] == 1
    await twin.call("PATCH", url, as_=ADMIN, json={"statusLiteral": "refunded"})
    _, body = await twin.call("GET", url, as_=ADMIN)
    assert (body["sys_enrollmentPayment"]["recordVersion"], body["sys_enrollmentPayment"]["statusLiteral"]) == (2, "refunded")
    await twin.call("DELETE", url, as_=ADMIN)
    status, _ = await twin.call("GET", url, as_=ADMIN)
    assert status == 404


async def test_a_write_made_inside_the_twin_without_a_request_shows_at_once(make_twin):
    twin = await make_twin(TUTORHUB)
    await listed(twin)
    world = twin.app[WORLD]
    table = world.services["tutorhub-enrollmentmanagement"].tables["sys_enrollmentPayment"]
    record = {**payment_body(paymentId="pi_inside"), "id": world.new_id(), "isActive": True, "recordVersion": 1}
    table.insert(record)
    assert await listed(twin) == ["pi_inside"]


async def test_a_reset_and_bulk_records_through_the_control_api_show_at_once(make_twin):
    twin = await make_twin(TUTORHUB)
    await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment_body(paymentId="pi_before"))
    assert await listed(twin) == ["pi_before"]
    await twin.call("POST", "/__twin/reset", json={})
    assert await listed(twin) == []
    status, _ = await twin.call("POST", "/__twin/records/tutorhub-enrollmentmanagement/sys_enrollmentPayment",
                                json={"records": [payment_body(paymentId="pi_bulk")]})
    assert status == 200
    assert await listed(twin) == ["pi_bulk"]


async def test_each_caller_gets_their_own_answer(make_twin):
    twin = await make_twin(WORKFORCEOS)
    url = "/subscriptionmanagement-api/v1/companysubscriptionpayments"
    await twin.call("POST", "/subscriptionmanagement-api/v1/companysubscriptionpayment", as_=("workforceos", "superadmin"),
                    tenant="babil", json=payment_body(paymentId="pi_babil"))
    answers = {}
    for persona, tenant in (("superadmin", "babil"), ("superadmin", "acme"), ("babil-owner", "babil"), ("acme-owner", "acme")):
        for _ in range(2):
            status, body = await twin.call("GET", url, as_=("workforceos", persona), tenant=tenant)
            assert status == 200, body
            answers[persona, tenant] = ([r["paymentId"] for r in body["sys_companySubscriptionPayments"]], body["userId"])
    assert answers["superadmin", "babil"][0] == answers["babil-owner", "babil"][0] == ["pi_babil"]
    assert answers["superadmin", "acme"][0] == answers["acme-owner", "acme"][0] == []
    assert answers["babil-owner", "babil"][1] == twin.persona("workforceos", "babil-owner")["userId"]


async def test_a_mutant_switched_on_changes_the_next_identical_answer(make_twin):
    twin = await make_twin(TUTORHUB)
    _, first = await twin.call("GET", PAYMENTS, as_=ADMIN)
    assert first["status"] == "OK"
    status, _ = await twin.call("POST", "/__twin/mutants", json={"active": ["envelope-status-lowercase"]})
    assert status == 200
    _, second = await twin.call("GET", PAYMENTS, as_=ADMIN)
    assert second["status"] == "ok"


async def test_a_kept_answer_has_this_requests_own_envelope_fields(make_twin):
    twin = await make_twin(TUTORHUB)
    bodies = [(await twin.call("GET", PAYMENTS, as_=ADMIN))[1] for _ in range(3)]
    assert len({b["requestId"] for b in bodies}) == 3
    for body in bodies:
        assert body["cacheKey"] == body["requestId"].replace("-", "") and isinstance(body["elapsedMs"], float)
    strip = [{k: v for k, v in b.items() if k not in ("requestId", "cacheKey", "elapsedMs")} for b in bodies]
    assert strip[0] == strip[1] == strip[2]


async def test_without_the_read_cache_answers_are_the_same(make_twin):
    twin = await make_twin(TUTORHUB, settings={"read_cache": False})
    await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment_body(paymentId="pi_plain"))
    assert await listed(twin) == await listed(twin) == ["pi_plain"]
