"""End-to-end payment proofs: the twin served for real on a free port, its fake Stripe calling back.

- workforceos checkout redirect flow in a real headless Chromium (Debian's `/usr/bin/chromium`,
  driven by Playwright; nothing downloads a browser): the company admin opens the create answer's
  `checkoutUrl`, clicks Pay (or Decline) and lands on the success (or cancel) URL, where the
  company's frontend reads the subscription back from the twin's API.
- the signed webhooks, as a backend would verify them with the official `stripe` SDK.
- the airbnb card flow, through HTTP only: paying, declines, 3-D Secure, forged and duplicated
  webhooks.

The workforceos workflow builds the checkout's success/cancel URLs itself
(`https://<codename>.workforceos.twin.test/subscription?paid=1` / `?canceled=1`) and a client
cannot choose them; that host does not resolve, so the tests play the company's frontend at that
origin by routing it inside the browser (`Frontend`). The frontend then calls the twin on
127.0.0.1 cross-origin, which Chromium only allows with the `local-network-access` permission.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from twin_testing import AIRBNB, WORKFORCEOS, Twin

from mockserver.workflows.workforceos import PLAN_FEATURES

WEBHOOK_SECRET = "whsec_twin_test"  # the twin's default webhook signing secret
STRIPE_CONTROL = "/__twin/stripe"

SUBSCRIPTIONS = "/subscriptionmanagement-api/v1"
WORKFORCEOS_PROJECT = "workforceos"
SUBSCRIPTION_BODY = {"activationDate": "2020-01-01T00:00:00Z", "expiryDate": "2020-02-01T00:00:00Z",
                     "status": "pending", "ownerId": "00000000-0000-4000-8000-000000000001"}

BOOKINGS = "/bookingmanagement-api/v1"
AIRBNB_PROJECT = "airbnb"
GUEST, HOST = (AIRBNB_PROJECT, "guest1"), (AIRBNB_PROJECT, "host1")
AIRBNB_CALLBACK = f"{BOOKINGS}/callbackreservationpayment"


# -- the fake Stripe's control API, over HTTP ----------------------------------------------------
async def settle(twin: Twin) -> None:
    """Wait until every webhook the fake Stripe has sent so far has been answered."""
    status, body = await twin.call("POST", f"{STRIPE_CONTROL}/drain", json={"timeout": 10})
    assert status == 200 and body == {"drained": True, "pending": 0}, body


async def events_about(twin: Twin, order_id: str, event_type: str) -> list[dict[str, Any]]:
    """The fake Stripe's events of one type whose object names the order in its metadata."""
    status, body = await twin.call("GET", f"{STRIPE_CONTROL}/events", params={"type": event_type})
    assert status == 200, body
    return [e for e in body["events"] if (e["data"]["object"].get("metadata") or {}).get("orderId") == order_id]


async def deliveries_to(twin: Twin, event_id: str, path: str) -> list[dict[str, Any]]:
    """The delivery log of one event, to the endpoint whose URL ends with `path`."""
    status, body = await twin.call("GET", f"{STRIPE_CONTROL}/deliveries", params={"event": event_id})
    assert status == 200, body
    return [d for d in body["deliveries"] if d["url"].endswith(path)]


