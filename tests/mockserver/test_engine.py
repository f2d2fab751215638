"""The generic engine, through HTTP: records, envelopes, validation, identity, tenancy, lists."""

from __future__ import annotations

import uuid

from twin_testing import TUTORHUB, WORKFORCEOS

BASE = "/enrollmentmanagement-api/v1"
ADMIN = ("tutorhub", "admin")
SUCCESS_KEYS = [
    "status", "statusCode", "elapsedMs", "ssoTime", "source", "cacheKey", "userId", "sessionId", "requestId",
    "dataName", "method", "action", "appVersion", "rowCount",
]


def payment_body(**overrides: object) -> dict[str, object]:
    body = {"orderId": str(uuid.uuid4()), "paymentId": "pi_Test123", "paymentStatus": "succeeded", "statusLiteral": "paid"}
    body.update(overrides)
    return body


async def create_payment(twin, **overrides: object) -> dict:  # type: ignore[no-untyped-def]
    status, body = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment_body(**overrides))
    assert status == 201, body
    return body["sys_enrollmentPayment"]


async def test_create_answers_201_with_the_success_envelope_in_the_guides_key_order(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment_body())
    assert status == 201
    assert list(body)[: len(SUCCESS_KEYS)] == SUCCESS_KEYS
    assert body["status"] == "OK" and body["statusCode"] == 201
    assert (body["dataName"], body["method"], body["action"], body["rowCount"]) == ("sys_enrollmentPayment", "POST", "create", 1)
    assert body["userId"] == twin.persona(*ADMIN)["userId"]


async def test_a_new_record_carries_the_system_fields(make_twin):
    twin = await make_twin(TUTORHUB)
    record = await create_payment(twin)
    uuid.UUID(record["id"])
    assert record["isActive"] is True and record["recordVersion"] == 1
    assert record["createdAt"] == record["updatedAt"] and record["createdAt"].endswith("Z")
    assert record["_owner"] == twin.persona(*ADMIN)["userId"]


async def test_get_returns_what_create_stored(make_twin):
    twin = await make_twin(TUTORHUB)
    record = await create_payment(twin, paymentId="pi_get")
    status, body = await twin.call("GET", f"{BASE}/enrollmentpayment/{record['id']}", as_=ADMIN)
    assert status == 200 and body["sys_enrollmentPayment"] == record


async def test_update_increments_record_version_and_moves_updated_at(make_twin):
    twin = await make_twin(TUTORHUB)
    record = await create_payment(twin)
    await twin.call("POST", "/__twin/clock", json={"advanceSeconds": 5})
    status, body = await twin.call("PATCH", f"{BASE}/enrollmentpayment/{record['id']}", as_=ADMIN,
                                   json={"statusLiteral": "refunded"})
    updated = body["sys_enrollmentPayment"]
    assert status == 200 and body["action"] == "update"
    assert updated["statusLiteral"] == "refunded" and updated["recordVersion"] == 2
    assert updated["updatedAt"] > record["updatedAt"] and updated["createdAt"] == record["createdAt"]


async def test_delete_is_soft_get_answers_404_and_lists_leave_it_out(make_twin):
    twin = await make_twin(TUTORHUB)
    keep, gone = await create_payment(twin), await create_payment(twin)
    status, body = await twin.call("DELETE", f"{BASE}/enrollmentpayment/{gone['id']}", as_=ADMIN)
    assert status == 200 and body["sys_enrollmentPayment"]["isActive"] is False
    status, body = await twin.call("GET", f"{BASE}/enrollmentpayment/{gone['id']}", as_=ADMIN)
    assert status == 404 and body["message"] == "errMsg_sys_enrollmentPaymentNotFound"
    _, listed = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    assert [r["id"] for r in listed["sys_enrollmentPayments"]] == [keep["id"]]


async def test_operations_the_guide_does_not_define_do_not_exist(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("DELETE", f"{BASE}/enrollments/{uuid.uuid4()}", as_=ADMIN)
    assert status == 405 and body["result"] == "ERR"
    status, body = await twin.call("GET", f"{BASE}/no-such-route", as_=ADMIN)
    assert status == 404 and body["message"] == "errMsg_routeNotFound"


async def test_errors_follow_the_error_envelope(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("GET", f"{BASE}/enrollmentpayment/{uuid.uuid4()}", as_=ADMIN)
    assert status == 404
    assert list(body) == ["result", "status", "message", "errCode", "date", "detail"]
    assert body["result"] == "ERR" and body["status"] == body["errCode"] == 404
    assert body["date"].endswith("Z")


async def test_a_missing_required_field_is_a_400_naming_it(make_twin):
    twin = await make_twin(TUTORHUB)
    body = payment_body()
    del body["paymentId"]
    status, answer = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=body)
    assert status == 400 and answer["message"] == "errMsg_paymentIdisRequired" and "paymentId" in answer["detail"]


async def test_a_wrong_type_an_invalid_id_and_an_unknown_enum_option_are_400s(make_twin):
    twin = await make_twin(TUTORHUB)
    status, answer = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment_body(paymentId=42))
    assert status == 400 and answer["message"] == "errMsg_paymentIdisNotAValidString"
    status, answer = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment_body(orderId="nope"))
    assert status == 400 and answer["message"] == "errMsg_orderIdisNotAValidID"
    assert answer["detail"] == "orderId must be a UUID; got 'nope'"
    status, answer = await twin.call("GET", f"{BASE}/enrollmentpayment/not-a-uuid", as_=ADMIN)
    assert status == 400 and "sys_enrollmentPaymentId" in answer["message"]
    status, answer = await twin.call("GET", f"{BASE}/enrollments?paymentConfirmation=bogus", as_=ADMIN)
    assert status == 400 and "paymentConfirmation" in answer["message"]


