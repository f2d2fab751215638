"""The fake Stripe through the official `stripe` SDK (v16 `StripeClient`), served for real on 127.0.0.1.

An application pointed at the twin (`base_addresses={"api": "<twin>/stripe"}`) sees Stripe's
objects, statuses, test-card outcomes and exception classes.
"""

from __future__ import annotations

import pytest
import stripe
from stripe_harness import API_KEY, StripeServer


def paid_intent(client: stripe.StripeClient, amount: int = 2500, **params: object) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True, **params})


def test_create_retrieve_update_and_list_customers(client):
    customer = client.v1.customers.create(params={"email": "ada@example.com", "name": "Ada",
                                                  "metadata": {"userId": "u-1"}})
    assert customer.id.startswith("cus_") and customer.object == "customer"
    fetched = client.v1.customers.retrieve(customer.id)
    assert (fetched.email, fetched.name, fetched.metadata["userId"]) == ("ada@example.com", "Ada", "u-1")
    updated = client.v1.customers.update(customer.id, params={"name": "Ada L.", "metadata": {"plan": "pro"}})
    assert updated.name == "Ada L." and updated.metadata.to_dict() == {"userId": "u-1", "plan": "pro"}
    listed = client.v1.customers.list(params={"email": "ada@example.com"})
    assert [c.id for c in listed.data] == [customer.id]


def test_attaching_pm_card_visa_clones_a_new_method_the_customer_lists(client):
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    assert method.id.startswith("pm_") and method.id != "pm_card_visa"
    assert (method.customer, method.type, method.card.brand, method.card.last4) == (customer.id, "card", "visa", "4242")
    listed = client.v1.customers.payment_methods.list(customer.id)
    assert [m.id for m in listed.data] == [method.id]
    assert [m.id for m in client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data] \
        == [method.id]
    detached = client.v1.payment_methods.detach(method.id)
    assert detached.customer is None
    assert client.v1.customers.payment_methods.list(customer.id).data == []


def test_payment_methods_from_a_token_or_a_test_number(client):
    from_token = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_mastercard"}})
    assert (from_token.card.brand, from_token.card.last4) == ("mastercard", "4444")
    from_number = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000009995", "exp_month": 12, "exp_year": 2099, "cvc": "123"},
        "billing_details": {"name": "Ada", "address": {"postal_code": "94107"}}})
    assert from_number.card.last4 == "9995" and from_number.billing_details.address.postal_code == "94107"
    with pytest.raises(stripe.CardError) as bad:
        client.v1.payment_methods.create(params={"type": "card", "card": {"number": "4242424242424241",
                                                                          "exp_month": 1, "exp_year": 2099}})
    assert bad.value.code == "incorrect_number" and bad.value.http_status == 402
    # A method made from the insufficient-funds number keeps that behaviour.
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(params={"amount": 900, "currency": "usd", "payment_method": from_number.id,
                                                 "confirm": True})
    assert declined.value.error.decline_code == "insufficient_funds"


def test_a_confirmed_intent_with_pm_card_visa_succeeds_with_a_charge(client):
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    intent = client.v1.payment_intents.create(params={
        "amount": 1999, "currency": "usd", "customer": customer.id, "payment_method": method.id, "confirm": True,
        "metadata": {"orderId": "order-1"}})
    assert intent.id.startswith("pi_") and intent.status == "succeeded"
    assert intent.amount_received == 1999 and intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.latest_charge.startswith("ch_") and intent.metadata["orderId"] == "order-1"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.paid, charge.amount, charge.payment_intent) == ("succeeded", True, 1999, intent.id)
    assert charge.metadata["orderId"] == "order-1"  # Stripe copies the intent's metadata onto its charge


def test_create_then_confirm_separately(client):
    intent = client.v1.payment_intents.create(params={"amount": 700, "currency": "eur"})
    assert intent.status == "requires_payment_method" and intent.latest_charge is None
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.confirm(intent.id)
    assert missing.value.code == "payment_intent_unexpected_state" and missing.value.http_status == 400
    confirmed = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded" and confirmed.currency == "eur"


