"""The control API under /__twin/: personas, reset, state, journal, clock, fixtures, faults, records."""

from __future__ import annotations

import asyncio
import time
import uuid

import jwt
from twin_testing import TUTORHUB, WORKFORCEOS

from mockserver.keys import WORLD

BASE = "/enrollmentmanagement-api/v1"
ADMIN = ("tutorhub", "admin")


def payment(**overrides: object) -> dict[str, object]:
    return {"orderId": str(uuid.uuid4()), "paymentId": "pi_ctl", "paymentStatus": "succeeded", "statusLiteral": "paid",
            **overrides}


async def test_personas_list_every_role_with_a_token_carrying_user_role_and_tenant(make_twin):
    twin = await make_twin(TUTORHUB, WORKFORCEOS)
    _, body = await twin.call("GET", "/__twin/personas")
    roles = {(p["project"], p["role"]) for p in body["personas"]}
    assert {("tutorhub", "admin"), ("tutorhub", "tutor"), ("tutorhub", "student")} <= roles
    assert {("workforceos", r) for r in ("superAdmin", "saasAdmin", "tenantOwner", "tenantAdmin", "tenantUser")} <= roles
    tenants = {p["tenant"] for p in body["personas"] if p["role"] == "tenantOwner"}
    assert len(tenants) >= 2
    owner = next(p for p in body["personas"] if p["name"] == "babil-owner")
    claims = jwt.decode(owner["token"], options={"verify_signature": False})
    assert (claims["userId"], claims["role"], claims["tenant"]) == (owner["userId"], "tenantOwner", "babil")


async def test_roles_lists_each_services_role_table_as_its_spec_states_it(make_twin):
    twin = await make_twin(TUTORHUB, WORKFORCEOS)
    status, body = await twin.call("GET", "/__twin/roles")
    assert status == 200 and set(body) == {"tutorhub-enrollmentmanagement", "workforceos-subscriptionmanagement"}
    assert body["tutorhub-enrollmentmanagement"]["createEnrollment"] == ["student"]
    assert body["workforceos-subscriptionmanagement"]["updateCompanySubscription"] == ["saasAdmin", "superAdmin"]
    assert "getEnrollment" not in body["tutorhub-enrollmentmanagement"]  # open to every role
    assert len(body["tutorhub-enrollmentmanagement"]) == 11 and len(body["workforceos-subscriptionmanagement"]) == 15


async def test_login_as_a_persona_returns_its_token(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("POST", "/__twin/login", json={"project": "tutorhub", "persona": "student1"})
    assert status == 200 and body["role"] == "student" and body["token"]
    status, body = await twin.call("POST", "/__twin/login", json={"persona": "nobody"})
    assert status == 404 and body["message"] == "errMsg_personaNotFound"


async def test_reset_returns_to_the_seed(make_twin):
    twin = await make_twin(TUTORHUB)
    await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment())
    await twin.call("POST", "/__twin/reset", json={})
    _, body = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    assert body["sys_enrollmentPayments"] == []


async def test_the_same_seed_gives_the_same_ids(make_twin):
    first, second = await make_twin(TUTORHUB), await make_twin(TUTORHUB)
    created = []
    for twin in (first, second):
        _, body = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment(orderId=str(uuid.UUID(int=7))))
        created.append(body["sys_enrollmentPayment"]["id"])
    assert created[0] == created[1]
    assert first.persona(*ADMIN)["userId"] == second.persona(*ADMIN)["userId"]


async def test_state_shows_created_records(make_twin):
    twin = await make_twin(TUTORHUB)
    _, created = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment())
    _, state = await twin.call("GET", "/__twin/state")
    records = state["services"]["tutorhub-enrollmentmanagement"]["objects"]["sys_enrollmentPayment"]
    assert records == [created["sys_enrollmentPayment"]]
    assert "lessonSlot" in state["fixtures"]["tutorhub"]


async def test_the_journal_records_each_request(make_twin):
    twin = await make_twin(TUTORHUB)
    await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    await twin.call("GET", f"{BASE}/enrollmentpayments")
    _, journal = await twin.call("GET", "/__twin/journal")
    last = journal["entries"][-2:]
    assert [(e["api"], e["status"]) for e in last] == [("listEnrollmentPayments", 200), ("listEnrollmentPayments", 401)]
    assert last[0]["userId"] == twin.persona(*ADMIN)["userId"]


async def test_the_journal_shows_paths_and_queries_decoded_and_the_time_each_request_took(make_twin):
    twin = await make_twin(TUTORHUB)
    await twin.call("GET", f"{BASE}/enrollmentpayments?paymentStatus=caf%C3%A9%20cr%C3%A8me&pageRowCount=2", as_=ADMIN)
    await twin.call("GET", "/no%20such/route")
    _, journal = await twin.call("GET", "/__twin/journal")
    listed, unknown = journal["entries"][-2:]
    assert (listed["method"], listed["path"], listed["query"]) == (
        "GET", f"{BASE}/enrollmentpayments", "paymentStatus=café crème&pageRowCount=2")
    assert (unknown["path"], unknown["query"], unknown["status"]) == ("/no such/route", "", 404)
    assert all(isinstance(e["elapsedMs"], float) and 0 <= e["elapsedMs"] < 60_000 for e in (listed, unknown))
    assert listed["time"].endswith("Z")


