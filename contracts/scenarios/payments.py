"""The guides' shared Stripe payment flow, as the suite drives and judges it.

Every guide's order object has a start operation (`PATCH …/{id}` with
`{"paymentUserParams": {"paymentMethodId": …}}`), a refresh one and a callback one (Stripe's
webhook), which the spec marks with their payment role. Test payment methods are Stripe's own
(`pm_card_visa` succeeds, `pm_card_chargeDeclined` is declined), so the same scenario runs against
Stripe test mode on staging and against the twin's fake Stripe.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from specs.payment import order_parameter

from ..client import Api, Reply
from .base import ScenarioContext

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"


def payment_apis(ctx: ScenarioContext, order_object: str) -> dict[str, str]:
    """{'start': api, 'refresh': api, 'callback': api} of the order object's payment flow (the
    spec's payment role of each operation on the order object)."""
    found: dict[str, str] = {}
    for op in ctx.spec.operations.values():
        if op.data_object == order_object and op.payment is not None:
            found[op.payment] = op.api
    return found


def start_payment(api: Api, start_api: str, order_id: str, method: str, tenant: Any = None) -> Reply:
    """Start paying an order with a Stripe test payment method."""
    op = api.spec.op(start_api)
    extra = {"tenant": tenant} if tenant is not None else {}
    return api.call(start_api, path={op.path_params[0]: order_id},
                    body={"paymentUserParams": {"paymentMethodId": method}}, **extra)


def refresh_payment(api: Api, refresh_api: str, order_id: str, tenant: Any = None) -> Reply:
    op = api.spec.op(refresh_api)
    extra = {"tenant": tenant} if tenant is not None else {}
    return api.call(refresh_api, path={op.path_params[0]: order_id}, body={}, **extra)


def wait_until_paid(ctx: ScenarioContext, api: Api, refresh_api: str | None, order_id: str,
                    read_state: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    """Poll the order until its `paymentConfirmation` is paid; if the webhook is slow, nudge once
    with the refresh operation (as a frontend would). Answers the paid state, or None on timeout."""
    tries = 0

    def probe() -> dict[str, Any] | None:
        nonlocal tries
        tries += 1
        if tries == 20 and refresh_api:
            refresh_payment(api, refresh_api, order_id)
        state = read_state()
        return state if state and state.get("paymentConfirmation") == "paid" else None
    return ctx.wait_for(probe)


def forged_webhook(api: Api, callback_api: str, order_id: str, order_param: str, tenant: Any = None) -> Reply:
    """POST a `payment_intent.succeeded` event for `order_id` signed with a wrong key, without a token."""
    now = int(time.time())
    event = {
        "id": f"evt_forged_{uuid.uuid4().hex[:16]}", "object": "event", "type": "payment_intent.succeeded", "created": now,
        "livemode": False,
        "data": {"object": {"id": f"pi_forged_{uuid.uuid4().hex[:16]}", "object": "payment_intent", "status": "succeeded",
                            "amount": 100, "currency": "usd", "metadata": {"orderId": order_id}}},
        order_param: order_id,
    }
    payload = json.dumps(event).encode()
    headers = {"Stripe-Signature": f"t={now},v1={'0' * 64}", "Content-Type": "application/json"}
    op = api.spec.op(callback_api)
    return api.as_(None).raw(op.method, op.path, data=payload, headers=headers, token=None, tenant=tenant)


def order_param(ctx: ScenarioContext, callback_api: str, order_object: str) -> str:
    """The callback body's order id parameter (`enrollmentId`, `reservationId`, …)."""
    return order_parameter(ctx.spec.op(callback_api).body, order_object)