@pytest.mark.parametrize(("method", "decline_code", "message"), [
    ("pm_card_chargeDeclined", "generic_decline", "Your card was declined."),
    ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", "Your card has insufficient funds."),
])
def test_declined_cards_raise_card_error_and_leave_the_intent_awaiting_a_new_method(client, method, decline_code,
                                                                                   message):
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd", "payment_method": method,
                                                 "confirm": True, "metadata": {"orderId": "o-9"}})
    error = raised.value
    assert (error.http_status, error.code, error.error.decline_code) == (402, "card_declined", decline_code)
    assert error.user_message == message
    embedded = error.error.payment_intent
    assert embedded.status == "requires_payment_method"
    intent = client.v1.payment_intents.retrieve(embedded.id)
    assert intent.status == "requires_payment_method" and intent.payment_method is None
    assert intent.last_payment_error.decline_code == decline_code
    assert intent.last_payment_error.payment_method.card.last4 in ("0002", "9995")
    assert client.v1.charges.retrieve(intent.latest_charge).status == "failed"
    # The customer tries again with a good card.
    retried = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert retried.status == "succeeded" and retried.last_payment_error is None


@pytest.mark.parametrize(("outcome", "status", "event"), [
    ("succeed", "succeeded", "payment_intent.succeeded"),
    ("fail", "requires_payment_method", "payment_intent.payment_failed"),
])
def test_3d_secure_requires_action_until_the_control_api_settles_it(client, server: StripeServer, outcome, status,
                                                                    event):
    intent = client.v1.payment_intents.create(params={
        "amount": 4200, "currency": "usd", "payment_method": "pm_card_authenticationRequired", "confirm": True,
        "return_url": "https://shop.example/return"})
    assert intent.status == "requires_action"
    assert intent.next_action.type == "redirect_to_url"
    assert intent.next_action.redirect_to_url.return_url == "https://shop.example/return"
    code, body = server.control("POST", f"/payment_intents/{intent.id}/authenticate", {"outcome": outcome})
    assert code == 200 and body["status"] == status and body["next_action"] is None
    assert client.v1.payment_intents.retrieve(intent.id).status == status
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert event in types and "payment_intent.requires_action" in types
    if outcome == "fail":
        assert body["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    # Only an intent that requires action can be authenticated.
    code, body = server.control("POST", f"/payment_intents/{intent.id}/authenticate", {"outcome": "succeed"})
    assert code == 400 and body["error"]["code"] == "payment_intent_unexpected_state"


def test_refunds_partial_then_the_rest_then_nothing_left(client):
    intent = paid_intent(client, 3000)
    first = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000, "reason": "requested_by_customer"})
    assert (first.object, first.status, first.amount, first.charge) == ("refund", "succeeded", 1000, intent.latest_charge)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, False)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 2001})
    assert too_much.value.code == "amount_too_large" and too_much.value.param == "amount"
    rest = client.v1.refunds.create(params={"charge": intent.latest_charge})
    assert rest.amount == 2000
    assert client.v1.charges.retrieve(intent.latest_charge).refunded is True
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert again.value.code == "charge_already_refunded"
    assert {r.id for r in client.v1.refunds.list(params={"payment_intent": intent.id}).data} == {first.id, rest.id}
    assert client.v1.refunds.retrieve(first.id).amount == 1000


def test_an_unpaid_intent_cannot_be_refunded_and_a_paid_one_cannot_be_canceled(client):
    open_intent = client.v1.payment_intents.create(params={"amount": 800, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": open_intent.id})
    canceled = client.v1.payment_intents.cancel(open_intent.id, params={"cancellation_reason": "abandoned"})
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned") and canceled.canceled_at
    with pytest.raises(stripe.InvalidRequestError) as paid:
        client.v1.payment_intents.cancel(paid_intent(client).id)
    assert paid.value.code == "payment_intent_unexpected_state"


def test_checkout_session_create_returns_the_hosted_url(client, server: StripeServer):
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.example/ok?s={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancel", "metadata": {"orderId": "o-7"},
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 1250, "product_data": {"name": "Lesson"}},
                        "quantity": 2}]})
    assert session.id.startswith("cs_") and session.url == f"{server.url}/stripe/checkout/{session.id}"
    assert (session.status, session.payment_status, session.amount_total, session.currency) == \
        ("open", "unpaid", 2500, "usd")
    assert client.v1.checkout.sessions.retrieve(session.id).metadata["orderId"] == "o-7"
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [("Lesson", 2, 2500)]
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)
    assert [s.id for s in client.v1.checkout.sessions.list(params={"status": "expired"}).data] == [session.id]