async def test_the_clock_moves_and_stamps_records(make_twin):
    twin = await make_twin(TUTORHUB)
    _, now = await twin.call("POST", "/__twin/clock", json={"set": "2030-05-01T10:00:00Z"})
    assert now["now"] == "2030-05-01T10:00:00.000Z" and now["frozen"] is True
    _, now = await twin.call("POST", "/__twin/clock", json={"advanceSeconds": 3600})
    assert now["now"] == "2030-05-01T11:00:00.000Z"
    _, created = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment())
    assert created["sys_enrollmentPayment"]["createdAt"] == "2030-05-01T11:00:00.000Z"
    status, body = await twin.call("POST", "/__twin/clock", json={"advanceSeconds": "soon"})
    assert status == 400 and body["result"] == "ERR"


async def test_a_fixture_can_be_changed(make_twin):
    twin = await make_twin(TUTORHUB)
    _, slots = await twin.call("GET", "/__twin/fixtures/tutorhub/lessonSlot")
    slot = slots["records"][0]
    status, body = await twin.call("PATCH", f"/__twin/fixtures/tutorhub/lessonSlot/{slot['id']}", json={"status": "completed"})
    assert status == 200 and body["record"]["status"] == "completed" and body["record"]["status_idx"] == 2
    status, body = await twin.call("PATCH", f"/__twin/fixtures/tutorhub/lessonSlot/{slot['id']}", json={"status": "melted"})
    assert status == 400 and body["message"] == "errMsg_statusisNotAValidEnumOption"


async def test_an_injected_fault_fails_n_requests_then_clears(make_twin):
    twin = await make_twin(TUTORHUB)
    status, _ = await twin.call("POST", "/__twin/faults", json={"path": "*/v1/enrollmentpayments*", "status": 503, "count": 2})
    assert status == 200
    statuses = [(await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN))[0] for _ in range(3)]
    assert statuses == [503, 503, 200]


async def test_an_injected_latency_delays_the_answer(make_twin):
    twin = await make_twin(TUTORHUB)
    await twin.call("POST", "/__twin/faults", json={"path": "*/v1/enrollmentpayments", "latencyMs": 200})
    started = time.perf_counter()
    status, _ = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    assert status == 200 and time.perf_counter() - started >= 0.2


async def test_a_malformed_fault_is_refused(make_twin):
    twin = await make_twin(TUTORHUB)
    status, body = await twin.call("POST", "/__twin/faults", json={"path": "*", "status": 200})
    assert status == 400 and body["message"] == "errMsg_faultStatusIsNotValid"


async def test_bulk_records_fill_system_fields(make_twin):
    twin = await make_twin(TUTORHUB)
    rows = [payment(paymentId=f"pi_bulk{n}") for n in range(50)]
    status, body = await twin.call("POST", "/__twin/records/tutorhub-enrollmentmanagement/sys_enrollmentPayment",
                                   json={"records": rows})
    assert status == 200 and body["inserted"] == 50
    _, listed = await twin.call("GET", f"{BASE}/enrollmentpayments?paymentId=bulk4", as_=ADMIN)
    assert {r["paymentId"] for r in listed["sys_enrollmentPayments"]} == {"pi_bulk4"} | {f"pi_bulk4{n}" for n in range(10)}
    assert all(r["recordVersion"] == 1 for r in listed["sys_enrollmentPayments"])


async def test_a_bulk_insert_is_seen_whole_or_not_at_all_even_by_a_state_files_commits(tmp_path, make_twin):
    # Other requests run while a big batch is built; none of them (nor a commit to the state file
    # they trigger) may see part of it: a crash then leaves all of the batch or none.
    twin = await make_twin(TUTORHUB, state_file=tmp_path / "twin-state.db")
    table = twin.app[WORLD].services["tutorhub-enrollmentmanagement"].tables["sys_enrollmentPayment"]
    before, seen, turns = len(table), set(), 0
    finished = asyncio.Event()

    async def watch() -> None:
        nonlocal turns
        while not finished.is_set():
            seen.add(len(table))
            turns += 1
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    status, body = await twin.call("POST", "/__twin/records/tutorhub-enrollmentmanagement/sys_enrollmentPayment",
                                   json={"records": [payment() for _ in range(5000)]})
    finished.set()
    await watcher
    assert status == 200 and body["inserted"] == 5000
    assert turns > 3 and seen <= {before, before + 5000}


async def test_state_survives_a_restart_with_a_state_file(tmp_path, make_twin):
    state_file = tmp_path / "twin-state.db"
    twin = await make_twin(TUTORHUB, state_file=state_file)
    _, created = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment())
    await twin.client.close()
    assert state_file.exists()
    again = await make_twin(TUTORHUB, state_file=state_file)
    status, body = await again.call("GET", f"{BASE}/enrollmentpayment/{created['sys_enrollmentPayment']['id']}", as_=ADMIN)
    assert status == 200 and body["sys_enrollmentPayment"] == created["sys_enrollmentPayment"]
