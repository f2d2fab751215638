"""The fake Stripe's bounded history and its lists, through HTTP (the official SDK where it applies):
the oldest finished objects go, live ones stay; lists page as Stripe's do; the control API's
event and delivery logs page too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from stripe_harness import API_KEY, StripeServer

HISTORY = 20
SLACK = 16  # a trim pass runs once the bound is exceeded by this much (see Store.trim)


@pytest.fixture
def small() -> Iterator[StripeServer]:
    served = StripeServer(history=HISTORY).start()
    yield served
    served.stop()


@pytest.fixture
def sdk(small: StripeServer) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": f"{small.url}/stripe"}, max_network_retries=0)


def paid(sdk: stripe.StripeClient, amount: int) -> str:
    return sdk.v1.payment_intents.create({"amount": amount, "currency": "usd", "confirm": True,
                                          "payment_method": "pm_card_visa"}).id


def test_the_oldest_finished_intents_go_and_live_ones_stay(small: StripeServer, sdk: stripe.StripeClient):
    live = [sdk.v1.payment_intents.create({"amount": 100 + n, "currency": "usd"}).id for n in range(3)]
    finished = [paid(sdk, 1000 + n) for n in range(3 * HISTORY)]
    kept = [pi.id for pi in sdk.v1.payment_intents.list({"limit": 100}).auto_paging_iter()]
    assert len(kept) <= HISTORY + SLACK + len(live)
    assert set(live) <= set(kept)
    assert finished[-1] in kept
    for intent in live:
        assert sdk.v1.payment_intents.retrieve(intent).status == "requires_payment_method"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sdk.v1.payment_intents.retrieve(finished[0])
    assert missing.value.http_status == 404
    status, events = small.control("GET", "/events?limit=1000")
    assert status == 200 and events["total"] <= HISTORY + SLACK


def test_without_a_bound_everything_is_kept(server: StripeServer, client: stripe.StripeClient):
    server.fake.store.history = None
    intents = [paid(client, 500 + n) for n in range(40)]
    assert client.v1.payment_intents.retrieve(intents[0]).status == "succeeded"


def test_lists_page_as_stripes_do(server: StripeServer, client: stripe.StripeClient):
    intents = [paid(client, 700 + n) for n in range(7)]
    newest_first = list(reversed(intents))
    first = client.v1.payment_intents.list({"limit": 3})
    assert [pi.id for pi in first.data] == newest_first[:3] and first.has_more
    second = client.v1.payment_intents.list({"limit": 3, "starting_after": first.data[-1].id})
    assert [pi.id for pi in second.data] == newest_first[3:6] and second.has_more
    last = client.v1.payment_intents.list({"limit": 3, "starting_after": second.data[-1].id})
    assert [pi.id for pi in last.data] == newest_first[6:] and not last.has_more
    back = client.v1.payment_intents.list({"limit": 3, "ending_before": last.data[0].id})
    assert [pi.id for pi in back.data] == newest_first[3:6] and back.has_more
    assert [pi.id for pi in client.v1.payment_intents.list({"limit": 2}).auto_paging_iter()] == newest_first
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.list({"limit": 101})


def test_the_control_event_log_pages_from_its_latest_end(server: StripeServer, client: stripe.StripeClient):
    for n in range(4):
        paid(client, 300 + n)
    status, everything = server.control("GET", "/events?limit=1000")
    ids = [e["id"] for e in everything["events"]]
    assert status == 200 and everything["count"] == everything["total"] == len(ids) >= 8
    _, tail = server.control("GET", "/events?limit=3")
    assert [e["id"] for e in tail["events"]] == ids[-3:] and tail["has_more"] and tail["total"] == len(ids)
    _, before = server.control("GET", f"/events?limit=3&ending_before={ids[-3]}")
    assert [e["id"] for e in before["events"]] == ids[-6:-3]
    _, after = server.control("GET", f"/events?limit=3&starting_after={ids[0]}")
    assert [e["id"] for e in after["events"]] == ids[1:4] and after["has_more"]
    _, typed = server.control("GET", "/events?type=payment_intent.succeeded&limit=2")
    assert [e["type"] for e in typed["events"]] == ["payment_intent.succeeded"] * 2 and typed["total"] == 4
    for query in ("limit=0", "limit=1001", "limit=x", "starting_after=evt_nope"):
        status, body = server.control("GET", f"/events?{query}")
        assert status == 400 and body["error"]["param"] in ("limit", "starting_after")


def test_the_control_delivery_log_pages(server: StripeServer, client: stripe.StripeClient):
    receiver, _ = server.receiver("shop")
    for n in range(3):
        paid(client, 900 + n)
    server.drain()
    _, log = server.control("GET", "/deliveries?limit=2")
    assert log["count"] == 2 and log["has_more"] and log["total"] == len(receiver.received)
    assert all(d["state"] == "succeeded" for d in log["deliveries"])


def raw_payment(server: StripeServer, key: str, idempotency_key: str) -> tuple[int, dict[str, Any]]:
    import json

    status, _, body = server.raw("POST", "/stripe/v1/payment_intents", b"amount=100&currency=usd",
                                 {"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key,
                                  "Content-Type": "application/x-www-form-urlencoded"})
    return status, json.loads(body)


def test_a_bad_key_with_an_idempotency_key_is_a_401_and_is_not_kept(server: StripeServer):
    for _ in range(2):
        status, body = raw_payment(server, "sk_live_not_a_test_key", "order-1")
        assert status == 401 and body["error"]["type"] == "invalid_request_error"
        assert "Invalid API Key" in body["error"]["message"]
    status, body = raw_payment(server, API_KEY, "order-1")
    assert status == 200 and body["object"] == "payment_intent"