def signature(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header computed here, independently of the twin's own signer."""
    moment = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{moment}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={moment},v1={mac}"


@dataclass
class Receiver:
    """A backend's webhook endpoint outside the twin: records the raw body and signature header."""

    received: list[tuple[bytes, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), request.headers.get("Stripe-Signature", "")))
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A `Receiver` served on a free port, with its URL."""
    recorder = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/stripe", recorder.handle)
    server = TestServer(app, port=unused_port())
    await server.start_server()
    yield recorder, str(server.make_url("/hooks/stripe"))
    await server.close()


async def add_endpoint(twin: Twin, url: str, events: list[str]) -> dict[str, Any]:
    status, endpoint = await twin.call("POST", f"{STRIPE_CONTROL}/webhook_endpoints", json={"url": url, "events": events})
    assert status == 201 and endpoint["secret"] == WEBHOOK_SECRET, endpoint
    return endpoint


# -- workforceos ---------------------------------------------------------------------------------
async def subscribe(twin: Twin, persona: str, tenant: str) -> dict[str, Any]:
    """A company admin's new subscription, with the create answer's `checkoutUrl` and `checkoutSessionId`."""
    status, body = await twin.call("POST", f"{SUBSCRIPTIONS}/companysubscriptions", as_=(WORKFORCEOS_PROJECT, persona),
                                   tenant=tenant, json=SUBSCRIPTION_BODY)
    assert status == 201, body
    assert body["checkoutUrl"].startswith(f"{twin.client.make_url('/stripe/checkout/')}"), body["checkoutUrl"]
    return {**body["companySubscription"], "checkoutUrl": body["checkoutUrl"],
            "checkoutSessionId": body["checkoutSessionId"]}


async def subscription_of(twin: Twin, subscription: dict[str, Any], persona: str, tenant: str) -> dict[str, Any]:
    """getCompanySubscription, as the company's admin."""
    status, body = await twin.call("GET", f"{SUBSCRIPTIONS}/companysubscriptions/{subscription['id']}",
                                   as_=(WORKFORCEOS_PROJECT, persona), tenant=tenant)
    assert status == 200, body
    return body["companySubscription"]


def outcome(subscription: dict[str, Any]) -> tuple[str, str, str]:
    return subscription["status"], subscription["paymentStatus"], subscription["paymentConfirmation"]


def app_url(codename: str, result: str) -> str:
    """Where workforceos's checkout sends the admin back (`_app_url` in the workflow)."""
    return f"https://{codename}.workforceos.twin.test/subscription?{result}=1"


FRONTEND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AI subscription</title></head>
<body>
<h1 id="outcome">…</h1>
<p id="subscription">loading</p>
<script>
const session = /*SESSION*/null;
const query = new URLSearchParams(location.search);
document.getElementById("outcome").textContent =
  query.has("paid") ? "payment received" : query.has("canceled") ? "payment canceled" : "unknown";
// What the company's app does on return: read the subscription until Stripe's webhook has landed.
async function load() {
  const response = await fetch(`${session.api}/companysubscriptions/${session.subscriptionId}`,
    {headers: {"Authorization": `Bearer ${session.token}`, "mbx-company-codename": session.tenant}});
  const subscription = (await response.json()).companySubscription;
  if (subscription.status === "pending") { setTimeout(show, 50); return; }
  document.getElementById("subscription").textContent =
    [subscription.status, subscription.paymentStatus, subscription.paymentConfirmation].join(" ");
}
function show() { load().catch(error => { document.getElementById("subscription").textContent = `error: ${error}`; }); }
show();
</script>
</body></html>
"""


@dataclass
class Frontend:
    """The companies' web app at `https://<codename>.workforceos.twin.test`, served inside the
    browser: its /subscription page reads the subscription the admin just paid (or not) from the twin."""

    api: str
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)  # codename → token, subscriptionId
    visits: list[str] = field(default_factory=list)

    def log_in(self, codename: str, token: str, subscription: dict[str, Any]) -> None:
        """What the app keeps before redirecting to the checkout (its login and the new subscription)."""
        self.sessions[codename] = {"token": token, "subscriptionId": subscription["id"], "tenant": codename}

    async def serve(self, route: Any) -> None:
        url = urlsplit(route.request.url)
        codename = (url.hostname or "").split(".")[0]
        self.visits.append(route.request.url)
        if url.path != "/subscription" or codename not in self.sessions:
            await route.fulfill(status=404, content_type="text/plain", body="not found")
            return
        session = json.dumps({"api": self.api, **self.sessions[codename]})
        await route.fulfill(status=200, content_type="text/html", body=FRONTEND_PAGE.replace("/*SESSION*/null", session))



@dataclass
class Office:
    """A served workforceos twin, the companies' frontend and a browser page."""

    twin: Twin
    frontend: Frontend
    page: Any

    async def subscribe(self, persona: str, tenant: str) -> dict[str, Any]:
        """Subscribe as the company admin, as the app's 'Subscribe to AI' button does."""
        subscription = await subscribe(self.twin, persona, tenant)
        self.frontend.log_in(tenant, self.twin.persona(WORKFORCEOS_PROJECT, persona)["token"], subscription)
        return subscription

    async def frontend_shows(self) -> str:
        """What the frontend's return page shows once the subscription has left `pending`."""
        await self.page.wait_for_function("document.getElementById('subscription').textContent !== 'loading'")
        return await self.page.inner_text("#subscription")


