"""Payment intents and the charges they make.

Status moves as in Stripe: requires_payment_method → requires_confirmation → (confirm) →
succeeded | requires_action (3-D Secure) | back to requires_payment_method with
`last_payment_error` (a decline); canceled from any unfinished status. The card of the payment
method decides the outcome (see `cards`).
"""

from __future__ import annotations

from typing import Any

from . import methods
from .cards import Outcome
from .errors import CardError, StripeError, invalid, unexpected_state
from .objects import Store, newest_first, paginate, snapshot
from .params import Params, merge_metadata

CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
UPDATABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
AUTH_FAILED = ("The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new "
               "PaymentMethod to attempt to fulfill this PaymentIntent again.")

Confirmed = tuple[dict[str, Any], CardError | None]
"""The intent as it now stands, plus the decline when the card was declined (HTTP answers 402)."""


def _currency(p: Params, required: bool = True) -> str | None:
    currency = p.text("currency", required=required)
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise invalid("currency", f"Invalid currency: {currency.lower()}. Stripe currencies are three-letter ISO "
                      "codes such as usd.")
    return currency.lower() if currency else None


def create(store: Store, p: Params) -> Confirmed:
    """`POST /v1/payment_intents` (with `confirm=true` it is confirmed at once)."""
    amount = p.integer("amount", required=True, minimum=1, maximum=99_999_999)
    currency = _currency(p)
    customer_id = p.text("customer")
    if customer_id is not None:
        store.get(customer_id, "customer", kind="cus")
    for kind in p.strings("payment_method_types"):
        if kind != "card":
            raise invalid("payment_method_types", f"The payment method type {kind!r} is invalid: the twin's Stripe "
                          "only takes cards.")
    capture = p.text("capture_method", choices=["automatic", "automatic_async"]) or "automatic_async"
    setup_future_usage = p.text("setup_future_usage", choices=["on_session", "off_session"])
    confirm = p.boolean("confirm")
    return_url = p.text("return_url")
    if return_url is not None and not confirm:
        raise invalid("return_url", "You can only pass return_url when confirm is true.")
    method = _method(store, p.text("payment_method"), customer_id)
    if confirm and method is None:
        raise invalid("payment_method", "You cannot confirm this PaymentIntent because it's missing a payment "
                      "method. Pass payment_method with confirm=true.", code="payment_intent_unexpected_state")
    intent_id = store.ids.new("pi")
    automatic = p.nested("automatic_payment_methods")
    intent: dict[str, Any] = {
        "id": intent_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None, "application_fee_amount": None,
        "automatic_payment_methods": ({"allow_redirects": "always", "enabled": True}
                                      if automatic.boolean("enabled") else None),
        "canceled_at": None, "cancellation_reason": None, "capture_method": capture,
        "client_secret": store.ids.secret(intent_id), "confirmation_method": "automatic", "created": store.now(),
        "currency": currency, "customer": customer_id, "description": p.text("description"),
        "last_payment_error": None, "latest_charge": None, "livemode": False, "metadata": p.metadata() or {},
        "next_action": None, "on_behalf_of": None, "payment_method": method["id"] if method else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "processing": None, "receipt_email": p.text("receipt_email"),
        "review": None, "setup_future_usage": setup_future_usage, "shipping": None, "source": None,
        "statement_descriptor": p.text("statement_descriptor"),
        "statement_descriptor_suffix": p.text("statement_descriptor_suffix"),
        "status": "requires_confirmation" if method else "requires_payment_method",
        "transfer_data": None, "transfer_group": None,
    }
    store.payment_intents[intent_id] = intent
    store.record("payment_intent.created", intent)
    if confirm:
        return _confirm(store, intent, return_url=return_url, off_session=p.boolean("off_session"))
    return snapshot(intent), None


def _method(store: Store, method_id: str | None, customer_id: str | None) -> dict[str, Any] | None:
    """The payment method to pay with; it must belong to the intent's customer if it belongs to anyone."""
    if method_id is None:
        return None
    method = methods.resolve(store, method_id, "payment_method")
    owner = method["customer"]
    if owner is not None and owner != customer_id:
        raise invalid("payment_method", f"The provided PaymentMethod {method['id']} is attached to customer {owner}; "
                      f"pass customer={owner} to use it.")
    return method


def retrieve(store: Store, intent_id: str) -> dict[str, Any]:
    """`GET /v1/payment_intents/{id}`."""
    return snapshot(store.get(intent_id, kind="pi"))


