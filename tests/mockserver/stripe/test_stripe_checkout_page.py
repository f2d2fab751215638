"""The hosted checkout page: in a real headless Chromium, Pay leads to the success URL with the session paid,
Decline to the cancel URL with the session expired. Plain HTTP covers the error pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from stripe_harness import StripeServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def new_session(client: stripe.StripeClient, server: StripeServer, **params: Any) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(params={
        "mode": "payment", "customer_email": "ada@example.com", "metadata": {"orderId": "o-55"},
        "success_url": f"{server.url}/shop/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{server.url}/shop/cancel?session_id={{CHECKOUT_SESSION_ID}}",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 2450, "product_data": {"name": "Piano lesson"}},
                        "quantity": 1}], **params})


@pytest.mark.browser
def test_pay_completes_the_session_and_lands_on_the_success_url(client, server: StripeServer, page):
    receiver, _ = server.receiver("shop", events=["checkout.session.completed", "payment_intent.succeeded"])
    session = new_session(client, server)
    page.goto(session.url)
    assert page.locator("#amount").inner_text() == "$24.50"
    assert "Piano lesson" in page.content()
    page.click("#pay")
    page.wait_for_url(f"{server.url}/shop/success**")
    assert page.locator("#result").inner_text() == "success"
    assert page.locator("#session").inner_text() == session.id
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert client.v1.payment_intents.retrieve(paid.payment_intent).status == "succeeded"
    server.drain()
    assert sorted(e["type"] for e in receiver.events()) == ["checkout.session.completed", "payment_intent.succeeded"]


@pytest.mark.browser
def test_decline_expires_the_session_and_lands_on_the_cancel_url(client, server: StripeServer, page):
    session = new_session(client, server)
    page.goto(session.url)
    page.click("#decline")
    page.wait_for_url(f"{server.url}/shop/cancel**")
    assert page.locator("#result").inner_text() == "cancel"
    expired = client.v1.checkout.sessions.retrieve(session.id)
    assert (expired.status, expired.payment_status) == ("expired", "unpaid")
    assert [e.type for e in client.v1.events.list(params={"type": "checkout.session.expired"}).data] == \
        ["checkout.session.expired"]
    # Coming back to a finished session shows a clear page, not a crash.
    response = page.goto(session.url)
    assert response.status == 409 and "closed" in page.locator("#title").inner_text()


@pytest.mark.browser
def test_a_declined_test_card_shows_the_error_and_keeps_the_session_open(client, server: StripeServer, page):
    session = new_session(client, server)
    page.goto(session.url)
    page.select_option("#card", "chargeDeclinedInsufficientFunds")
    page.click("#pay")
    assert page.locator("#error").inner_text() == "Your card has insufficient funds."
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    page.select_option("#card", "visa")
    page.click("#pay")
    page.wait_for_url(f"{server.url}/shop/success**")
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_unknown_and_finished_sessions_get_clear_error_pages(client, server: StripeServer):
    status, headers, body = server.raw("GET", "/stripe/checkout/cs_test_nope")
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert b"Checkout session not found" in body
    session = new_session(client, server)
    server.call(server.fake.complete_checkout_session, session.id)
    for method, path in (("GET", ""), ("POST", "/pay"), ("POST", "/decline")):
        status, _, body = server.raw(method, f"/stripe/checkout/{session.id}{path}", b"" if method == "POST" else None)
        assert status == 409 and b"already been paid" in body, (method, path)
    status, _, body = server.raw("GET", "/stripe/checkout/a/b/c")
    assert status == 404 and b"<html" in body


def test_pay_without_a_browser_redirects_with_303(client, server: StripeServer):
    session = new_session(client, server)
    status, _, body = server.raw("GET", f"/stripe/checkout/{session.id}")
    assert status == 200 and b'id="pay"' in body and b'id="decline"' in body and b"$24.50" in body
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(f"{server.url}/stripe/checkout/{session.id}/pay", data=b"card=visa",
                                     method="POST")
    try:
        opener.open(request, timeout=10)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 303
        assert redirect.headers["Location"] == f"{server.url}/shop/success?session_id={session.id}"
