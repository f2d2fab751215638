"""Webhooks: signed JSON POSTs that `stripe.Webhook.construct_event` accepts, delivered asynchronously,
retried with bounded backoff, every attempt logged; events can be redelivered or duplicated."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from aiohttp.test_utils import unused_port
from stripe_harness import Receiver, StripeServer

from mockserver.stripe import verify_signature
from mockserver.stripe.webhooks import sign

SECRET = "whsec_twin_test"


def pay(client: stripe.StripeClient, **params: object) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd",
                                                    "payment_method": "pm_card_visa", "confirm": True, **params})


def test_a_delivered_event_passes_construct_event(client, server: StripeServer):
    receiver, endpoint = server.receiver("shop", events=["payment_intent.succeeded"])
    assert endpoint["secret"] == SECRET  # the fake's default secret, unless the endpoint names one
    intent = pay(client, metadata={"orderId": "o-1"})
    server.drain()
    assert len(receiver.received) == 1
    body, headers = receiver.received[0]
    assert headers["Content-Type"].startswith("application/json")
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
    assert (event.type, event.data.object.id, event.data.object.metadata["orderId"]) == \
        ("payment_intent.succeeded", intent.id, "o-1")
    assert verify_signature(body, headers["Stripe-Signature"], SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_someone_else")


def test_endpoints_get_only_the_event_types_they_asked_for(client, server: StripeServer):
    everything, _ = server.receiver("all")
    refunds, _ = server.receiver("refunds", events=["charge.refunded", "refund.created"], secret="whsec_refunds")
    intent = pay(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 400})
    server.drain()
    assert [e["type"] for e in everything.events()] == [
        "payment_intent.created", "charge.succeeded", "payment_intent.succeeded", "refund.created", "charge.refunded"]
    assert [e["type"] for e in refunds.events()] == ["refund.created", "charge.refunded"]
    body, headers = refunds.received[1]
    charge = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_refunds").data.object
    assert (charge.amount_refunded, charge.refunded) == (400, False)


def test_delivery_never_holds_up_the_api_answer(client, server: StripeServer):
    receiver, _ = server.receiver("slow", events=["payment_intent.succeeded"], delay=0.8)
    started = time.perf_counter()
    pay(client)
    assert time.perf_counter() - started < 0.5
    assert receiver.received == []  # still on its way
    server.drain()
    assert len(receiver.received) == 1


def test_a_failing_endpoint_is_retried_and_every_attempt_is_recorded(client, server: StripeServer):
    receiver, endpoint = server.receiver("flaky", events=["payment_intent.succeeded"], script=[500, 500])
    pay(client)
    server.drain()
    assert len(receiver.received) == 3
    code, log = server.control("GET", f"/deliveries?endpoint={endpoint['id']}")
    assert code == 200 and log["count"] == 1 and log["pending"] == 0
    delivery = log["deliveries"][0]
    assert delivery["state"] == "succeeded" and delivery["event_type"] == "payment_intent.succeeded"
    assert [(a["number"], a["status"], a["error"]) for a in delivery["attempts"]] == [
        (1, 500, "HTTP 500"), (2, 500, "HTTP 500"), (3, 200, None)]
    assert all(a["at"].endswith("Z") for a in delivery["attempts"])
    # The same attempts show under the event in the control API's event log.
    code, events = server.control("GET", "/events?type=payment_intent.succeeded")
    assert [len(d["attempts"]) for d in events["events"][0]["deliveries"]] == [3]


def test_retries_are_bounded_and_connection_errors_count_as_failures(client, server: StripeServer):
    down_url = f"http://127.0.0.1:{unused_port()}/nobody-listens"
    server.call(server.fake.add_webhook_endpoint, down_url, None, ["payment_intent.succeeded"])
    always_500, _ = server.receiver("broken", events=["payment_intent.succeeded"], script=[500] * 10)
    pay(client)
    server.drain()
    max_attempts = len(server.fake.dispatcher.retry_delays) + 1
    assert len(always_500.received) == max_attempts
    _, log = server.control("GET", "/deliveries?state=failed")
    assert log["count"] == 2
    by_url = {d["url"]: d for d in log["deliveries"]}
    assert len(by_url[down_url]["attempts"]) == max_attempts
    assert all(a["status"] is None and a["error"] for a in by_url[down_url]["attempts"])


def test_redeliver_and_duplicate_send_the_same_event_id_again(client, server: StripeServer):
    receiver, endpoint = server.receiver("shop", events=["payment_intent.succeeded"])
    pay(client)
    server.drain()
    event_id = receiver.events()[0]["id"]
    code, body = server.control("POST", f"/events/{event_id}/redeliver")
    assert code == 200 and [d["kind"] for d in body["deliveries"]] == ["redeliver"]
    code, body = server.control("POST", f"/events/{event_id}/duplicate", {"endpoint": endpoint["id"], "count": 2})
    assert code == 200 and [d["kind"] for d in body["deliveries"]] == ["duplicate", "duplicate"]
    server.drain()
    assert [e["id"] for e in receiver.events()] == [event_id] * 4
    assert all(stripe.Webhook.construct_event(b, h["Stripe-Signature"], SECRET) for b, h in receiver.received)
    _, log = server.control("GET", f"/deliveries?event={event_id}")
    assert [d["kind"] for d in log["deliveries"]] == ["original", "redeliver", "duplicate", "duplicate"]
    code, body = server.control("POST", "/events/evt_unknown/redeliver")
    assert code == 404 and body["error"]["code"] == "resource_missing"


def test_verify_signature_refuses_tampered_unsigned_stale_and_foreign_payloads():
    payload = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded"}).encode()
    now = int(time.time())
    header = sign(payload, SECRET, now)
    assert verify_signature(payload, header, SECRET)
    assert verify_signature(payload.decode(), header, SECRET)
    assert not verify_signature(payload.replace(b"succeeded", b"failed"), header, SECRET)
    assert not verify_signature(payload, "", SECRET)
    assert not verify_signature(payload, "t=abc,v1=00", SECRET)
    assert not verify_signature(payload, header, "whsec_other")
    stale = sign(payload, SECRET, now - 301)
    assert not verify_signature(payload, stale, SECRET) and verify_signature(payload, stale, SECRET, tolerance=0)
    # Several v1 signatures (as during a secret roll): one matching is enough, as in the SDK.
    rolled = f"t={now},v1={'0' * 64},v1={header.split('v1=')[1]}"
    assert verify_signature(payload, rolled, SECRET)
    stripe.Webhook.construct_event(payload, rolled, SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(b"succeeded", b"failed"), header, SECRET)


def test_webhook_endpoints_can_be_managed_through_the_control_api(server: StripeServer):
    code, created = server.control("POST", "/webhook_endpoints", {"url": f"{server.url}/hooks/x",
                                                                  "events": ["charge.refunded"]})
    assert code == 201 and created["id"].startswith("we_") and created["enabled_events"] == ["charge.refunded"]
    code, listed = server.control("GET", "/webhook_endpoints")
    assert [e["id"] for e in listed["endpoints"]] == [created["id"]]
    code, _ = server.control("DELETE", f"/webhook_endpoints/{created['id']}")
    assert code == 200 and server.control("GET", "/webhook_endpoints")[1]["endpoints"] == []
    code, body = server.control("POST", "/webhook_endpoints", {"url": "not a url"})
    assert code == 400 and body["error"]["param"] == "url"


def test_sdk_registered_endpoints_get_their_own_secret(client, server: StripeServer):
    server.receivers["sdk"] = receiver = Receiver()
    endpoint = client.v1.webhook_endpoints.create(params={"url": f"{server.url}/hooks/sdk",
                                                          "enabled_events": ["charge.succeeded"]})
    assert endpoint.secret.startswith("whsec_") and endpoint.secret != SECRET
    pay(client)
    server.drain()
    body, headers = receiver.received[0]
    assert stripe.Webhook.construct_event(body, headers["Stripe-Signature"], endpoint.secret).type == "charge.succeeded"