def test_a_bad_or_missing_api_key_raises_authentication_error(server: StripeServer):
    for key in ("sk_live_0123456789abcdef", "pk_test_0123456789", "nonsense"):
        bad = stripe.StripeClient(key, base_addresses={"api": f"{server.url}/stripe"}, max_network_retries=0)
        with pytest.raises(stripe.AuthenticationError) as raised:
            bad.v1.customers.list()
        assert raised.value.http_status == 401 and "Invalid API Key" in raised.value.user_message
    status, _, body = server.raw("GET", "/stripe/v1/customers")
    assert status == 401 and b"You did not provide an API key" in body


@pytest.mark.parametrize(("kind", "call"), [
    ("customer", lambda c: c.v1.customers.retrieve("cus_missing")),
    ("PaymentMethod", lambda c: c.v1.payment_methods.retrieve("pm_missing")),
    ("payment_intent", lambda c: c.v1.payment_intents.retrieve("pi_missing")),
    ("refund", lambda c: c.v1.refunds.retrieve("re_missing")),
    ("checkout session", lambda c: c.v1.checkout.sessions.retrieve("cs_test_missing")),
    ("event", lambda c: c.v1.events.retrieve("evt_missing")),
])
def test_an_unknown_id_is_a_404_invalid_request_error(client, kind, call):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call(client)
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")
    assert raised.value.user_message.startswith(f"No such {kind}: ")


def test_missing_or_invalid_parameters_are_400_naming_the_param(client):
    cases = [
        ({"currency": "usd"}, "amount", "parameter_missing"),
        ({"amount": 100}, "currency", "parameter_missing"),
        ({"amount": "ten", "currency": "usd"}, "amount", "parameter_invalid"),
        ({"amount": 100, "currency": "dollars"}, "currency", "parameter_invalid"),
        ({"amount": 100, "currency": "usd", "payment_method": "pm_nope"}, "payment_method", "resource_missing"),
    ]
    for params, param, code in cases:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.payment_intents.create(params=params)
        assert (raised.value.param, raised.value.code) == (param, code), params
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params={"mode": "payment", "success_url": "https://x.example/ok"})
    assert raised.value.param == "line_items"


def test_the_same_idempotency_key_and_body_replays_the_first_answer(client):
    options = {"idempotency_key": "order-42-customer"}
    first = client.v1.customers.create(params={"email": "same@example.com"}, options=options)
    second = client.v1.customers.create(params={"email": "same@example.com"}, options=options)
    assert first.id == second.id
    assert second.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.customers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={"email": "other@example.com"}, options=options)


def test_events_can_be_listed_by_type_and_retrieved(client):
    intent = paid_intent(client, metadata={"orderId": "o-1"})
    succeeded = client.v1.events.list(params={"type": "payment_intent.succeeded"}).data
    assert len(succeeded) == 1 and succeeded[0].data.object.id == intent.id
    event = client.v1.events.retrieve(succeeded[0].id)
    assert (event.object, event.type, event.livemode) == ("event", "payment_intent.succeeded", False)
    assert event.data.object.metadata["orderId"] == "o-1"
    wildcard = {e.type for e in client.v1.events.list(params={"type": "payment_intent.*"}).data}
    assert wildcard == {"payment_intent.created", "payment_intent.succeeded"}


def test_expand_and_pagination(client):
    customer = client.v1.customers.create(params={"email": "pages@example.com"})
    intents = [paid_intent(client, 100 + i, customer=customer.id) for i in range(5)]
    expanded = client.v1.payment_intents.retrieve(intents[0].id, params={"expand": ["customer", "latest_charge"]})
    assert expanded.customer.email == "pages@example.com" and expanded.latest_charge.object == "charge"
    page = client.v1.payment_intents.list(params={"customer": customer.id, "limit": 2})
    assert page.has_more and [i.id for i in page.data] == [intents[4].id, intents[3].id]  # newest first
    every = [i.id for i in page.auto_paging_iter()]
    assert every == [i.id for i in reversed(intents)]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve(intents[0].id, params={"expand": ["amount"]})


def test_unknown_routes_answer_stripes_404_and_responses_carry_a_request_id(server: StripeServer):
    status, headers, body = server.raw("GET", "/stripe/v1/plans", headers={"Authorization": f"Bearer {API_KEY}"})
    assert status == 404 and b"Unrecognized request URL (GET: /v1/plans)" in body
    assert headers["Request-Id"].startswith("req_")
    status, _, body = server.raw("POST", "/stripe/v1/customers", b"metadata[a]=1&metadata=2",
                                 {"Authorization": f"Bearer {API_KEY}",
                                  "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and b"invalid_request_error" in body
