"""The control plane's guard (mockserver/guard.py), through HTTP: a foreign web page can neither
read nor change the twin; a control token and the JWT secret are the user's own when configured."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from twin_testing import TUTORHUB, Twin

from mockserver.identity import DEFAULT_SECRET

BASE = "/enrollmentmanagement-api/v1"
ADMIN = ("tutorhub", "admin")
EVIL = "http://evil.example"


def payment() -> dict[str, Any]:
    return {"ownerId": None, "orderId": "028bccca-8004-40d0-834d-ca00febba168", "paymentId": "pi_guard",
            "paymentStatus": "created", "statusLiteral": "pending", "redirectUrl": None}


async def payments(twin: Twin) -> list[dict[str, Any]]:
    status, body = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    assert status == 200, body
    return body["sys_enrollmentPayments"]


@pytest.fixture
async def twin(make_twin: Any) -> Twin:
    twin = await make_twin(TUTORHUB)
    status, _ = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment())
    assert status == 201
    return twin


async def test_a_cross_site_text_plain_reset_is_refused_and_changes_nothing(twin: Twin):
    response = await twin.client.post("/__twin/reset", data="{}",
                                      headers={"Origin": EVIL, "Content-Type": "text/plain"})
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert (await response.json())["message"] == "errMsg_crossSiteControlRequest"
    assert len(await payments(twin)) == 1


@pytest.mark.parametrize("path", ["/__twin/personas", "/__twin/state", "/__twin/stripe/events", "/__twin/journal"])
async def test_no_control_answer_grants_a_foreign_origin(twin: Twin, path: str):
    response = await twin.client.get(path, headers={"Origin": EVIL})
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "token" not in (await response.text())


@pytest.mark.parametrize("origin", [EVIL, "null", "http://localhost.evil.example:8080"])
async def test_a_foreign_preflight_is_refused(twin: Twin, origin: str):
    response = await twin.client.options("/__twin/reset", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://app.localhost:8080",
                                    "http://[::1]:4200"])
async def test_same_site_pages_may_use_the_control_api(twin: Twin, origin: str):
    preflight = await twin.client.options("/__twin/login", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Origin"] == origin
    response = await twin.client.post("/__twin/login", json={"project": "tutorhub", "persona": "admin"},
                                      headers={"Origin": origin})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert (await response.json())["token"]


async def test_a_configured_frontend_origin_is_same_site(make_twin: Any):
    twin = await make_twin(TUTORHUB, settings={"control_origins": ["https://dev.example.com:8443"]})
    response = await twin.client.get("/__twin/personas", headers={"Origin": "https://dev.example.com:8443"})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://dev.example.com:8443"
    refused = await twin.client.get("/__twin/personas", headers={"Origin": "https://dev.example.com"})
    assert refused.status == 403


@pytest.mark.parametrize("headers", [{"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"},
                                     {"Content-Type": "multipart/form-data; boundary=x"}, {}])
async def test_a_change_without_json_is_refused_even_without_an_origin(twin: Twin, headers: dict[str, str]):
    response = await twin.client.post("/__twin/reset", data=b"{}" if headers else None, headers=headers)
    assert response.status == 415
    assert (await response.json())["message"] == "errMsg_controlNeedsJsonContentType"
    assert len(await payments(twin)) == 1


async def test_methods_a_browser_always_preflights_need_no_json_header(twin: Twin):
    await twin.client.post("/__twin/faults", json={"path": "*/v1/enrollments*", "count": 1})
    response = await twin.client.delete("/__twin/faults")
    assert response.status == 200
    assert (await response.json())["faults"] == []


async def test_a_change_with_a_preflighted_header_is_accepted(twin: Twin):
    response = await twin.client.post("/__twin/reset", headers={"X-Requested-With": "fetch"})
    assert response.status == 200
    assert await payments(twin) == []


async def test_the_fake_stripes_control_api_is_guarded_too(twin: Twin):
    response = await twin.client.post("/__twin/stripe/reset", data="{}",
                                      headers={"Origin": EVIL, "Content-Type": "text/plain"})
    assert response.status == 403
    response = await twin.client.post("/__twin/stripe/reset", data="{}", headers={"Content-Type": "text/plain"})
    assert response.status == 415


async def test_a_foreign_host_name_is_refused_against_dns_rebinding(twin: Twin):
    response = await twin.client.get("/__twin/personas", headers={"Host": "evil.example:8080"})
    assert response.status == 403
    assert (await response.json())["message"] == "errMsg_controlHostNotAllowed"
    for host in ("localhost:8080", "127.0.0.1", "twin.localhost"):
        assert (await twin.client.get("/__twin/personas", headers={"Host": host})).status == 200


async def test_a_control_token_is_required_when_configured(make_twin: Any):
    twin = await make_twin(TUTORHUB, settings={"control_token": "s3cret-control"})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-control"}):
        response = await twin.client.get("/__twin/personas", headers=headers)
        assert response.status == 401
        assert (await response.json())["message"] == "errMsg_controlTokenRequired"
    assert (await twin.client.get("/__twin/stripe/events")).status == 401
    good = {"Authorization": "Bearer s3cret-control"}
    response = await twin.client.get("/__twin/personas", headers=good)
    assert response.status == 200
    token = next(p["token"] for p in (await response.json())["personas"] if p["name"] == "admin")
    # The service routes still take the personas' own tokens.
    response = await twin.client.get(f"{BASE}/enrollmentpayments", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    # With the token, a foreign Host is no risk (a rebinding page cannot know the token).
    response = await twin.client.get("/__twin/services", headers={**good, "Host": "twin.internal:8080"})
    assert response.status == 200


async def test_the_jwt_secret_is_the_users_own(make_twin: Any):
    twin = await make_twin(TUTORHUB, settings={"jwt_secret": "my-own-signing-secret-of-32-bytes!"})
    admin = twin.persona(*ADMIN)
    claims = jwt.decode(admin["token"], "my-own-signing-secret-of-32-bytes!", algorithms=["HS256"])
    assert claims["role"] == "admin"
    assert (await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN))[0] == 200
    minted = jwt.encode({**claims, "role": "admin"}, DEFAULT_SECRET, algorithm="HS256")
    response = await twin.client.get(f"{BASE}/enrollmentpayments", headers={"Authorization": f"Bearer {minted}"})
    assert response.status == 401