def update(store: Store, intent_id: str, p: Params) -> dict[str, Any]:
    """`POST /v1/payment_intents/{id}`: amount, currency, customer, payment method, description, metadata."""
    intent = store.get(intent_id, kind="pi")
    changes: dict[str, Any] = {}
    if any(k in p for k in ("amount", "currency", "customer", "payment_method")) and intent["status"] not in UPDATABLE:
        raise unexpected_state("payment_intent", f"You cannot update this PaymentIntent because it has a status of "
                               f"{intent['status']}.")
    if "amount" in p:
        changes["amount"] = p.integer("amount", minimum=1, maximum=99_999_999)
    if "currency" in p:
        changes["currency"] = _currency(p)
    if "customer" in p:
        changes["customer"] = store.get(p.text("customer"), "customer", kind="cus")["id"]
    if "payment_method" in p:
        method = _method(store, p.text("payment_method"), changes.get("customer", intent["customer"]))
        changes["payment_method"] = method["id"] if method else None
        changes["status"] = "requires_confirmation" if method else "requires_payment_method"
    for field in ("description", "receipt_email"):
        if field in p:
            changes[field] = p.text(field)
    changes["metadata"] = merge_metadata(intent["metadata"], p.metadata())
    # Validated above; only now does the stored intent change.
    previous = {k: intent[k] for k, v in changes.items() if intent[k] != v}
    intent.update(changes)
    if previous:
        store.record("payment_intent.updated", intent, previous)
    return snapshot(intent)


def confirm(store: Store, intent_id: str, p: Params) -> Confirmed:
    """`POST /v1/payment_intents/{id}/confirm` (optionally with a new `payment_method`)."""
    intent = store.get(intent_id, kind="pi")
    if intent["status"] not in CONFIRMABLE:
        raise unexpected_state("payment_intent", f"This PaymentIntent's status is {intent['status']}, but it must "
                               f"be one of {', '.join(CONFIRMABLE)} to be confirmed.")
    if "payment_method" in p:
        method = _method(store, p.text("payment_method", required=True), intent["customer"])
        assert method is not None
        intent["payment_method"] = method["id"]
    return _confirm(store, intent, return_url=p.text("return_url"), off_session=p.boolean("off_session"))


def _confirm(store: Store, intent: dict[str, Any], *, return_url: str | None, off_session: bool) -> Confirmed:
    if intent["payment_method"] is None:
        raise unexpected_state("payment_intent", "You cannot confirm this PaymentIntent because it's missing a "
                               "payment method. Update it with a payment_method or confirm it with one.",
                               param="payment_method")
    method = store.payment_methods[intent["payment_method"]]
    outcome = store.cards[method["id"]].outcome
    intent["last_payment_error"] = None
    if outcome.kind == "authenticate" and off_session:
        # Off-session there is nobody to authenticate: Stripe declines instead.
        outcome = Outcome("decline", "authentication_required", "authentication_required",
                          "Your card was declined. This transaction requires authentication.")
    if outcome.kind == "succeed":
        succeed(store, intent)
        return snapshot(intent), None
    if outcome.kind == "authenticate":
        intent["status"] = "requires_action"
        intent["next_action"] = _next_action(store, intent, return_url)
        store.record("payment_intent.requires_action", intent)
        return snapshot(intent), None
    error = decline(store, intent, outcome)
    return snapshot(intent), error


def _next_action(store: Store, intent: dict[str, Any], return_url: str | None) -> dict[str, Any]:
    """What the client must do next: a 3-D Secure redirect (completed through the twin's control API)."""
    if return_url is not None:
        return {"type": "redirect_to_url",
                "redirect_to_url": {"return_url": return_url, "url": f"https://hooks.stripe.com/3d_secure_2/hosted"
                                    f"?payment_intent={intent['id']}"}}
    return {"type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": "https://hooks.stripe.com/redirect/"
                               f"authenticate/src_{store.ids.token()}", "source": f"src_{store.ids.token()}"}}


def succeed(store: Store, intent: dict[str, Any]) -> None:
    """The card was charged: a succeeded charge, `charge.succeeded`, `payment_intent.succeeded`."""
    charge = _charge(store, intent, None)
    intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"],
                  next_action=None, last_payment_error=None)
    store.record("charge.succeeded", charge)
    store.record("payment_intent.succeeded", intent)


def decline(store: Store, intent: dict[str, Any], outcome: Outcome) -> CardError:
    """The card was declined: a failed charge, the intent back to requires_payment_method, the error."""
    method = store.payment_methods[intent["payment_method"]]
    charge = _charge(store, intent, outcome)
    error = CardError(outcome.message, code=outcome.code or "card_declined", decline_code=outcome.decline_code,
                      param=outcome.param, charge=charge["id"], payment_method=snapshot(method))
    intent.update(status="requires_payment_method", last_payment_error=error.error_object(), payment_method=None,
                  latest_charge=charge["id"], next_action=None)
    store.record("charge.failed", charge)
    store.record("payment_intent.payment_failed", intent)
    error.extra["payment_intent"] = snapshot(intent)
    return error


