"""Errors in the user's words and the rules that used to surprise (issue 18), through HTTP.

Each error names what is wrong in a client developer's terms — the allowed values, the field, the
project — inside the guides' error envelope; each rule is the one docs/twin.md documents.
"""

from __future__ import annotations

import time
import uuid

import jwt
from twin_testing import AIRBNB, TUTORHUB

from mockserver.identity import DEFAULT_SECRET

BASE = "/enrollmentmanagement-api/v1"
ADMIN = ("tutorhub", "admin")
ERROR_KEYS = ["result", "status", "message", "errCode", "date", "detail"]


def payment(**overrides: object) -> dict[str, object]:
    return {"orderId": str(uuid.uuid4()), "paymentId": "pi_words", "paymentStatus": "succeeded", "statusLiteral": "paid",
            **overrides}


def claims(**overrides: object) -> dict[str, object]:
    return {"userId": str(uuid.uuid4()), "role": "admin", "project": "tutorhub", **overrides}


# -- errors in the user's words ------------------------------------------------------------------
async def test_an_unknown_enum_filter_option_lists_the_allowed_values_not_a_regex(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("GET", f"{BASE}/enrollments?paymentConfirmation=bogus", as_=ADMIN)
    assert status == 400 and list(body) == ERROR_KEYS
    assert body["message"] == "errMsg_paymentConfirmationisNotAValidEnumOption"
    assert body["detail"] == ("paymentConfirmation must be one of: pending, processing, paid, canceled "
                              "(any letter case), or null (unset); got 'bogus'")


async def test_id_and_date_filters_say_what_they_take(make_twin):
    twin = await make_twin(AIRBNB)
    admin = ("airbnb", "admin")
    status, body = await twin.call("GET", "/bookingmanagement-api/v1/reservations?guestId=42", as_=admin)
    assert (status, body["message"]) == (400, "errMsg_guestIdisNotAValidID")
    assert body["detail"] == "guestId must be a UUID, or null (unset); got '42'"
    status, body = await twin.call("GET", "/bookingmanagement-api/v1/reservations?checkIn=soon", as_=admin)
    assert (status, body["message"]) == (400, "errMsg_checkInisNotAValidDate")
    assert "$today" in body["detail"] and "2024-01-15" in body["detail"] and body["detail"].endswith("got 'soon'")
    assert "^" not in body["detail"]


async def test_an_unknown_enum_option_in_a_body_lists_the_options_and_the_value(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment(orderId="x"))
    assert (status, body["message"], body["detail"]) == (400, "errMsg_orderIdisNotAValidID", "orderId must be a UUID; got 'x'")


async def bearer(twin, token: str) -> dict:  # type: ignore[no-untyped-def]
    status, body = await twin.call("GET", f"{BASE}/enrollmentpayments", headers={"Authorization": f"Bearer {token}"})
    assert status == 401 and list(body) == ERROR_KEYS
    return body


async def test_token_errors_say_what_is_wrong_with_the_token(make_twin):
    twin = await make_twin(TUTORHUB)
    for malformed in ("abc", "x.y.z"):
        body = await bearer(twin, malformed)
        assert body["message"] == "errMsg_invalidToken"
        assert body["detail"].startswith("the token is malformed: a JWT is three base64url parts")
    forged = jwt.encode(claims(), "another-secret-of-at-least-thirty-two-bytes", algorithm="HS256")
    assert "signature is wrong" in (await bearer(twin, forged))["detail"]
    expired = jwt.encode(claims(exp=int(time.time()) - 60), DEFAULT_SECRET, algorithm="HS256")
    assert (await bearer(twin, expired))["detail"].startswith("the token has expired")
    no_user = jwt.encode({"role": "admin", "project": "tutorhub"}, DEFAULT_SECRET, algorithm="HS256")
    assert "lacks the claim 'userId'" in (await bearer(twin, no_user))["detail"]
    for body in [await bearer(twin, t) for t in ("abc", forged, expired)]:
        assert "Not enough segments" not in body["detail"] and "padding" not in body["detail"]


async def test_a_token_of_another_project_names_both_projects(make_twin):
    twin = await make_twin()
    status, body = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=("airbnb", "admin"))
    assert (status, body["message"]) == (401, "errMsg_tokenIsForAnotherProject")
    assert body["detail"] == ("this token was issued for project 'airbnb', this service belongs to 'tutorhub': "
                              "log in to 'tutorhub' (POST /__twin/login)")


async def test_login_to_an_unknown_project_names_it_and_the_known_ones(make_twin):
    twin = await make_twin()
    status, body = await twin.call("POST", "/__twin/login", json={"project": "bogus", "persona": "admin"})
    assert (status, body["message"]) == (404, "errMsg_projectNotFound") and list(body) == ERROR_KEYS
    assert body["detail"] == "no project 'bogus'; the twin serves: airbnb, tutorhub, workforceos"


