"""Checkout sessions (mode `payment`): create, retrieve, list, expire, and completion by the hosted page.

A session is `open` until the hosted page pays it (`complete`, `payment_status=paid`, a succeeded
payment intent) or it is expired (by the API, the page's Decline button, or its `expires_at`
passing on the twin's clock).
"""

from __future__ import annotations

from typing import Any

from . import cards, intents, methods
from .errors import CardError, InvalidRequest, invalid, missing, no_such, unexpected_state
from .objects import Store, newest_first, paginate, snapshot
from .params import Params

DAY = 24 * 3600
MIN_LIFETIME = 30 * 60


def _line_item(store: Store, item: Params) -> dict[str, Any]:
    if "price" in item:
        price_id = item.text("price") or ""
        raise no_such("price", price_id, item.name("price"))
    price_data = item.nested("price_data", required=True)
    currency = price_data.text("currency", required=True) or ""
    unit_amount = price_data.integer("unit_amount", required=True, minimum=0, maximum=99_999_999) or 0
    product = price_data.nested("product_data")
    name = product.text("name", required="product" not in price_data) or price_data.text("product") or ""
    quantity = item.integer("quantity", required=True, minimum=1, maximum=999_999) or 1
    total = unit_amount * quantity
    return {
        "id": f"li_{store.ids.token()}", "object": "item", "amount_discount": 0, "amount_subtotal": total,
        "amount_tax": 0, "amount_total": total, "currency": currency.lower(), "description": name,
        "price": {"id": f"price_{store.ids.token()}", "object": "price", "active": False, "billing_scheme": "per_unit",
                  "created": store.now(), "currency": currency.lower(), "livemode": False, "lookup_key": None,
                  "metadata": {}, "nickname": None, "product": f"prod_{store.ids.token(14)}", "recurring": None,
                  "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None, "type": "one_time",
                  "unit_amount": unit_amount, "unit_amount_decimal": str(unit_amount)},
        "quantity": quantity,
    }


def _line_items(store: Store, p: Params) -> list[dict[str, Any]]:
    items = [_line_item(store, item) for item in p.items("line_items")]
    if not items and "amount" in p:
        # Twin extension: a plain `amount` + `currency` (+ `name`) stands for one line item.
        items = [_line_item(store, Params({"quantity": 1, "price_data": {
            "currency": p.text("currency", required=True), "unit_amount": p.integer("amount", minimum=1),
            "product_data": {"name": p.text("name") or "Payment"}}}))]
    if not items:
        raise missing("line_items")
    if len({item["currency"] for item in items}) > 1:
        raise invalid("line_items", "All line items must use the same currency.")
    return items


def create(store: Store, p: Params, checkout_base: str) -> dict[str, Any]:
    """`POST /v1/checkout/sessions`; `url` points at the twin's hosted page under `checkout_base`."""
    mode = p.text("mode", required=True, choices=["payment", "setup", "subscription"])
    if mode != "payment":
        raise invalid("mode", f"The twin's Stripe supports mode=payment only, not {mode}.")
    success_url = p.text("success_url", required=True)
    customer_id = p.text("customer")
    if customer_id is not None:
        store.get(customer_id, "customer", kind="cus")
    items = _line_items(store, p)
    now = store.now()
    expires_at = p.integer("expires_at") or now + DAY
    if not now + MIN_LIFETIME <= expires_at <= now + DAY:
        raise invalid("expires_at", "The expires_at timestamp must be between 30 minutes and 24 hours from now.")
    intent_data = p.nested("payment_intent_data")
    # Kept for the payment intent that paying creates (Stripe's payment_intent_data).
    for_intent = {"metadata": intent_data.metadata() or {}, "description": intent_data.text("description")}
    total = sum(item["amount_total"] for item in items)
    session_id = store.ids.new("cs_test")
    session = {
        "id": session_id, "object": "checkout.session", "after_expiration": None, "allow_promotion_codes": None,
        "amount_subtotal": total, "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": None, "cancel_url": p.text("cancel_url"),
        "client_reference_id": p.text("client_reference_id", max_length=200), "client_secret": None,
        "consent": None, "consent_collection": None, "created": now, "currency": items[0]["currency"],
        "custom_fields": [], "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                                             "terms_of_service_acceptance": None},
        "customer": customer_id, "customer_creation": None if customer_id else "if_required",
        "customer_details": None, "customer_email": p.text("customer_email"), "expires_at": expires_at,
        "invoice": None, "livemode": False, "locale": p.text("locale"), "metadata": p.metadata() or {},
        "mode": mode, "payment_intent": None, "payment_link": None, "payment_method_collection": "if_required",
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "payment_status": "unpaid", "phone_number_collection": {"enabled": False},
        "recovered_from": None, "setup_intent": None, "shipping_address_collection": None, "shipping_cost": None,
        "shipping_details": None, "shipping_options": [], "status": "open", "submit_type": None,
        "subscription": None, "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}, "ui_mode": "hosted",
        "url": f"{checkout_base}/{session_id}",
    }
    store.checkout_sessions[session_id] = session
    store.line_items[session_id] = items
    store.session_intent_data[session_id] = for_intent
    return snapshot(session)