@pytest.fixture
async def office(make_twin: Callable[..., Awaitable[Twin]], browser: Any) -> AsyncIterator[Office]:
    # The companies' app is not on loopback: allowed by configuration, as `twin serve --cors-origin` does.
    twin = await make_twin(WORKFORCEOS, settings={"cors_origins": ["https://*.workforceos.twin.test"]})
    frontend = Frontend(str(twin.client.make_url(SUBSCRIPTIONS)))
    context = await browser.new_context()
    # The frontend's origin is public, the twin on loopback: Chromium asks for this permission.
    await context.grant_permissions(["local-network-access"])
    await context.route("https://*.workforceos.twin.test/**", frontend.serve)
    page = await context.new_page()
    page.set_default_timeout(5_000)
    yield Office(twin, frontend, page)
    await context.close()


@pytest.mark.browser
async def test_paying_on_the_hosted_checkout_lands_on_the_success_url_with_the_subscription_active(office: Office):
    twin, page = office.twin, office.page
    subscription = await office.subscribe("babil-owner", "babil")
    assert outcome(subscription) == ("pending", "pending", "pending")

    await page.goto(subscription["checkoutUrl"])
    assert await page.inner_text("#amount") == "$49.99"
    assert await page.inner_text("#session-id") == subscription["checkoutSessionId"]
    # A declined test card shows the error on the page and leaves everything open.
    await page.select_option("#card", "chargeDeclinedInsufficientFunds")
    await page.click("#pay")
    assert await page.inner_text("#error") == "Your card has insufficient funds."
    assert page.url.startswith(subscription["checkoutUrl"])
    assert outcome(await subscription_of(twin, subscription, "babil-owner", "babil"))[0] == "pending"

    await page.select_option("#card", "visa")
    await page.click("#pay")
    await page.wait_for_url(lambda url: url == app_url("babil", "paid"))
    assert await page.inner_text("#outcome") == "payment received"
    assert await office.frontend_shows() == "active paid paid"
    assert office.frontend.visits == [app_url("babil", "paid")]

    await twin.stripe.drain()
    paid = await subscription_of(twin, subscription, "babil-owner", "babil")
    assert outcome(paid) == ("active", "paid", "paid")
    assert paid["subscribedFeatures"] == PLAN_FEATURES
    session = twin.stripe.retrieve_checkout_session(subscription["checkoutSessionId"])
    assert (session["status"], session["payment_status"]) == ("complete", "paid")


