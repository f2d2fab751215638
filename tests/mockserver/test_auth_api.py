"""The projects' auth API (`/auth-api`): login, sessions, cookies, currentuser, logout, tenants,
registration and user listing from an auth guide, the project named by the Host, CORS.

Requests name the project as a browser on `http://<project>.localhost:<port>` does: by Host."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from twin_testing import TUTORHUB, WORKFORCEOS, Twin

TUTORHUB_HOST = "tutorhub.localhost"
WORKFORCE_HOST = "workforceos.localhost"
ENROLLMENTS = "/enrollmentmanagement-api/v1/enrollmentpayments"
SUBSCRIPTIONS = "/subscriptionmanagement-api/v1/companysubscriptions"
TENANT_HEADER = "mbx-company-codename"

MakeTwin = Callable[..., Awaitable[Twin]]


async def send(twin: Twin, method: str, path: str, host: str | None = None, *, token: str | None = None,
               cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None,
               **kwargs: Any) -> tuple[int, Any, Any]:
    """One request as a browser on `host` sends it: status, JSON body and the response."""
    sent = dict(headers or {})
    if host:
        sent["Host"] = f"{host}:{twin.client.port}"
    if token:
        sent["Authorization"] = f"Bearer {token}"
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    twin.client.session.cookie_jar.clear()  # the test says which cookies go, not the client's jar
    response = await twin.client.request(method, path, headers=sent, **kwargs)
    return response.status, await response.json(), response


async def login(twin: Twin, host: str, body: dict[str, Any], **kwargs: Any) -> tuple[int, Any, Any]:
    return await send(twin, "POST", "/auth-api/login", host, json=body, **kwargs)


def credentials(twin: Twin, project: str, name: str) -> dict[str, str]:
    persona = twin.persona(project, name)
    return {"username": persona["email"], "password": persona["password"]}


@pytest.fixture
async def tutorhub(make_twin: MakeTwin) -> Twin:
    return await make_twin(TUTORHUB, WORKFORCEOS)


# -- login, currentuser, logout ------------------------------------------------------------------
async def test_every_persona_has_a_password_in_the_control_api(tutorhub: Twin):
    passwords = {p["name"]: p["password"] for p in tutorhub.personas.values() if p["project"] == "tutorhub"}
    assert passwords["student1"] == "Twin-student1-1" and all(passwords.values())


async def test_login_with_email_and_password_answers_the_session_and_sets_the_cookie(tutorhub: Twin):
    persona = tutorhub.persona("tutorhub", "student1")
    status, session, response = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    assert status == 200, session
    assert session["userId"] == persona["userId"] and session["email"] == persona["email"]
    assert session["roleId"] == "student" and session["fullname"] == persona["fullname"]
    assert session["sessionId"] and session["accessToken"] and "id" not in session
    assert (session["sessionNeedsEmail2FA"], session["sessionNeedsMobile2FA"]) == (False, False)
    assert response.cookies["tutorhub-access-token"].value == session["accessToken"]
    assert response.cookies["tutorhub-access-token"]["httponly"] is True
    assert response.headers["tutorhub-access-token"] == session["accessToken"]


async def test_username_may_be_the_persona_name_and_wins_over_email(tutorhub: Twin):
    body = {"username": "tutor1", "email": "nobody@example.test", "password": "Twin-tutor1-1"}
    status, session, _ = await login(tutorhub, TUTORHUB_HOST, body)
    assert status == 200 and session["roleId"] == "tutor", session
    status, session, _ = await login(tutorhub, TUTORHUB_HOST, {"email": "tutor1@tutorhub.twin.test",
                                                                "password": "Twin-tutor1-1"})
    assert status == 200, session


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"password": "Twin-student1-1"}, 400, "errMsg_usernameIsRequired"),
    ({"username": "student1"}, 400, "errMsg_passwordIsRequired"),
    ({"username": "student1", "password": 12}, 400, "errMsg_credentialsMustBeStrings"),
    ({"username": "student1", "password": "wrong"}, 401, "errMsg_invalidCredentials"),
    ({"username": "nobody@tutorhub.twin.test", "password": "Twin-student1-1"}, 401, "errMsg_invalidCredentials"),
])
async def test_bad_credentials_are_refused_in_the_error_envelope(tutorhub: Twin, body: dict[str, Any], status: int,
                                                                 message: str):
    got, answer, response = await login(tutorhub, TUTORHUB_HOST, body)
    assert (got, answer["result"], answer["message"], answer["errCode"]) == (status, "ERR", message, status), answer
    assert "tutorhub-access-token" not in response.cookies


async def test_a_body_that_is_not_json_is_a_400(tutorhub: Twin):
    status, answer, _ = await send(tutorhub, "POST", "/auth-api/login", TUTORHUB_HOST, data=b"{oops",
                                   headers={"Content-Type": "application/json"})
    assert status == 400 and answer["message"] == "errMsg_invalidJsonBody", answer


async def test_currentuser_answers_the_session_by_token_or_by_cookie(tutorhub: Twin):
    _, session, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    token = session["accessToken"]
    for how in ({"token": token}, {"cookies": {"tutorhub-access-token": token}}):
        status, current, _ = await send(tutorhub, "GET", "/auth-api/currentuser", TUTORHUB_HOST, **how)
        assert status == 200 and current == session, (how, current)


async def test_currentuser_without_a_session_is_no_login_found(tutorhub: Twin):
    for how in ({}, {"token": "not-a-jwt"}, {"cookies": {"tutorhub-access-token": "forged"}}):
        status, answer, _ = await send(tutorhub, "GET", "/auth-api/currentuser", TUTORHUB_HOST, **how)
        assert (status, answer) == (401, {"status": "ERR", "message": "No login found"}), how


async def test_the_token_and_the_cookie_each_open_a_service_call(tutorhub: Twin):
    _, session, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    for how in ({"token": session["accessToken"]}, {"cookies": {"tutorhub-access-token": session["accessToken"]}}):
        status, answer, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST, **how)
        assert status == 200 and answer["userId"] == session["userId"], (how, answer)
        assert answer["sessionId"] == session["sessionId"]
    status, answer, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST)
    assert status == 401, answer


async def test_a_bearer_header_wins_over_the_cookie(tutorhub: Twin):
    _, student, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    _, tutor, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "tutor1"))
    status, answer, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST, token=tutor["accessToken"],
                                   cookies={"tutorhub-access-token": student["accessToken"]})
    assert status == 200 and answer["userId"] == tutor["userId"], answer


async def test_after_logout_the_token_and_the_cookie_are_refused(tutorhub: Twin):
    _, session, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    token, cookie = session["accessToken"], {"tutorhub-access-token": session["accessToken"]}
    status, _, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST, cookies=cookie)
    assert status == 200

    status, answer, response = await send(tutorhub, "POST", "/auth-api/logout", TUTORHUB_HOST, cookies=cookie)
    assert (status, answer) == (200, {"status": "OK", "message": "User logged out successfully"})
    assert response.cookies["tutorhub-access-token"]["max-age"] == "0"
    for how in ({"token": token}, {"cookies": cookie}):
        status, answer, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST, **how)
        assert (status, answer["message"]) == (401, "errMsg_sessionNotFound"), (how, answer)
        status, answer, _ = await send(tutorhub, "GET", "/auth-api/currentuser", TUTORHUB_HOST, **how)
        assert (status, answer) == (401, {"status": "ERR", "message": "No login found"}), how


async def test_logout_is_idempotent(tutorhub: Twin):
    _, session, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    for how in ({"token": session["accessToken"]}, {"token": session["accessToken"]}, {}, {"token": "garbage"}):
        status, answer, _ = await send(tutorhub, "POST", "/auth-api/logout", TUTORHUB_HOST, **how)
        assert (status, answer["status"]) == (200, "OK"), how


async def test_logging_out_one_session_leaves_the_others_and_persona_tokens(tutorhub: Twin):
    _, first, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    _, second, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    assert first["sessionId"] != second["sessionId"]
    await send(tutorhub, "POST", "/auth-api/logout", TUTORHUB_HOST, token=first["accessToken"])
    status, _, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST, token=second["accessToken"])
    assert status == 200
    persona_token = tutorhub.persona("tutorhub", "student1")["token"]
    status, current, _ = await send(tutorhub, "GET", "/auth-api/currentuser", TUTORHUB_HOST, token=persona_token)
    assert status == 200 and current["userId"] == first["userId"] and current["accessToken"] == persona_token


async def test_a_reset_ends_every_session(tutorhub: Twin):
    _, session, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    status, _ = await tutorhub.call("POST", "/__twin/reset", json={})
    assert status == 200
    status, answer, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST, token=session["accessToken"])
    assert status == 401, answer


async def test_a_token_of_a_session_a_reset_ended_stays_refused_whoever_logs_in_next(tutorhub: Twin):
    # The ids of new sessions go on after a reset: none is the id of a session that ended.
    _, old, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    for _ in range(2):
        await tutorhub.call("POST", "/__twin/reset", json={})
        _, new, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "admin"))
        assert new["sessionId"] != old["sessionId"]
        status, answer, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST, token=old["accessToken"])
        assert (status, answer["message"]) == (401, "errMsg_sessionNotFound"), answer


async def test_a_cookie_read_is_never_replayed_to_an_anonymous_caller(tutorhub: Twin):
    _, session, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    status, _, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST,
                              cookies={"tutorhub-access-token": session["accessToken"]})
    assert status == 200
    status, answer, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST)
    assert status == 401, answer


async def test_sessions_survive_a_state_dump_and_restore(tutorhub: Twin):
    _, session, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    _, dump = await tutorhub.call("GET", "/__twin/state")
    await tutorhub.call("POST", "/__twin/reset", json={})
    status, _ = await tutorhub.call("PUT", "/__twin/state", json=dump)
    assert status == 200
    status, current, _ = await send(tutorhub, "GET", "/auth-api/currentuser", TUTORHUB_HOST,
                                    token=session["accessToken"])
    assert status == 200 and current["sessionId"] == session["sessionId"], current


# -- which project answers -----------------------------------------------------------------------
async def test_the_host_names_the_project(tutorhub: Twin):
    status, session, response = await login(tutorhub, WORKFORCE_HOST, credentials(tutorhub, "workforceos", "superadmin"))
    assert status == 200 and session["roleId"] == "superAdmin", session
    assert "workforceos-access-token" in response.cookies
    # A tutorhub user is no user of workforceos.
    status, answer, _ = await login(tutorhub, WORKFORCE_HOST, credentials(tutorhub, "tutorhub", "student1"))
    assert status == 401, answer
    status, answer, _ = await login(tutorhub, "nosuch.localhost", credentials(tutorhub, "tutorhub", "student1"))
    assert (status, answer["message"]) == (404, "errMsg_projectNotFound"), answer


async def test_the_bare_address_needs_a_project_host_when_several_projects_are_served(tutorhub: Twin):
    status, answer, _ = await login(tutorhub, None, credentials(tutorhub, "tutorhub", "student1"))
    assert (status, answer["message"]) == (404, "errMsg_projectHostRequired"), answer
    assert "tutorhub.localhost" in answer["detail"]


async def test_the_bare_address_serves_the_only_project(make_twin: MakeTwin):
    twin = await make_twin(TUTORHUB)
    status, session, _ = await login(twin, None, credentials(twin, "tutorhub", "student1"))
    assert status == 200, session
    status, _, _ = await send(twin, "GET", ENROLLMENTS, None, cookies={"tutorhub-access-token": session["accessToken"]})
    assert status == 200


# -- tenants -------------------------------------------------------------------------------------
async def test_a_tenant_user_logs_in_to_its_tenant_and_the_cookie_carries_the_codename(tutorhub: Twin):
    owner = tutorhub.persona("workforceos", "babil-owner")
    status, session, response = await login(tutorhub, WORKFORCE_HOST, credentials(tutorhub, "workforceos", "babil-owner"),
                                             headers={TENANT_HEADER: "babil"})
    assert status == 200, session
    assert (session["tenantCodename"], session["companyCodename"]) == ("babil", "babil")
    assert session["companyId"] == session["tenantId"] == owner["companyId"]
    assert response.cookies["workforceos-access-token-babil"].value == session["accessToken"]
    cookie = {"workforceos-access-token-babil": session["accessToken"]}
    status, answer, _ = await send(tutorhub, "GET", SUBSCRIPTIONS, WORKFORCE_HOST, cookies=cookie,
                                   headers={TENANT_HEADER: "babil"})
    assert status == 200 and answer["userId"] == owner["userId"], answer
    status, current, _ = await send(tutorhub, "GET", "/auth-api/currentuser", WORKFORCE_HOST, cookies=cookie,
                                    headers={TENANT_HEADER: "babil"})
    assert status == 200 and current["sessionId"] == session["sessionId"]


async def test_a_tenant_user_is_not_a_user_of_the_root_or_another_tenant(tutorhub: Twin):
    body = credentials(tutorhub, "workforceos", "babil-owner")
    status, answer, _ = await login(tutorhub, WORKFORCE_HOST, body)
    assert status == 401 and f"{TENANT_HEADER}: babil" in answer["detail"], answer
    status, answer, _ = await login(tutorhub, WORKFORCE_HOST, body, headers={TENANT_HEADER: "acme"})
    assert status == 401, answer
    status, answer, _ = await login(tutorhub, WORKFORCE_HOST, body, headers={TENANT_HEADER: "nosuch"})
    assert (status, answer["message"]) == (404, "errMsg_tenantNotFound"), answer


async def test_a_platform_user_logged_in_at_the_root_acts_for_a_tenant_with_the_root_cookie(tutorhub: Twin):
    status, session, response = await login(tutorhub, WORKFORCE_HOST, credentials(tutorhub, "workforceos", "superadmin"),
                                             headers={TENANT_HEADER: "root"})
    assert status == 200 and session["tenantCodename"] == "root" and session["companyId"] is None, session
    cookie = {"workforceos-access-token": response.cookies["workforceos-access-token"].value}
    status, answer, _ = await send(tutorhub, "GET", SUBSCRIPTIONS, WORKFORCE_HOST, cookies=cookie,
                                   headers={TENANT_HEADER: "acme"})
    assert status == 200, answer


# -- CORS ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://tutorhub.localhost:3000", "http://127.0.0.1:4200",
                                    "http://[::1]:8000"])
async def test_a_loopback_dev_server_may_log_in_with_credentials(tutorhub: Twin, origin: str):
    response = await tutorhub.client.options("/auth-api/login", headers={
        "Host": f"{TUTORHUB_HOST}:{tutorhub.client.port}", "Origin": origin,
        "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    status, _, response = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"),
                                      headers={"Origin": origin})
    assert status == 200 and response.headers["Access-Control-Allow-Origin"] == origin
    assert "tutorhub-access-token" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost.evil.example", "null"])
async def test_a_foreign_page_gets_no_cors_grant(tutorhub: Twin, origin: str):
    for response in (
        await tutorhub.client.options(ENROLLMENTS, headers={"Origin": origin, "Access-Control-Request-Method": "GET"}),
        await tutorhub.client.get(ENROLLMENTS, headers={"Origin": origin}),
    ):
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Credentials" not in response.headers


async def test_more_origins_are_allowed_by_configuration(make_twin: MakeTwin):
    twin = await make_twin(TUTORHUB, settings={"cors_origins": ["https://*.example.test", "https://app.example.org"]})
    for origin, allowed in (("https://web.example.test", True), ("https://app.example.org", True),
                            ("https://example.test", False), ("http://web.example.test", False)):
        response = await twin.client.get(ENROLLMENTS, headers={"Origin": origin})
        assert (response.headers.get("Access-Control-Allow-Origin") == origin) is allowed, origin


# -- an auth guide: registration and user listing ------------------------------------------------
AUTH_GUIDE = """
# **WORKFORCEOS**

