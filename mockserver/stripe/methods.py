"""Payment methods: card methods from test tokens, numbers or magic ids; attach, detach, list.

A magic id such as `pm_card_visa` is never stored itself: using it (attaching it, paying with it)
makes a fresh `pm_…` that remembers the card's behaviour, as Stripe clones its test methods.
"""

from __future__ import annotations

from typing import Any

from . import cards
from .cards import CardSpec
from .errors import CardError, InvalidRequest, invalid, missing, no_such
from .objects import Store, newest_first, paginate, snapshot
from .params import Params

_ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def _billing_details(p: Params) -> dict[str, Any]:
    address = p.nested("address")
    return {
        "address": {field: address.text(field) for field in _ADDRESS_FIELDS},
        "email": p.text("email"), "name": p.text("name"), "phone": p.text("phone"),
    }


def new_card_method(store: Store, card: CardSpec, *, billing: Params | None = None,
                    metadata: dict[str, str] | None = None, exp_month: int | None = None,
                    exp_year: int | None = None) -> dict[str, Any]:
    """Store a new card payment method for `card` and return it (the stored object)."""
    today = store.clock.now()
    method_id = store.ids.new("pm")
    method = {
        "id": method_id, "object": "payment_method", "allow_redisplay": "unspecified",
        "billing_details": _billing_details(billing or Params({})),
        "card": {
            "brand": card.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": card.country, "display_brand": card.brand, "exp_month": exp_month or today.month,
            "exp_year": exp_year or today.year + 1, "fingerprint": card.fingerprint, "funding": card.funding,
            "generated_from": None, "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated", "three_d_secure_usage": {"supported": True}, "wallet": None,
        },
        "created": store.now(), "customer": None, "livemode": False, "metadata": metadata or {}, "type": "card",
    }
    store.payment_methods[method_id] = method
    store.cards[method_id] = card
    return method


def create(store: Store, p: Params) -> dict[str, Any]:
    """`POST /v1/payment_methods` with `type=card` and `card[token]` or `card[number]`, `card[exp_month]`…"""
    p.text("type", required=True, choices=["card"])
    card_params = p.nested("card", required=True)
    tok = card_params.text("token")
    number = card_params.text("number")
    if tok is not None:
        card = cards.token(tok)
        if card is None:
            raise no_such("token", tok, "card[token]")
        return snapshot(new_card_method(store, card, billing=p.nested("billing_details"), metadata=p.metadata()))
    if number is None:
        raise missing("card[number]")
    card = cards.by_number(number)
    if card is None:
        raise CardError("Your card number is incorrect.", code="incorrect_number", param="number")
    exp_month = card_params.integer("exp_month", required=True)
    exp_year = card_params.integer("exp_year", required=True)
    assert exp_month is not None and exp_year is not None
    if not 1 <= exp_month <= 12:
        raise CardError("Your card's expiration month is invalid.", code="invalid_expiry_month", param="exp_month")
    exp_year = exp_year + 2000 if exp_year < 100 else exp_year
    today = store.clock.now()
    if (exp_year, exp_month) < (today.year, today.month):
        raise CardError("Your card's expiration year is invalid.", code="invalid_expiry_year", param="exp_year")
    method = new_card_method(store, card, billing=p.nested("billing_details"), metadata=p.metadata(),
                             exp_month=exp_month, exp_year=exp_year)
    return snapshot(method)


def resolve(store: Store, method_id: str, param: str = "payment_method") -> dict[str, Any]:
    """The stored method, or a fresh clone for a magic id (`pm_card_visa`); 404 naming `param` otherwise."""
    card = cards.magic_payment_method(method_id)
    if card is not None:
        return new_card_method(store, card)
    return store.get(method_id, param, kind="pm")


def retrieve(store: Store, method_id: str) -> dict[str, Any]:
    """`GET /v1/payment_methods/{id}`."""
    return snapshot(resolve(store, method_id, "id"))


def attach(store: Store, method_id: str, customer_id: str | None, *, param: str = "id") -> dict[str, Any]:
    """`POST /v1/payment_methods/{id}/attach`: a magic id attaches a new clone (its id is in the answer)."""
    if not customer_id:
        raise missing("customer")
    customer = store.get(customer_id, "customer", kind="cus")
    method = resolve(store, method_id, param)
    if method["customer"] == customer["id"]:
        return snapshot(method)
    if method["customer"] is not None:
        raise InvalidRequest("The payment method you provided has already been attached to a customer.",
                             param=param, code="payment_method_unexpected_state")
    method["customer"] = customer["id"]
    store.record("payment_method.attached", method)
    return snapshot(method)


def detach(store: Store, method_id: str) -> dict[str, Any]:
    """`POST /v1/payment_methods/{id}/detach`."""
    method = store.get(method_id, kind="pm")
    customer_id = method["customer"]
    if customer_id is None:
        raise InvalidRequest("The payment method you provided is not attached to a customer so detachment is "
                             "impossible.", code="payment_method_unexpected_state")
    method["customer"] = None
    customer = store.customers.get(customer_id)
    if customer is not None and customer["invoice_settings"]["default_payment_method"] == method_id:
        customer["invoice_settings"]["default_payment_method"] = None
    store.record("payment_method.detached", method, {"customer": customer_id})
    return snapshot(method)


def listing(store: Store, p: Params, customer_id: str | None = None) -> dict[str, Any]:
    """`GET /v1/payment_methods?customer=&type=` and `GET /v1/customers/{id}/payment_methods`."""
    from_path = customer_id is not None
    customer_id = customer_id or p.text("customer")
    if customer_id is not None:
        store.get(customer_id, "id" if from_path else "customer", kind="cus")
    kind = p.text("type")
    if kind is not None and kind != "card":
        raise invalid("type", f"Invalid type: the twin's Stripe only has card payment methods, not {kind!r}.")
    items = newest_first(store.payment_methods, lambda m: customer_id is None or m["customer"] == customer_id)
    url = f"/v1/customers/{customer_id}/payment_methods" if from_path else "/v1/payment_methods"
    return paginate(items, p, url)