def _current(store: Store, session_id: str) -> dict[str, Any]:
    """The stored session, expired first if its `expires_at` has passed on the twin's clock."""
    session = store.get(session_id, kind="cs")
    if session["status"] == "open" and store.now() >= session["expires_at"]:
        _expire(store, session)
    return session


def retrieve(store: Store, session_id: str) -> dict[str, Any]:
    """`GET /v1/checkout/sessions/{id}`."""
    return snapshot(_current(store, session_id))


def listing(store: Store, p: Params) -> dict[str, Any]:
    """`GET /v1/checkout/sessions` (optionally `payment_intent=`, `customer=`, `status=`)."""
    for session_id in list(store.checkout_sessions):
        _current(store, session_id)
    intent_id, customer_id = p.text("payment_intent"), p.text("customer")
    status = p.text("status", choices=["open", "complete", "expired"])
    items = newest_first(store.checkout_sessions, lambda s: (intent_id is None or s["payment_intent"] == intent_id)
                         and (customer_id is None or s["customer"] == customer_id)
                         and (status is None or s["status"] == status))
    return paginate(items, p, "/v1/checkout/sessions")


def line_items(store: Store, session_id: str, p: Params) -> dict[str, Any]:
    """`GET /v1/checkout/sessions/{id}/line_items`."""
    _current(store, session_id)
    items = store.line_items[session_id]
    return paginate(items, p, f"/v1/checkout/sessions/{session_id}/line_items")


def _expire(store: Store, session: dict[str, Any]) -> None:
    session.update(status="expired", url=None)
    store.record("checkout.session.expired", session)


def expire(store: Store, session_id: str) -> dict[str, Any]:
    """`POST /v1/checkout/sessions/{id}/expire` (also the hosted page's Decline): only open sessions."""
    session = _current(store, session_id)
    if session["status"] != "open":
        raise InvalidRequest(f"Only Checkout Sessions with a status in [\"open\"] can be expired; this one is "
                             f"{session['status']}.", code="checkout_session_unexpected_state")
    _expire(store, session)
    return snapshot(session)


def complete(store: Store, session_id: str, card_name: str = "visa", email: str | None = None
             ) -> tuple[dict[str, Any], CardError | None]:
    """Pay the session with a test card (what the hosted page's Pay button does).

    On success the session is `complete`/`paid` with a succeeded intent, and `checkout.session.completed`
    follows `payment_intent.succeeded`; on a decline the session stays open and the error is returned.
    """
    session = _current(store, session_id)
    if session["status"] != "open":
        raise unexpected_state("checkout_session", f"This Checkout Session is {session['status']}; only an open one "
                               "can be paid.")
    card = cards.CARDS.get(card_name)
    if card is None:
        raise invalid("card", f"Unknown test card {card_name!r}; use one of {', '.join(cards.CARDS)}.")
    email = email or session["customer_email"] or "customer@example.com"
    method = methods.new_card_method(store, card, billing=Params({"email": email, "name": "Twin Customer"}))
    intent_id = session["payment_intent"]
    if intent_id is None:
        extra = store.session_intent_data[session_id]
        intent, error = intents.create(store, Params({
            "amount": session["amount_total"], "currency": session["currency"], "customer": session["customer"],
            "payment_method": method["id"], "confirm": True, "metadata": extra["metadata"],
            "description": extra["description"]}))
        session["payment_intent"] = intent["id"]
    else:
        intent, error = intents.confirm(store, intent_id, Params({"payment_method": method["id"]}))
    if intent["status"] == "requires_action":
        # The hosted page stands in for the 3-D Secure challenge, and the customer passes it.
        intent = intents.authenticate(store, intent["id"], "succeed")
    if error is not None:
        return snapshot(session), error
    session.update(status="complete", payment_status="paid", url=None,
                   customer_details={"address": None, "email": email, "name": "Twin Customer", "phone": None,
                                     "tax_exempt": "none", "tax_ids": []})
    store.record("checkout.session.completed", session)
    return snapshot(session), None