**FRONTEND GUIDE FOR AI CODING AGENTS - PART 1 - Authentication Management**

This document is the first part of a REST API guide for the workforceos project.

## Multi-Tenancy Management

**THIS APPLICATION IS MULTI-TENANT**

This application is multi-tenant. Tenant data is isolated per `company`, and tenant-level records are attached to `companyId`.

```js
headers["mbx-company-codename"] = tenantCodenameFromUrl;
```

The sample company has codename `babil`.

## Registration Management

### Tenant -`company`- User Registration

User registration for company tenants is public in the application.

This api should be called as targeting an existing `company`, so don't forget to attach the `company` codename.

### `Register Companyuser` API
This route is used by public users to register themselves to tenants.

**Rest Route**

The `registerCompanyUser` API REST controller can be triggered via the following route:

`/v1/registercompanyuser`

| Parameter              | Type                   | Required | Population                   |
| ---------------------- | ---------------------- | -------- | ---------------------------- |
| password  | String  | true | request.body?.["password"] |
| email  | String  | true | request.body?.["email"] |
| fullname  | String  | true | request.body?.["fullname"] |
| avatar  | String  | false | request.body?.["avatar"] |

To access the api you can use the **REST** controller with the path **POST  /v1/registercompanyuser**

## Login Management
"""
REGISTER = "/auth-api/v1/registercompanyuser"


@pytest.fixture
async def with_guide(make_twin: MakeTwin, tmp_path: Path) -> Twin:
    guide = tmp_path / "workforceos-authmanagement.md"
    guide.write_text(AUTH_GUIDE)
    return await make_twin(WORKFORCEOS, auth_guides=[guide])


async def test_a_public_registration_of_the_guide_makes_a_user_who_can_log_in(with_guide: Twin):
    body = {"email": "new.hire@babil.example", "password": "Hire-me-1", "fullname": "New Hire"}
    status, answer, _ = await send(with_guide, "POST", REGISTER, WORKFORCE_HOST, json=body,
                                   headers={TENANT_HEADER: "babil"})
    assert status == 201 and answer["dataName"] == "user", answer
    user = answer["user"]
    assert (user["email"], user["fullname"], user["roleId"]) == ("new.hire@babil.example", "New Hire", "tenantUser")
    assert user["id"] and user["password"] != "Hire-me-1"
    status, session, response = await login(with_guide, WORKFORCE_HOST, {"email": body["email"], "password": "Hire-me-1"},
                                            headers={TENANT_HEADER: "babil"})
    assert status == 200 and session["userId"] == user["id"], session
    assert "workforceos-access-token-babil" in response.cookies
    _, personas = await with_guide.call("GET", "/__twin/personas", params={"project": "workforceos"})
    assert any(p["email"] == body["email"] and p["tenant"] == "babil" for p in personas["personas"])
    # Registered again in the same company: refused.
    status, answer, _ = await send(with_guide, "POST", REGISTER, WORKFORCE_HOST, json=body,
                                   headers={TENANT_HEADER: "babil"})
    assert (status, answer["message"]) == (400, "errMsg_emailAlreadyRegistered"), answer


@pytest.mark.parametrize(("body", "headers", "message"), [
    ({"email": "a@b.example", "fullname": "A"}, {TENANT_HEADER: "babil"}, "errMsg_passwordisRequired"),
    ({"email": "a@b.example", "password": "x", "fullname": 3}, {TENANT_HEADER: "babil"}, "errMsg_fullnameisNotAString"),
    ({"email": "a@b.example", "password": "x", "fullname": "A"}, {}, "errMsg_tenantCodenameIsRequired"),
])
async def test_a_registration_missing_what_the_guide_requires_is_a_400(with_guide: Twin, body: dict[str, Any],
                                                                        headers: dict[str, str], message: str):
    status, answer, _ = await send(with_guide, "POST", REGISTER, WORKFORCE_HOST, json=body, headers=headers)
    assert (status, answer["message"]) == (400, message), answer


async def test_without_a_guide_there_is_no_registration(tutorhub: Twin):
    status, answer, _ = await send(tutorhub, "POST", REGISTER, WORKFORCE_HOST, json={})
    assert status == 404, answer


async def test_admins_list_their_tenants_users(tutorhub: Twin):
    _, owner, _ = await login(tutorhub, WORKFORCE_HOST, credentials(tutorhub, "workforceos", "babil-owner"),
                              headers={TENANT_HEADER: "babil"})
    status, answer, _ = await send(tutorhub, "GET", "/auth-api/v1/users", WORKFORCE_HOST, token=owner["accessToken"])
    assert status == 200 and answer["dataName"] == "users", answer
    babil = {p["userId"] for p in tutorhub.personas.values() if p.get("tenant") == "babil"}
    assert {u["id"] for u in answer["users"]} == babil and answer["paging"]["totalRowCount"] == len(babil)
    _, user, _ = await login(tutorhub, WORKFORCE_HOST, credentials(tutorhub, "workforceos", "babil-user"),
                             headers={TENANT_HEADER: "babil"})
    status, answer, _ = await send(tutorhub, "GET", "/auth-api/v1/users", WORKFORCE_HOST, token=user["accessToken"])
    assert status == 403, answer
    status, answer, _ = await send(tutorhub, "GET", "/auth-api/v1/users", WORKFORCE_HOST)
    assert status == 401, answer


# -- verification stubs --------------------------------------------------------------------------
VERIFY = "/auth-api/verification-services"


async def test_a_registered_user_verifies_the_email_with_the_code_the_start_answers(with_guide: Twin):
    babil = {TENANT_HEADER: "babil"}
    body = {"email": "verify.me@babil.example", "password": "Verify-me-1", "fullname": "Verify Me"}
    status, registered, _ = await send(with_guide, "POST", REGISTER, WORKFORCE_HOST, json=body, headers=babil)
    assert status == 201 and registered["user"]["emailVerified"] is False, registered

    status, started, _ = await send(with_guide, "POST", f"{VERIFY}/email-verification/start", WORKFORCE_HOST,
                                    json={"email": body["email"]}, headers=babil)
    assert status == 200 and started["status"] == "OK", started
    assert len(started["secretCode"]) == 6 and started["codeIndex"] >= 1
    assert started["userId"] == registered["user"]["id"]
    status, answer, _ = await send(with_guide, "POST", f"{VERIFY}/email-verification/complete", WORKFORCE_HOST,
                                   json={"email": body["email"], "secretCode": "000000"
                                         if started["secretCode"] != "000000" else "111111"}, headers=babil)
    assert (status, answer["message"]) == (403, "errMsg_secretCodeMismatch"), answer
    status, answer, _ = await send(with_guide, "POST", f"{VERIFY}/email-verification/complete", WORKFORCE_HOST,
                                   json={"email": body["email"], "secretCode": started["secretCode"]}, headers=babil)
    assert status == 200 and answer["isVerified"] is True, answer
    _, session, _ = await login(with_guide, WORKFORCE_HOST, {"email": body["email"], "password": body["password"]},
                                headers=babil)
    assert session["emailVerified"] is True
    # Verified now: a second start is refused, a second complete has nothing to complete.
    status, answer, _ = await send(with_guide, "POST", f"{VERIFY}/email-verification/start", WORKFORCE_HOST,
                                   json={"email": body["email"]}, headers=babil)
    assert (status, answer["message"]) == (400, "errMsg_emailAlreadyVerified"), answer
    status, answer, _ = await send(with_guide, "POST", f"{VERIFY}/email-verification/complete", WORKFORCE_HOST,
                                   json={"email": body["email"], "secretCode": started["secretCode"]}, headers=babil)
    assert (status, answer["message"]) == (404, "errMsg_noVerificationInProgress"), answer


async def test_a_password_reset_by_email_changes_the_password_until_the_next_reset(tutorhub: Twin):
    student = tutorhub.persona("tutorhub", "student1")
    status, started, _ = await send(tutorhub, "POST", f"{VERIFY}/password-reset-by-email/start", TUTORHUB_HOST,
                                    json={"email": student["email"]})
    assert status == 200, started
    status, answer, _ = await send(tutorhub, "POST", f"{VERIFY}/password-reset-by-email/complete", TUTORHUB_HOST,
                                   json={"email": student["email"], "secretCode": started["secretCode"],
                                         "password": "New-secret-2"})
    assert status == 200 and answer["userId"] == student["userId"], answer
    status, _, _ = await login(tutorhub, TUTORHUB_HOST, {"email": student["email"], "password": student["password"]})
    assert status == 401
    status, _, _ = await login(tutorhub, TUTORHUB_HOST, {"email": student["email"], "password": "New-secret-2"})
    assert status == 200
    _, personas = await tutorhub.call("GET", "/__twin/personas", params={"project": "tutorhub"})
    assert next(p for p in personas["personas"] if p["name"] == "student1")["password"] == "New-secret-2"

    _, dump = await tutorhub.call("GET", "/__twin/state")
    await tutorhub.call("POST", "/__twin/reset", json={})
    status, _, _ = await login(tutorhub, TUTORHUB_HOST, {"email": student["email"], "password": student["password"]})
    assert status == 200
    await tutorhub.call("PUT", "/__twin/state", json=dump)
    status, _, _ = await login(tutorhub, TUTORHUB_HOST, {"email": student["email"], "password": "New-secret-2"})
    assert status == 200


async def test_a_verification_for_an_unknown_email_is_refused(tutorhub: Twin):
    status, answer, _ = await send(tutorhub, "POST", f"{VERIFY}/password-reset-by-email/start", TUTORHUB_HOST,
                                   json={"email": "nobody@tutorhub.twin.test"})
    assert (status, answer["message"]) == (401, "errMsg_userNotFound"), answer
    status, answer, _ = await send(tutorhub, "POST", f"{VERIFY}/password-reset-by-email/start", TUTORHUB_HOST, json={})
    assert (status, answer["message"]) == (400, "errMsg_emailIsRequired"), answer


@pytest.mark.parametrize(("host", "project"), [
    ("tutorhub.localhost:8080", "tutorhub"), ("TUTORHUB.localhost", "tutorhub"), ("tutorhub.localhost.:80", "tutorhub"),
    ("babil.workforceos.localhost:8080", "workforceos"),  # a tenant subdomain in front of the project's host
])
def test_the_project_host_is_read_case_blind_with_or_without_port(host: str, project: str):
    from mockserver.authbase import project_for_host

    assert project_for_host(host, {"tutorhub": 1, "workforceos": 2}) == project


async def test_a_foreign_page_cannot_act_with_the_session_cookie(tutorhub: Twin):
    _, session, _ = await login(tutorhub, TUTORHUB_HOST, credentials(tutorhub, "tutorhub", "student1"))
    cookie = {"tutorhub-access-token": session["accessToken"]}
    # A form post from another site: the browser attaches the cookie; the twin refuses to act on it.
    status, answer, _ = await send(tutorhub, "POST", ENROLLMENTS.removesuffix("s"), TUTORHUB_HOST, cookies=cookie,
                                   headers={"Origin": "https://evil.example", "Content-Type": "text/plain"},
                                   data=b'{"orderId": "x"}')
    assert (status, answer["message"]) == (403, "errMsg_crossSiteRequestRefused"), answer
    # Reads, allowed origins and Bearer tokens are not affected (the student reaches the role check).
    status, _, _ = await send(tutorhub, "GET", ENROLLMENTS, TUTORHUB_HOST, cookies=cookie,
                              headers={"Origin": "https://evil.example"})
    assert status == 200
    status, answer, _ = await send(tutorhub, "POST", ENROLLMENTS.removesuffix("s"), TUTORHUB_HOST, cookies=cookie,
                                   headers={"Origin": "http://localhost:5173"}, json={})
    assert (status, answer["message"]) == (403, "errMsg_roleNotAllowed"), answer
    status, answer, _ = await send(tutorhub, "POST", ENROLLMENTS.removesuffix("s"), TUTORHUB_HOST,
                                   token=session["accessToken"], headers={"Origin": "https://evil.example"}, json={})
    assert (status, answer["message"]) == (403, "errMsg_roleNotAllowed"), answer
