"""The fake Stripe's in-process Python API (what the twin's workflows call), its clock, seed, reset and
state, and the fake mounted inside a parent aiohttp app the way the twin mounts it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port

from mockserver.clock import Clock
from mockserver.stripe import CardError, FakeStripe, InvalidRequest, NotFound, mount, verify_signature
from mockserver.stripe.cards import by_number, luhn_valid
from mockserver.stripe.forms import decode
from mockserver.stripe.params import Params

FROZEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeStripe:
    return FakeStripe(Clock(frozen_at=FROZEN), public_base_url="http://twin.test:8080")


def test_a_declined_card_returns_the_intent_with_its_error_unless_asked_to_raise(fake):
    customer = fake.create_customer(email="ada@example.com", metadata={"userId": "u-1"})
    method = fake.attach_payment_method("pm_card_chargeDeclinedInsufficientFunds", customer["id"])
    assert method["id"].startswith("pm_") and method["customer"] == customer["id"]
    intent = fake.create_payment_intent(amount=5000, currency="usd", customer=customer["id"],
                                        payment_method=method["id"], confirm=True, metadata={"orderId": "o-1"})
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["decline_code"] == "insufficient_funds"
    assert intent["last_payment_error"]["type"] == "card_error"
    with pytest.raises(CardError) as raised:
        fake.confirm_payment_intent(intent["id"], payment_method=method["id"], raise_on_decline=True)
    assert raised.value.status == 402 and raised.value.payment_intent["id"] == intent["id"]
    paid = fake.confirm_payment_intent(intent["id"], payment_method="pm_card_visa")
    assert paid["status"] == "succeeded" and paid["created"] == int(FROZEN.timestamp())
    assert fake.retrieve_payment_intent(intent["id"]) == paid


def test_unknown_ids_raise_not_found_which_is_a_lookup_error(fake):
    with pytest.raises(LookupError):
        fake.attach_payment_method("pm_unknown", fake.create_customer()["id"])
    with pytest.raises(NotFound) as raised:
        fake.retrieve_payment_intent("pi_unknown")
    assert raised.value.status == 404 and raised.value.body()["error"]["code"] == "resource_missing"
    with pytest.raises(InvalidRequest) as bad:
        fake.create_payment_intent(amount=0, currency="usd")
    assert bad.value.param == "amount" and bad.value.status == 400


def test_returned_objects_are_copies(fake):
    customer = fake.create_customer(email="a@example.com")
    customer["email"] = "changed@example.com"
    assert fake.retrieve_customer(customer["id"])["email"] == "a@example.com"


def test_the_same_seed_gives_the_same_ids_and_reset_starts_over(fake):
    other = FakeStripe(Clock(frozen_at=FROZEN), seed=0)
    different = FakeStripe(Clock(frozen_at=FROZEN), seed=1)
    first = [fake.create_customer()["id"], fake.create_payment_intent(amount=100, currency="usd")["id"]]
    assert first == [other.create_customer()["id"], other.create_payment_intent(amount=100, currency="usd")["id"]]
    assert different.create_customer()["id"] != first[0]
    fake.add_webhook_endpoint("http://127.0.0.1:9/hook")
    fake.reset()
    assert fake.state()["customers"] == [] and fake.state()["events"] == []
    assert len(fake.webhook_endpoints()) == 1  # wiring survives a reset
    assert fake.create_customer()["id"] == first[0]
    fake.reset(endpoints=True)
    assert fake.webhook_endpoints() == []


def test_endpoints_survive_a_reset_and_new_ones_never_reuse_their_ids(fake):
    kept = fake.add_webhook_endpoint("http://app.test/hooks/one")
    fake.reset()
    added = fake.add_webhook_endpoint("http://app.test/hooks/two")
    assert added["id"] != kept["id"]
    assert {e.id for e in fake.dispatcher.endpoints.values()} == {kept["id"], added["id"]}


def test_state_is_a_json_able_dump_of_everything(fake):
    intent = fake.create_payment_intent(amount=1200, currency="usd", payment_method="pm_card_visa", confirm=True)
    fake.create_refund(payment_intent=intent["id"], amount=200)
    state = orjson.loads(orjson.dumps(fake.state()))
    assert [i["id"] for i in state["payment_intents"]] == [intent["id"]]
    assert len(state["charges"]) == 1 and len(state["refunds"]) == 1 and len(state["payment_methods"]) == 1
    assert [e["type"] for e in state["events"]] == ["payment_intent.created", "charge.succeeded",
                                                    "payment_intent.succeeded", "refund.created", "charge.refunded"]


def test_checkout_sessions_in_process_and_their_expiry_on_the_twin_clock(fake):
    session = fake.create_checkout_session(success_url="http://shop.test/ok", amount=4500, currency="eur",
                                           name="Booking", metadata={"orderId": "b-1"},
                                           payment_intent_data={"metadata": {"orderId": "b-1"}})
    assert session["url"] == f"http://twin.test:8080/stripe/checkout/{session['id']}"
    assert (session["amount_total"], session["currency"], session["expires_at"]) == \
        (4500, "eur", int(FROZEN.timestamp()) + 24 * 3600)
    declined = fake.complete_checkout_session(session["id"], card="chargeDeclined")
    assert declined["status"] == "open" and declined["payment_intent"].startswith("pi_")
    paid = fake.complete_checkout_session(session["id"])
    assert (paid["status"], paid["payment_status"], paid["url"]) == ("complete", "paid", None)
    intent = fake.retrieve_payment_intent(paid["payment_intent"])
    assert intent["status"] == "succeeded" and intent["metadata"] == {"orderId": "b-1"}
    assert [e["type"] for e in fake.list_events()][-2:] == ["payment_intent.succeeded", "checkout.session.completed"]

    later = fake.create_checkout_session(success_url="http://shop.test/ok", amount=100)
    fake.clock.advance(24 * 3600)
    assert fake.retrieve_checkout_session(later["id"])["status"] == "expired"
    assert fake.list_events("checkout.session.expired")[0]["data"]["object"]["id"] == later["id"]
    with pytest.raises(InvalidRequest):
        fake.complete_checkout_session(later["id"])


def test_verify_signature_judges_age_by_the_twin_clock(fake):
    payload = b'{"id": "evt_1"}'
    header = fake.sign(payload)
    assert header.startswith(f"t={int(FROZEN.timestamp())},v1=")
    assert fake.verify_signature(payload, header)
    assert not fake.verify_signature(payload + b" ", header)
    # The twin's clock is in 2026-03; the wall clock may say otherwise, so only the fake judges age right.
    assert verify_signature(payload, header, "whsec_twin_test", tolerance=0)
    fake.clock.advance(301)
    assert not fake.verify_signature(payload, header)


async def test_subscribers_see_every_event_sync_or_async(fake):
    seen: list[str] = []

    async def observe(event: dict) -> None:
        seen.append("async:" + event["type"])

    stop = fake.subscribe(lambda event: seen.append(event["type"]))
    fake.subscribe(observe)
    fake.create_customer()
    assert await fake.drain(5)
    stop()
    fake.create_customer()
    assert await fake.drain(5)
    assert seen == ["customer.created", "async:customer.created", "async:customer.created"]


async def test_mounted_in_a_parent_app_with_its_own_not_found_handling(aiohttp_client):
    clock = Clock()
    fake = FakeStripe(clock, retry_delays=(0.01,))
    received: list[bytes] = []

    @web.middleware
    async def parent_envelope(request: web.Request, handler):  # like the twin's own middleware
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return web.json_response({"status": "ERR", "message": "errMsg_routeNotFound"}, status=404)

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        assert fake.verify_signature(body, request.headers.get("Stripe-Signature"))
        received.append(body)
        return web.Response(text="ok")

    async def start_payment(request: web.Request) -> web.Response:  # a twin workflow calling in-process
        intent = fake.create_payment_intent(amount=999, currency="usd", payment_method="pm_card_visa", confirm=True)
        return web.json_response(intent)

    app = web.Application(middlewares=[parent_envelope])
    mount(app, fake)
    app.router.add_post("/hook", hook)
    app.router.add_post("/start", start_payment)
    client = await aiohttp_client(app)
    fake.add_webhook_endpoint(str(client.make_url("/hook")), events=["payment_intent.succeeded"])

    response = await client.get("/stripe/v1/nothing-here", headers={"Authorization": "Bearer sk_test_x1"})
    assert response.status == 404 and (await response.json())["error"]["type"] == "invalid_request_error"
    response = await client.post("/start")
    assert response.status == 200 and (await response.json())["status"] == "succeeded"
    response = await client.post("/__twin/stripe/drain", json={"timeout": 5})
    assert (await response.json()) == {"drained": True, "pending": 0}
    assert [orjson.loads(b)["type"] for b in received] == ["payment_intent.succeeded"]
    response = await client.post("/stripe/v1/customers", data={"email": "x@example.com"},
                                 headers={"Authorization": "Bearer sk_test_x1"})
    customer = await response.json()
    response = await client.get("/__twin/stripe/events?type=customer.created")
    assert [e["data"]["object"]["id"] for e in (await response.json())["events"]] == [customer["id"]]
    response = await client.post("/__twin/stripe/reset", json={})
    assert response.status == 200 and fake.state()["customers"] == []


def test_bracket_notation_decodes_into_dicts_and_lists():
    pairs = [("metadata[orderId]", "o-1"), ("expand[]", "customer"), ("expand[]", "latest_charge"),
             ("line_items[1][quantity]", "2"), ("line_items[0][price_data][unit_amount]", "500"),
             ("line_items[0][quantity]", "1"), ("amount", "100"), ("types[0]", "a"), ("types[1]", "b")]
    assert decode(pairs) == {
        "metadata": {"orderId": "o-1"}, "expand": ["customer", "latest_charge"], "amount": "100",
        "line_items": [{"price_data": {"unit_amount": "500"}, "quantity": "1"}, {"quantity": "2"}],
        "types": ["a", "b"]}
    for bad in ([("a", "1"), ("a[b]", "2")], [("a[b]", "1"), ("a", "2")], [("a]b[", "1")]):
        with pytest.raises(InvalidRequest):
            decode(bad)


def test_params_check_types_with_stripes_wording():
    p = Params({"amount": "12", "flag": "true", "metadata": {"k": 1}, "card": {"number": "x"}})
    assert (p.integer("amount"), p.boolean("flag"), p.metadata()) == (12, True, {"k": "1"})
    with pytest.raises(InvalidRequest) as raised:
        Params({"amount": "1.5"}).integer("amount")
    assert raised.value.param == "amount" and raised.value.message == "Invalid integer: 1.5"
    with pytest.raises(InvalidRequest) as raised:
        p.nested("card").integer("exp_month", required=True)
    assert raised.value.param == "card[exp_month]" and raised.value.code == "parameter_missing"
    with pytest.raises(InvalidRequest):
        Params({"metadata": {f"k{i}": "v" for i in range(51)}}).metadata()


def test_test_card_numbers():
    assert luhn_valid("4242424242424242") and not luhn_valid("4242424242424241")
    assert by_number("4000 0000 0000 0002").outcome.decline_code == "generic_decline"
    assert by_number("5105105105105100").brand == "mastercard"
    assert by_number("1234") is None


def test_events_emitted_outside_any_loop_are_sent_by_the_next_drain():
    fake = FakeStripe(Clock(), retry_delays=(0.01,))
    port = unused_port()
    fake.add_webhook_endpoint(f"http://127.0.0.1:{port}/hook", events=["customer.created"])
    customer = fake.create_customer()  # plain synchronous use: no event loop runs yet
    assert fake.deliveries()[0]["state"] == "pending"
    received: list[dict] = []

    async def main() -> bool:
        async def hook(request: web.Request) -> web.Response:
            received.append(await request.json())
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/hook", hook)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            return await fake.drain(5)
        finally:
            await runner.cleanup()

    assert asyncio.run(main())
    assert [e["data"]["object"]["id"] for e in received] == [customer["id"]]
    assert fake.deliveries()[0]["state"] == "succeeded"