@pytest.mark.browser
async def test_declining_on_the_hosted_checkout_lands_on_the_cancel_url_with_the_subscription_closed(office: Office):
    twin, page = office.twin, office.page
    subscription = await office.subscribe("acme-owner", "acme")

    await page.goto(subscription["checkoutUrl"])
    await page.click("#decline")
    await page.wait_for_url(lambda url: url == app_url("acme", "canceled"))
    assert await page.inner_text("#outcome") == "payment canceled"
    assert await office.frontend_shows() == "inactive canceled canceled"

    await twin.stripe.drain()
    closed = await subscription_of(twin, subscription, "acme-owner", "acme")
    assert outcome(closed) == ("inactive", "canceled", "canceled")
    assert closed["subscribedFeatures"] == []
    # Back on the finished checkout: a clear page, not a second chance to pay.
    response = await page.goto(subscription["checkoutUrl"])
    assert response.status == 409 and "closed" in await page.inner_text("#title")
    # The company may subscribe again; the other company never saw any of it.
    assert outcome(await subscribe(twin, "acme-owner", "acme")) == ("pending", "pending", "pending")
    status, body = await twin.call("GET", f"{SUBSCRIPTIONS}/companysubscriptions", as_=(WORKFORCEOS_PROJECT, "babil-owner"),
                                   tenant="babil")
    assert status == 200 and body["companySubscriptions"] == [], body


@pytest.mark.browser
@pytest.mark.browser
async def test_pressing_enter_on_the_checkout_form_pays_rather_than_declines(office: Office):
    subscription = await office.subscribe("babil-owner", "babil")
    await office.page.goto(subscription["checkoutUrl"])
    await office.page.fill("#email", "owner@babil.example")
    await office.page.press("#email", "Enter")
    await office.page.wait_for_url(lambda url: url == app_url("babil", "paid"))
    assert await office.page.inner_text("#outcome") == "payment received"


async def test_a_checkout_paid_without_a_browser_sends_webhooks_the_stripe_sdk_verifies(
        make_twin: Callable[..., Awaitable[Twin]], receiver: tuple[Receiver, str]):
    twin = await make_twin(WORKFORCEOS)
    recorder, url = receiver
    await add_endpoint(twin, url, ["checkout.session.completed"])
    subscription = await subscribe(twin, "babil-owner", "babil")

    status, session = await twin.call("POST", f"{STRIPE_CONTROL}/checkout/sessions/{subscription['checkoutSessionId']}/complete",
                                      json={"card": "visa"})
    assert status == 200 and (session["status"], session["payment_status"]) == ("complete", "paid"), session
    await settle(twin)

    [(payload, header)] = recorder.received
    event = stripe.Webhook.construct_event(payload.decode(), header, WEBHOOK_SECRET)
    assert event["type"] == "checkout.session.completed"
    assert event["data"]["object"]["client_reference_id"] == subscription["id"]
    assert event["data"]["object"]["metadata"]["orderId"] == subscription["id"]
    [delivery] = await deliveries_to(twin, event["id"], f"{SUBSCRIPTIONS}/callbackcompanysubscriptionpayment")
    assert delivery["state"] == "succeeded" and [a["status"] for a in delivery["attempts"]] == [200], delivery
    assert outcome(await subscription_of(twin, subscription, "babil-owner", "babil")) == ("active", "paid", "paid")


# -- airbnb, through HTTP only -------------------------------------------------------------------
async def instant_listing(twin: Twin) -> dict[str, Any]:
    status, body = await twin.call("GET", f"/__twin/fixtures/{AIRBNB_PROJECT}/listing")
    assert status == 200, body
    host = twin.persona(*HOST)["userId"]
    return next(r for r in body["records"] if r["hostId"] == host and r["approvalType"] == "instant")


async def book(twin: Twin, weeks_ahead: int = 1, nights: int = 3) -> dict[str, Any]:
    """guest1 books host1's instant listing, `weeks_ahead` weeks after today on the twin's clock."""
    listing = await instant_listing(twin)
    _, clock = await twin.call("GET", "/__twin/clock")
    first = date.fromisoformat(clock["now"][:10]) + timedelta(weeks=weeks_ahead)
    body = {"listingId": listing["id"], "hostId": listing["hostId"], "approvalType": "instant",
            "bookingStatus": "pending", "checkIn": f"{first}T15:00:00.000Z",
            "checkOut": f"{first + timedelta(days=nights)}T11:00:00.000Z", "currency": "usd", "guestCount": 2,
            "totalPrice": 0, "disputeStatus": "none", "bookingPoliciesSnapshot": {}, "cancellationPolicySnapshot": {}}
    status, answer = await twin.call("POST", f"{BOOKINGS}/reservations", as_=GUEST, json=body)
    assert status == 201, answer
    reservation = answer["reservation"]
    assert (reservation["bookingStatus"], reservation["paymentConfirmation"]) == ("pending", "pending")
    assert reservation["totalPrice"] == nights * listing["pricePerNight"]
    return reservation