async def test_login_as_an_unknown_persona_lists_the_projects_personas(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("POST", "/__twin/login", json={"project": "tutorhub", "persona": "nobody"})
    assert (status, body["message"]) == (404, "errMsg_personaNotFound")
    assert body["detail"].startswith("no persona 'nobody' in project 'tutorhub'; its personas: admin, student1")


async def test_personas_of_an_unknown_project_is_a_404_not_an_empty_list(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("GET", "/__twin/personas?project=bogus")
    assert (status, body["message"]) == (404, "errMsg_projectNotFound")
    assert body["detail"] == "no project 'bogus'; the twin serves: tutorhub"
    status, body = await twin.call("GET", "/__twin/personas?project=tutorhub")
    assert status == 200 and body["personas"]


# -- the rules -----------------------------------------------------------------------------------
async def seed_enrollment(twin, tutor_profile: str | None = str(uuid.UUID(int=99))) -> dict:  # type: ignore[no-untyped-def]
    """One enrollment in the table, inserted through the control API (no business rules)."""
    status, _ = await twin.call("POST", "/__twin/records/tutorhub-enrollmentmanagement/enrollment", json={"records": [{
        "coursePackId": str(uuid.uuid4()), "studentId": twin.persona("tutorhub", "student1")["userId"],
        "tutorProfileId": tutor_profile, "enrollmentStatus": "active", "paymentConfirmation": "paid",
    }]})
    assert status == 200
    _, body = await twin.call("GET", f"{BASE}/enrollments", as_=ADMIN)
    return body["enrollments"][-1]


async def test_null_on_an_id_parameter_of_a_list_matches_unset_and_is_echoed(make_twin):
    twin = await make_twin(TUTORHUB)
    await seed_enrollment(twin)
    unset = await seed_enrollment(twin, None)
    assert unset["tutorProfileId"] is None
    status, body = await twin.call("GET", f"{BASE}/enrollments?tutorProfileId=null", as_=ADMIN)
    assert status == 200 and body["filters"] == [{"name": "tutorProfileId", "values": ["null"]}]
    assert [e["id"] for e in body["enrollments"]] == [unset["id"]]


async def test_an_id_parameter_of_a_list_is_applied_and_echoed_like_a_declared_filter(make_twin):
    twin = await make_twin(TUTORHUB)
    seeded = await seed_enrollment(twin)
    profile = seeded["tutorProfileId"]
    status, body = await twin.call("GET", f"{BASE}/enrollments?tutorProfileId={profile}&paymentConfirmation=PAID", as_=ADMIN)
    assert status == 200 and [e["id"] for e in body["enrollments"]] == [seeded["id"]]
    assert body["filters"] == [{"name": "tutorProfileId", "values": [profile]},
                               {"name": "paymentConfirmation", "values": ["PAID"]}]
    _, other = await twin.call("GET", f"{BASE}/enrollments?tutorProfileId={uuid.uuid4()}", as_=ADMIN)
    assert other["enrollments"] == []


async def test_query_parameters_the_guide_does_not_declare_are_ignored_and_echoed_as_ignored(make_twin):
    twin = await make_twin(TUTORHUB)
    await seed_enrollment(twin)
    status, body = await twin.call("GET", f"{BASE}/enrollments?enrollmentStatus=bogus&isActive=maybe&isActive=no",
                                   as_=ADMIN)
    assert status == 200 and body["rowCount"] == 1
    assert body["filters"] == [{"name": "enrollmentStatus", "values": ["bogus"], "ignored": True},
                               {"name": "isActive", "values": ["maybe", "no"], "ignored": True}]
    # paging parameters are declared: never reported as ignored
    _, paged = await twin.call("GET", f"{BASE}/enrollments?pageNumber=1&pageRowCount=5", as_=ADMIN)
    assert paged["filters"] == []


async def test_a_patch_that_changes_nothing_leaves_the_version_and_updated_at(make_twin):
    twin = await make_twin(TUTORHUB)
    _, created = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment())
    record = created["sys_enrollmentPayment"]
    url = f"{BASE}/enrollmentpayment/{record['id']}"
    await twin.call("POST", "/__twin/clock", json={"advanceSeconds": 5})
    for body in ({}, {"notAField": 1}, {"statusLiteral": record["statusLiteral"]}):
        status, answer = await twin.call("PATCH", url, as_=ADMIN, json=body)
        assert status == 200, answer
        kept = answer["sys_enrollmentPayment"]
        assert (kept["recordVersion"], kept["updatedAt"]) == (1, record["updatedAt"]), body
    status, answer = await twin.call("PATCH", url, as_=ADMIN, json={"statusLiteral": "refunded"})
    assert status == 200 and answer["sys_enrollmentPayment"]["recordVersion"] == 2


async def test_a_fault_is_answered_in_the_names_it_was_given(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("POST", "/__twin/faults", json={"path": "*/v1/enrollments*", "latencyMs": 5, "count": 2})
    assert status == 200
    assert body["faults"] == [{"path": "*/v1/enrollments*", "method": "*", "status": None, "latencyMs": 5, "count": 2,
                               "remaining": 2, "message": "errMsg_injectedFault"}]
    await twin.call("GET", f"{BASE}/enrollments", as_=ADMIN)
    _, body = await twin.call("GET", "/__twin/faults")
    assert (body["faults"][0]["count"], body["faults"][0]["remaining"]) == (2, 1)


async def test_head_on_a_get_route_answers_like_get_without_a_body(make_twin):
    twin = await make_twin(TUTORHUB)
    get = await twin.client.get(f"{BASE}/enrollments", headers=twin.headers(*ADMIN))
    head = await twin.client.head(f"{BASE}/enrollments", headers=twin.headers(*ADMIN))
    assert (head.status, head.headers["Content-Type"]) == (200, get.headers["Content-Type"])
    assert await head.read() == b""
    anonymous = await twin.client.head(f"{BASE}/enrollments")
    assert anonymous.status == 401


async def test_a_trailing_slash_reaches_the_same_route(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("GET", f"{BASE}/enrollmentpayments/", as_=ADMIN)
    assert status == 200 and body["dataName"] == "sys_enrollmentPayments"
    status, body = await twin.call("POST", f"{BASE}/enrollmentpayment/", as_=ADMIN, json=payment())
    assert status == 201 and body["sys_enrollmentPayment"]["paymentId"] == "pi_words"
