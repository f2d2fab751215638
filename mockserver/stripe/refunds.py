"""Refunds of succeeded charges, full or partial; each emits `refund.created` and `charge.refunded`."""

from __future__ import annotations

from typing import Any

from .errors import InvalidRequest, invalid, unexpected_state
from .objects import Store, newest_first, paginate, snapshot
from .params import Params

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _charge_to_refund(store: Store, p: Params) -> dict[str, Any]:
    intent_id, charge_id = p.text("payment_intent"), p.text("charge")
    if intent_id is None and charge_id is None:
        raise InvalidRequest("One of the following params should be provided for this request: payment_intent or "
                             "charge.", code="parameter_missing")
    if charge_id is not None:
        charge = store.get(charge_id, "charge", kind="ch")
        if intent_id is not None and charge["payment_intent"] != intent_id:
            raise invalid("charge", f"Charge {charge_id} does not belong to PaymentIntent {intent_id}.")
    else:
        intent = store.get(intent_id, "payment_intent", kind="pi")
        latest = store.charges.get(intent["latest_charge"] or "")
        if intent["status"] != "succeeded" or latest is None:
            raise unexpected_state("payment_intent", f"This PaymentIntent ({intent_id}) does not have a successful "
                                   "charge to refund.", param="payment_intent")
        charge = latest
    if charge["status"] != "succeeded":
        raise invalid("charge", f"Charge {charge['id']} has not succeeded, so it cannot be refunded.")
    return charge


def create(store: Store, p: Params) -> dict[str, Any]:
    """`POST /v1/refunds` with `payment_intent` or `charge`, optional `amount` (default: what is left)."""
    charge = _charge_to_refund(store, p)
    left = charge["amount"] - charge["amount_refunded"]
    if left <= 0:
        raise InvalidRequest(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
    amount = p.integer("amount", minimum=1)
    if amount is None:
        amount = left
    if amount > left:
        raise invalid("amount", f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left}).",
                      code="amount_too_large")
    refund_id = store.ids.new("re")
    refund = {
        "id": refund_id, "object": "refund", "amount": amount, "balance_transaction": f"txn_{store.ids.token()}",
        "charge": charge["id"], "created": store.now(), "currency": charge["currency"],
        "destination_details": {"card": {"reference_status": "pending", "reference_type": "acquirer_reference_number",
                                         "type": "refund"}, "type": "card"},
        "metadata": p.metadata() or {}, "payment_intent": charge["payment_intent"],
        "reason": p.text("reason", choices=REASONS), "receipt_number": None, "source_transfer_reversal": None,
        "status": "succeeded", "transfer_reversal": None,
    }
    store.refunds[refund_id] = refund
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    store.record("refund.created", refund)
    store.record("charge.refunded", charge, previous)
    return snapshot(refund)


def retrieve(store: Store, refund_id: str) -> dict[str, Any]:
    """`GET /v1/refunds/{id}`."""
    return snapshot(store.get(refund_id, kind="re"))


def listing(store: Store, p: Params) -> dict[str, Any]:
    """`GET /v1/refunds` (optionally `payment_intent=`, `charge=`)."""
    intent_id, charge_id = p.text("payment_intent"), p.text("charge")
    items = newest_first(store.refunds, lambda r: (intent_id is None or r["payment_intent"] == intent_id)
                         and (charge_id is None or r["charge"] == charge_id))
    return paginate(items, p, "/v1/refunds")