async def start_payment(twin: Twin, reservation: dict[str, Any], card: str) -> dict[str, Any]:
    status, body = await twin.call("PATCH", f"{BOOKINGS}/startreservationpayment/{reservation['id']}", as_=GUEST,
                                   json={"paymentUserParams": {"paymentMethodId": card}})
    assert status == 200, body
    return body


async def get_reservation(twin: Twin, reservation: dict[str, Any]) -> dict[str, Any]:
    status, body = await twin.call("GET", f"{BOOKINGS}/reservations/{reservation['id']}", as_=GUEST)
    assert status == 200, body
    return body["reservation"]


async def poll_reservation(twin: Twin, reservation: dict[str, Any], done: Callable[[dict[str, Any]], bool],
                           timeout: float = 5.0) -> dict[str, Any]:
    """What a frontend does after starting a payment: read the reservation until the webhook has landed."""
    deadline = time.monotonic() + timeout
    while True:
        current = await get_reservation(twin, reservation)
        if done(current) or time.monotonic() > deadline:
            return current
        await asyncio.sleep(0.02)


def state(reservation: dict[str, Any]) -> tuple[str, str]:
    return reservation["bookingStatus"], reservation["paymentConfirmation"]


@pytest.fixture
async def airbnb(make_twin: Callable[..., Awaitable[Twin]]) -> Twin:
    return await make_twin(AIRBNB)


async def test_a_card_payment_confirms_an_instant_reservation_once_the_webhook_lands(airbnb: Twin):
    reservation = await book(airbnb)
    answer = await start_payment(airbnb, reservation, "pm_card_visa")
    result = answer["paymentResult"]
    assert (result["success"], result["paymentStatus"], result["statusLiteral"]) == (True, "succeeded", "paid")
    assert result["amount"] == reservation["totalPrice"] and result["paymentId"].startswith("pi_")
    # Charged, but the reservation waits for Stripe's webhook.
    assert state(answer["reservation"]) == ("pending", "processing")

    confirmed = await poll_reservation(airbnb, reservation, lambda r: r["bookingStatus"] == "confirmed")
    assert state(confirmed) == ("confirmed", "paid")
    [event] = await events_about(airbnb, reservation["id"], "payment_intent.succeeded")
    [delivery] = await deliveries_to(airbnb, event["id"], AIRBNB_CALLBACK)
    assert delivery["state"] == "succeeded" and [a["status"] for a in delivery["attempts"]] == [200], delivery


