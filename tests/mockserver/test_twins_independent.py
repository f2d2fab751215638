"""Two twins in one process are two twins: each keeps its own mutants, faults and fake Stripe.

A test suite (or a tool) may start several twins side by side; whatever one of them is switched
into must not leak into, or be undone by, another.
"""

from __future__ import annotations

from typing import Any

from twin_testing import TUTORHUB, Twin

BASE = "/enrollmentmanagement-api/v1"
ADMIN = ("tutorhub", "admin")
PAYMENTS = f"{BASE}/enrollmentpayments"
FAULTED = f"{BASE}/enrollments"
STRIPE_KEY = {"Authorization": "Bearer sk_test_twins"}


async def anonymous_list(twin: Twin) -> int:
    """The status of a payments list sent without any token."""
    return (await twin.client.get(PAYMENTS)).status


async def faulted_list(twin: Twin) -> int:
    return (await twin.call("GET", FAULTED, as_=ADMIN))[0]


async def stripe_customer(twin: Twin, customer_id: str) -> int:
    return (await twin.client.get(f"/stripe/v1/customers/{customer_id}", headers=STRIPE_KEY)).status


async def mutants_of(twin: Twin) -> list[str]:
    status, body = await twin.call("GET", "/__twin/mutants")
    assert status == 200, body
    active: list[str] = body["active"]
    return active


async def misbehaving_twin(make_twin: Any) -> tuple[Twin, str]:
    """A twin started with `auth-optional`, given a fault that never runs out and a Stripe customer."""
    twin: Twin = await make_twin(TUTORHUB, active_mutants=["auth-optional"])
    status, _ = await twin.call("POST", "/__twin/faults", json={"path": f"*{FAULTED}", "status": 503, "count": None})
    assert status == 200
    response = await twin.client.post("/stripe/v1/customers", data={"email": "ada@example.com"}, headers=STRIPE_KEY)
    assert response.status == 200, await response.text()
    customer_id = (await response.json())["id"]
    return twin, customer_id


async def test_a_second_clean_twin_leaves_the_first_ones_mutants_faults_and_stripe_alone(make_twin):
    first, customer_id = await misbehaving_twin(make_twin)
    assert (await anonymous_list(first), await faulted_list(first), await stripe_customer(first, customer_id)) \
        == (200, 503, 200)

    second = await make_twin(TUTORHUB)

    # The first twin still has its defect, its fault and its customer...
    assert await mutants_of(first) == ["auth-optional"]
    assert await anonymous_list(first) == 200
    assert await faulted_list(first) == 503
    assert await stripe_customer(first, customer_id) == 200
    # ...and the second has none of them.
    assert await mutants_of(second) == []
    assert await anonymous_list(second) == 401
    assert await faulted_list(second) == 200
    assert await stripe_customer(second, customer_id) == 404


async def test_switching_mutants_on_one_twin_leaves_the_other_as_it_was(make_twin):
    first, _ = await misbehaving_twin(make_twin)
    second = await make_twin(TUTORHUB)

    status, _ = await second.call("POST", "/__twin/mutants", json={"active": ["envelope-status-lowercase"]})
    assert status == 200
    assert (await second.call("GET", PAYMENTS, as_=ADMIN))[1]["status"] == "ok"
    assert (await first.call("GET", PAYMENTS, as_=ADMIN))[1]["status"] == "OK"
    assert await mutants_of(first) == ["auth-optional"]

    status, _ = await first.call("POST", "/__twin/mutants", json={"active": []})
    assert status == 200
    assert await anonymous_list(first) == 401
    assert await mutants_of(second) == ["envelope-status-lowercase"]


async def test_resetting_one_twin_leaves_the_others_faults_and_stripe_alone(make_twin):
    first, customer_id = await misbehaving_twin(make_twin)
    second, other_customer = await misbehaving_twin(make_twin)

    status, _ = await second.call("POST", "/__twin/reset", json={})
    assert status == 200
    assert await faulted_list(second) == 200
    assert await stripe_customer(second, other_customer) == 404
    assert await faulted_list(first) == 503
    assert await stripe_customer(first, customer_id) == 200