async def test_malformed_json_is_a_400_not_a_crash(make_twin):
    twin = await make_twin(TUTORHUB)
    status, answer = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, data=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert status == 400 and answer["message"] == "errMsg_invalidJsonBody"
    status, answer = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=[1, 2])
    assert status == 400 and answer["message"] == "errMsg_bodyMustBeAJsonObject"


async def test_a_missing_or_bad_token_is_a_401(make_twin):
    twin = await make_twin(TUTORHUB)
    status, answer = await twin.call("GET", f"{BASE}/enrollmentpayments")
    assert status == 401 and answer["message"] == "errMsg_loginRequired"
    status, answer = await twin.call("GET", f"{BASE}/enrollmentpayments", headers={"Authorization": "Bearer x.y.z"})
    assert status == 401 and answer["message"] == "errMsg_invalidToken"


async def test_a_token_of_another_project_is_a_401(make_twin):
    twin = await make_twin()
    status, answer = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=("airbnb", "admin"))
    assert status == 401 and answer["message"] == "errMsg_tokenIsForAnotherProject"


async def test_lists_page_with_consistent_paging(make_twin):
    twin = await make_twin(TUTORHUB)
    ids = [(await create_payment(twin, paymentId=f"pi_{n}"))["id"] for n in range(7)]
    status, body = await twin.call("GET", f"{BASE}/enrollmentpayments?pageRowCount=3&pageNumber=3", as_=ADMIN)
    assert status == 200
    assert [r["id"] for r in body["sys_enrollmentPayments"]] == ids[6:]
    assert body["rowCount"] == 1
    assert body["paging"] == {"pageNumber": 3, "pageRowCount": 3, "totalRowCount": 7, "pageCount": 3}
    _, first = await twin.call("GET", f"{BASE}/enrollmentpayments?pageRowCount=3", as_=ADMIN)
    assert [r["id"] for r in first["sys_enrollmentPayments"]] == ids[:3]


async def test_string_filters_match_partially_and_ignore_case(make_twin):
    twin = await make_twin(TUTORHUB)
    await create_payment(twin, paymentId="pi_AlphaOne")
    await create_payment(twin, paymentId="pi_beta")
    _, body = await twin.call("GET", f"{BASE}/enrollmentpayments?paymentId=ALPHA", as_=ADMIN)
    assert [r["paymentId"] for r in body["sys_enrollmentPayments"]] == ["pi_AlphaOne"]
    assert body["filters"] == [{"name": "paymentId", "values": ["ALPHA"]}]


async def test_a_repeated_filter_means_any_of_and_null_matches_unset(make_twin):
    twin = await make_twin(TUTORHUB)
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    await create_payment(twin, orderId=one)
    await create_payment(twin, orderId=two)
    await create_payment(twin, redirectUrl="https://app.test/done")
    _, body = await twin.call("GET", f"{BASE}/enrollmentpayments?orderId={one}&orderId={two}", as_=ADMIN)
    assert sorted(r["orderId"] for r in body["sys_enrollmentPayments"]) == sorted([one, two])
    _, body = await twin.call("GET", f"{BASE}/enrollmentpayments?redirectUrl=null", as_=ADMIN)
    assert body["paging"]["totalRowCount"] == 2


async def test_the_tenant_header_is_required_and_checked(make_twin):
    twin = await make_twin(WORKFORCEOS)
    url = "/subscriptionmanagement-api/v1/companysubscriptionpayments"
    status, body = await twin.call("GET", url, as_=("workforceos", "babil-owner"))
    assert status == 400 and body["message"] == "errMsg_tenantCodenameIsRequired"
    status, body = await twin.call("GET", url, as_=("workforceos", "babil-owner"), tenant="acme")
    assert status == 403 and body["message"] == "errMsg_tenantAccessDenied"
    status, body = await twin.call("GET", url, as_=("workforceos", "superadmin"), tenant="nowhere")
    assert status == 404 and body["message"] == "errMsg_tenantNotFound"