async def test_the_card_payments_webhook_verifies_with_the_stripe_sdk(airbnb: Twin, receiver: tuple[Receiver, str]):
    recorder, url = receiver
    await add_endpoint(airbnb, url, ["payment_intent.succeeded"])
    reservation = await book(airbnb)
    await start_payment(airbnb, reservation, "pm_card_visa")
    await settle(airbnb)

    [(payload, header)] = recorder.received
    event = stripe.Webhook.construct_event(payload.decode(), header, WEBHOOK_SECRET)
    intent = event["data"]["object"]
    assert event["type"] == "payment_intent.succeeded" and intent["status"] == "succeeded"
    assert intent["amount"] == round(reservation["totalPrice"] * 100)
    assert intent["metadata"]["orderId"] == reservation["id"]
    assert intent["metadata"]["service"] == "airbnb-bookingmanagement"
    for forged, secret in ((payload.replace(b'"succeeded"', b'"canceled"'), WEBHOOK_SECRET),
                           (payload, "whsec_someone_else")):
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(forged.decode(), header, secret)

    # The same event went to the service's callback, which applied it.
    [delivery] = await deliveries_to(airbnb, event["id"], AIRBNB_CALLBACK)
    assert delivery["state"] == "succeeded" and [a["status"] for a in delivery["attempts"]] == [200], delivery
    confirmed = await get_reservation(airbnb, reservation)
    assert state(confirmed) == ("confirmed", "paid")
    # What the SDK accepted, the callback accepts too; a second copy changes nothing.
    response = await airbnb.client.post(AIRBNB_CALLBACK, data=payload,
                                        headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    assert response.status == 200, await response.text()
    assert (await get_reservation(airbnb, reservation))["recordVersion"] == confirmed["recordVersion"]


@pytest.mark.parametrize(("card", "decline_code", "message"), [
    ("pm_card_chargeDeclined", "generic_decline", "Your card was declined."),
    ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", "Your card has insufficient funds."),
])
async def test_a_declined_card_leaves_the_reservation_unconfirmed_and_a_retry_pays(
        airbnb: Twin, card: str, decline_code: str, message: str):
    reservation = await book(airbnb)
    answer = await start_payment(airbnb, reservation, card)
    result = answer["paymentResult"]
    assert (result["success"], result["paymentStatus"], result["statusLiteral"]) == \
        (False, "requires_payment_method", "failed")
    error = result["paymentIntentInfo"]["last_payment_error"]
    assert (error["code"], error["decline_code"], error["message"]) == ("card_declined", decline_code, message)
    await settle(airbnb)
    assert state(await get_reservation(airbnb, reservation)) == ("pending", "pending")
    assert await events_about(airbnb, reservation["id"], "payment_intent.succeeded") == []

    retried = await start_payment(airbnb, reservation, "pm_card_visa")
    assert retried["paymentResult"]["success"] is True
    assert state(await poll_reservation(airbnb, reservation, lambda r: r["bookingStatus"] == "confirmed")) == \
        ("confirmed", "paid")


@pytest.mark.parametrize(("outcome_", "expected"), [("fail", ("pending", "pending")), ("succeed", ("confirmed", "paid"))])
async def test_3d_secure_decides_the_payment(airbnb: Twin, outcome_: str, expected: tuple[str, str]):
    reservation = await book(airbnb)
    answer = await start_payment(airbnb, reservation, "pm_card_authenticationRequired")
    result = answer["paymentResult"]
    assert (result["success"], result["paymentStatus"]) == (False, "requires_action")
    assert result["paymentIntentInfo"]["next_action"]["type"] == "use_stripe_sdk"
    assert state(answer["reservation"]) == ("pending", "processing")

    status, intent = await airbnb.call("POST", f"{STRIPE_CONTROL}/payment_intents/{result['paymentId']}/authenticate",
                                       json={"outcome": outcome_})
    assert status == 200, intent
    await settle(airbnb)
    assert state(await get_reservation(airbnb, reservation)) == expected


async def test_a_callback_with_a_bad_signature_is_refused_and_changes_nothing(airbnb: Twin):
    reservation = await book(airbnb)
    forged = json.dumps({"id": "evt_forged_1", "object": "event", "type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_forged", "object": "payment_intent", "status": "succeeded",
        "amount": round(reservation["totalPrice"] * 100), "currency": "usd",
        "metadata": {"orderId": reservation["id"], "service": "airbnb-bookingmanagement", "object": "reservation"}}}})
    payload = forged.encode()
    headers = {
        "a made-up signature": f"t={int(time.time())},v1={'0' * 64}",
        "another secret": signature(payload, "whsec_someone_else"),
        "an hour old": signature(payload, timestamp=int(time.time()) - 3600),
        "the signature of another body": signature(payload + b" "),
        "an empty header": "",
    }
    for case, header in headers.items():
        sent = {"Content-Type": "application/json", "Stripe-Signature": header}
        status, body = await airbnb.call("POST", AIRBNB_CALLBACK, data=payload, headers=sent)
        assert status == 400 and body["message"] == "errMsg_invalidWebhookSignature", (case, body)
    # Without the header at all (and without a token) it is an anonymous user's call.
    status, body = await airbnb.call("POST", AIRBNB_CALLBACK, data=payload, headers={"Content-Type": "application/json"})
    assert status == 401 and body["message"] == "errMsg_loginRequired", body
    unchanged = await get_reservation(airbnb, reservation)
    assert state(unchanged) == ("pending", "pending")
    assert unchanged["recordVersion"] == reservation["recordVersion"]