def authenticate(store: Store, intent_id: str, outcome: str) -> dict[str, Any]:
    """Finish 3-D Secure (the twin's control API): `succeed` charges the card, `fail` fails the attempt."""
    if outcome not in ("succeed", "fail"):
        raise invalid("outcome", "outcome must be 'succeed' or 'fail'.")
    intent = store.get(intent_id, kind="pi")
    if intent["status"] != "requires_action":
        raise unexpected_state("payment_intent", f"This PaymentIntent's status is {intent['status']}; only one that "
                               "requires_action can be authenticated.")
    if outcome == "succeed":
        succeed(store, intent)
    else:
        method = store.payment_methods[intent["payment_method"]]
        error = StripeError(400, "invalid_request_error", AUTH_FAILED, code="payment_intent_authentication_failure",
                            payment_method=snapshot(method))
        intent.update(status="requires_payment_method", last_payment_error=error.error_object(),
                      payment_method=None, next_action=None)
        store.record("payment_intent.payment_failed", intent)
    return snapshot(intent)


def cancel(store: Store, intent_id: str, p: Params) -> dict[str, Any]:
    """`POST /v1/payment_intents/{id}/cancel`."""
    intent = store.get(intent_id, kind="pi")
    reason = p.text("cancellation_reason", choices=CANCELLATION_REASONS)
    if intent["status"] not in CANCELABLE:
        raise unexpected_state("payment_intent", f"You cannot cancel this PaymentIntent because it has a status of "
                               f"{intent['status']}. Only a PaymentIntent with one of the following statuses may be "
                               f"canceled: {', '.join(CANCELABLE)}.")
    intent.update(status="canceled", canceled_at=store.now(), cancellation_reason=reason, next_action=None)
    store.record("payment_intent.canceled", intent)
    return snapshot(intent)


def listing(store: Store, p: Params) -> dict[str, Any]:
    """`GET /v1/payment_intents` (optionally `customer=`)."""
    customer_id = p.text("customer")
    items = newest_first(store.payment_intents, lambda i: customer_id is None or i["customer"] == customer_id)
    return paginate(items, p, "/v1/payment_intents")


def _charge(store: Store, intent: dict[str, Any], declined: Outcome | None) -> dict[str, Any]:
    method = store.payment_methods[intent["payment_method"]]
    card = method["card"]
    charge_id = store.ids.new("ch")
    ok = declined is None
    charge = {
        "id": charge_id, "object": "charge", "amount": intent["amount"], "amount_captured": intent["amount"] if ok else 0,
        "amount_refunded": 0, "application": None, "application_fee": None, "application_fee_amount": None,
        "balance_transaction": f"txn_{store.ids.token()}" if ok else None,
        "billing_details": snapshot(method["billing_details"]), "calculated_statement_descriptor": "TWIN",
        "captured": ok, "created": store.now(), "currency": intent["currency"], "customer": intent["customer"],
        "description": intent["description"], "disputed": False,
        "failure_code": declined.code if declined else None, "failure_message": declined.message if declined else None,
        "livemode": False,
        # Stripe copies the intent's metadata onto its charges; webhook consumers rely on it.
        "metadata": dict(intent["metadata"]),
        "outcome": ({"network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                     "seller_message": "Payment complete.", "type": "authorized"} if ok else
                    {"network_status": "declined_by_network", "reason": declined.decline_code if declined else None,
                     "risk_level": "normal", "seller_message": "The bank did not return any further details with "
                     "this decline.", "type": "issuer_declined"}),
        "paid": ok, "payment_intent": intent["id"], "payment_method": method["id"],
        "payment_method_details": {"card": {"brand": card["brand"], "country": card["country"],
                                            "exp_month": card["exp_month"], "exp_year": card["exp_year"],
                                            "fingerprint": card["fingerprint"], "funding": card["funding"],
                                            "last4": card["last4"], "network": card["brand"]}, "type": "card"},
        "receipt_email": intent["receipt_email"], "receipt_url": None, "refunded": False, "review": None,
        "status": "succeeded" if ok else "failed",
    }
    store.charges[charge_id] = charge
    return charge


def retrieve_charge(store: Store, charge_id: str) -> dict[str, Any]:
    """`GET /v1/charges/{id}`."""
    return snapshot(store.get(charge_id, kind="ch"))


def list_charges(store: Store, p: Params) -> dict[str, Any]:
    """`GET /v1/charges` (optionally `payment_intent=`, `customer=`)."""
    intent_id, customer_id = p.text("payment_intent"), p.text("customer")
    items = newest_first(store.charges, lambda c: (intent_id is None or c["payment_intent"] == intent_id)
                         and (customer_id is None or c["customer"] == customer_id))
    return paginate(items, p, "/v1/charges")