async def test_one_tenants_records_are_never_visible_to_another(make_twin):
    twin = await make_twin(WORKFORCEOS)
    url = "/subscriptionmanagement-api/v1/companysubscriptionpayment"
    body = {"orderId": str(uuid.uuid4()), "paymentId": "pi_babil", "paymentStatus": "succeeded"}
    status, created = await twin.call("POST", url, as_=("workforceos", "superadmin"), tenant="babil", json=body)
    assert status == 201, created
    record = created["sys_companySubscriptionPayment"]
    status, _ = await twin.call("GET", f"{url}/{record['id']}", as_=("workforceos", "superadmin"), tenant="acme")
    assert status == 404
    _, listed = await twin.call("GET", f"{url}s", as_=("workforceos", "superadmin"), tenant="acme")
    assert listed["sys_companySubscriptionPayments"] == []
    status, got = await twin.call("GET", f"{url}/{record['id']}", as_=("workforceos", "superadmin"), tenant="babil")
    assert status == 200 and got["sys_companySubscriptionPayment"]["companyId"] == record["companyId"]


async def test_cors_preflight_and_headers_let_another_origin_call(make_twin):
    twin = await make_twin(TUTORHUB)
    response = await twin.client.options(f"{BASE}/enrollmentpayments", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    response = await twin.client.get(f"{BASE}/enrollmentpayments", headers={"Origin": "http://localhost:5173"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


async def test_mixed_case_routes_answer_as_written_and_in_lower_case(make_twin):
    twin = await make_twin(WORKFORCEOS)
    order = str(uuid.uuid4())
    for path in (f"/v1/companySubscriptionpaymentbyorderid/{order}", f"/v1/companysubscriptionpaymentbyorderid/{order}"):
        status, body = await twin.call("GET", "/subscriptionmanagement-api" + path, as_=("workforceos", "superadmin"),
                                       tenant="babil")
        assert status == 404 and body["message"] == "errMsg_sys_companySubscriptionPaymentNotFound"


async def test_request_ids_are_unique_uuid_shaped_and_repeat_after_a_reset(make_twin):
    twin = await make_twin(TUTORHUB)

    async def request_ids() -> list[str]:
        ids = []
        for _ in range(3):
            status, body = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
            assert status == 200
            uuid.UUID(body["requestId"])
            assert body["cacheKey"] == body["requestId"].replace("-", "")
            ids.append(body["requestId"])
        return ids

    first = await request_ids()
    assert len(set(first)) == 3
    await twin.call("POST", "/__twin/reset", json={})
    assert await request_ids() == first


async def test_enum_filters_take_their_options_in_any_case_and_refuse_others_naming_them(make_twin):
    # The spec types an enum filter by its options (for generators); the guide says any case goes.
    twin = await make_twin(WORKFORCEOS)
    url = "/subscriptionmanagement-api/v1/companysubscriptions"
    as_ = ("workforceos", "babil-owner")
    body = {"activationDate": "2027-01-04T00:00:00Z", "expiryDate": "2027-02-04T00:00:00Z", "status": "pending",
            "ownerId": twin.persona(*as_)["userId"]}
    status, body = await twin.call("POST", url, as_=as_, tenant="babil", json=body)
    assert status == 201, body
    for value in ("pending", "PENDING", "Pending"):
        status, body = await twin.call("GET", f"{url}?status={value}", as_=as_, tenant="babil")
        assert status == 200 and body["rowCount"] == 1, (value, body)
    status, body = await twin.call("GET", f"{url}?status=archived", as_=as_, tenant="babil")
    assert status == 400 and body["message"] == "errMsg_statusisNotAValidEnumOption"
    assert body["detail"] == "status must be one of: active, inactive, pending, expired (any letter case), or null (unset); got 'archived'"


async def test_a_body_streamed_in_pieces_is_read_whole(make_twin):
    """A body that has not fully arrived when the handler starts (chunked, sent piece by piece) is
    waited for, not cut short."""
    import asyncio

    import orjson

    twin = await make_twin(TUTORHUB)
    body = orjson.dumps(payment_body(paymentId="pi_streamed"))

    async def pieces():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 16):
            yield body[start:start + 16]
            await asyncio.sleep(0.01)

    headers = {**twin.headers(*ADMIN), "Content-Type": "application/json"}
    response = await twin.client.post(f"{BASE}/enrollmentpayment", data=pieces(), headers=headers)
    answer = await response.json()
    assert response.status == 201, answer
    assert answer["sys_enrollmentPayment"]["paymentId"] == "pi_streamed"


async def test_a_body_over_the_limit_is_refused_with_413(make_twin, monkeypatch):
    """However it arrives, a body larger than the twin reads is refused before it is parsed."""
    from mockserver import engine

    twin = await make_twin(TUTORHUB)
    monkeypatch.setattr(engine, "MAX_BODY_BYTES", 64)
    response = await twin.client.post(f"{BASE}/enrollmentpayment", json=payment_body(paymentId="p" * 100),
                                      headers=twin.headers(*ADMIN))
    assert response.status == 413
    status, body = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    assert status == 200 and all(r["paymentId"] != "p" * 100 for r in body["sys_enrollmentPayments"])