async def test_a_duplicated_or_redelivered_event_is_applied_once(airbnb: Twin):
    reservation = await book(airbnb)
    await start_payment(airbnb, reservation, "pm_card_visa")
    await settle(airbnb)
    confirmed = await get_reservation(airbnb, reservation)
    assert state(confirmed) == ("confirmed", "paid")
    [event] = await events_about(airbnb, reservation["id"], "payment_intent.succeeded")

    status, body = await airbnb.call("POST", f"{STRIPE_CONTROL}/events/{event['id']}/duplicate", json={"count": 2})
    assert status == 200 and {d["kind"] for d in body["deliveries"]} == {"duplicate"}, body
    status, body = await airbnb.call("POST", f"{STRIPE_CONTROL}/events/{event['id']}/redeliver", json={})
    assert status == 200 and {d["kind"] for d in body["deliveries"]} == {"redeliver"}, body
    await settle(airbnb)

    deliveries = await deliveries_to(airbnb, event["id"], AIRBNB_CALLBACK)
    assert [(d["kind"], d["state"], [a["status"] for a in d["attempts"]]) for d in deliveries] == [
        ("original", "succeeded", [200]), ("duplicate", "succeeded", [200]), ("duplicate", "succeeded", [200]),
        ("redeliver", "succeeded", [200])]
    after = await get_reservation(airbnb, reservation)
    assert after["recordVersion"] == confirmed["recordVersion"] and state(after) == ("confirmed", "paid")
    status, body = await airbnb.call("GET", f"{BOOKINGS}/paymentrecords", as_=GUEST,
                                     params={"reservationId": reservation["id"]})
    assert status == 200 and len(body["paymentRecords"]) == 1, body


async def test_a_failure_delivered_again_later_does_not_undo_a_newer_payment_attempt(airbnb: Twin):
    reservation = await book(airbnb)
    first = (await start_payment(airbnb, reservation, "pm_card_authenticationRequired"))["paymentResult"]
    status, _ = await airbnb.call("POST", f"{STRIPE_CONTROL}/payment_intents/{first['paymentId']}/authenticate",
                                  json={"outcome": "fail"})
    assert status == 200
    await settle(airbnb)
    assert state(await get_reservation(airbnb, reservation)) == ("pending", "pending")
    [failed] = await events_about(airbnb, reservation["id"], "payment_intent.payment_failed")

    second = (await start_payment(airbnb, reservation, "pm_card_authenticationRequired"))["paymentResult"]
    assert second["paymentId"] != first["paymentId"]
    retrying = await get_reservation(airbnb, reservation)
    assert state(retrying) == ("pending", "processing")
    # Stripe delivers at least once: the old failure arrives again while the new attempt runs.
    status, body = await airbnb.call("POST", f"{STRIPE_CONTROL}/events/{failed['id']}/duplicate", json={})
    assert status == 200 and body["deliveries"], body
    await settle(airbnb)
    after = await get_reservation(airbnb, reservation)
    assert state(after) == ("pending", "processing") and after["recordVersion"] == retrying["recordVersion"]

    status, _ = await airbnb.call("POST", f"{STRIPE_CONTROL}/payment_intents/{second['paymentId']}/authenticate",
                                  json={"outcome": "succeed"})
    assert status == 200
    await settle(airbnb)
    assert state(await get_reservation(airbnb, reservation)) == ("confirmed", "paid")
