"""The guides' shared Stripe payment flow, for any order object with `sys_<order>Payment` records.

Every guide generates the same three payment APIs per order object — `start<Order>Payment`,
`refresh<Order>Payment`, `callback<Order>Payment` — plus the `sys_paymentCustomer` and
`sys_paymentMethod` records. This module implements them once; a service plugs in a `PaymentFlow`
saying what its order is, what it costs, and what paying (or failing, or a refund) changes.

- start: needs `paymentUserParams.paymentMethodId`; creates (once) the Stripe customer and its
  `sys_paymentCustomer`, attaches the method (`sys_paymentMethod`), creates and confirms a
  payment intent, stores `sys_<order>Payment`, and sets the order's `paymentConfirmation` to
  `processing`. A declined card answers 200 with `paymentResult.success: false` and the decline
  in `paymentIntentInfo.last_payment_error`; the order stays `pending`, so the user can retry.
- Stripe then calls back: the callback route verifies `Stripe-Signature` (400 and no change when
  it is wrong; a call with neither a signature nor a token is an anonymous user call: 401),
  ignores an event id it has already applied, and moves the order to
  `paid` (payment_intent.succeeded, checkout.session.completed), back to `pending`
  (payment_intent.payment_failed) or to `canceled` (payment_intent.canceled,
  checkout.session.expired).
- refresh (and a callback called by a user with a bearer token) reads the intent back from
  Stripe and applies its status the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from specs.payment import order_parameter

from .. import mutants
from ..context import Context, Result
from ..crud import find_one, list_, new_record, save
from ..errors import ApiError, bad_request, forbidden, not_found
from ..filters import exact, select
from ..keys import STRIPE
from ..stripe import FakeStripe, StripeError

if TYPE_CHECKING:
    from ..specindex import Operation
    from .base import Handler

UNSIGNED_WEBHOOK = mutants.rule_mutant("unsigned-webhook", "payment callbacks are accepted without a valid signature")
PAYMENT_STATUS_STUCK = mutants.rule_mutant("payment-status-stuck", "a successful payment does not mark the order paid")

Hook = Callable[[Context, dict[str, Any]], dict[str, Any]]
"""(ctx, order) → further changes to the order (e.g. enrollmentStatus: active)."""


def _no_changes(ctx: Context, order: dict[str, Any]) -> dict[str, Any]:
    return {}


@dataclass
class PaymentFlow:
    """What one service's order object needs from the shared payment flow."""

    order: str
    payment: str
    amount_cents: Callable[[dict[str, Any]], int]
    currency: Callable[[dict[str, Any]], str] = lambda order: str(order.get("currency") or "usd").lower()
    on_paid: Hook = _no_changes
    on_failed: Hook = _no_changes
    on_canceled: Hook = _no_changes
    on_refunded: Hook = _no_changes
    # Raises ApiError when the order may not be paid now (beyond "not paid, not canceled yet").
    payable: Callable[[Context, dict[str, Any]], None] = lambda ctx, order: None
    customer_object: str = "sys_paymentCustomer"
    method_object: str = "sys_paymentMethod"
    metadata: Callable[[Context, dict[str, Any]], dict[str, str]] = field(default=lambda ctx, order: {})


def gateway(ctx: Context) -> FakeStripe:
    """The fake Stripe of this twin (mounted under /stripe); a 500 in the error envelope when the
    twin was built without one."""
    app: web.Application | None = ctx.app
    stripe = app.get(STRIPE) if app is not None else None
    if stripe is None:
        raise ApiError(500, "errMsg_paymentGatewayUnavailable", "the twin runs without its fake Stripe")
    return stripe


def _payment_record(ctx: Context, flow: PaymentFlow, order_id: str) -> dict[str, Any] | None:
    _, found = select(ctx.table(flow.payment), [exact("orderId", [order_id])], 0, 1)
    return found[0] if found else None


def _ensure_customer(ctx: Context, flow: PaymentFlow, stripe: FakeStripe) -> dict[str, Any]:
    table = ctx.table(flow.customer_object)
    _, found = select(table, [exact("userId", [ctx.user_id])], 0, 1)
    if found:
        existing: dict[str, Any] = found[0]
        return existing
    user = ctx.foreign("user")
    profile = user.get(ctx.user_id) if user is not None else None
    customer = stripe.create_customer(email=(profile or {}).get("email"), name=(profile or {}).get("fullname"),
                                      metadata={"userId": ctx.user_id})
    record = new_record(ctx, {"userId": ctx.user_id, "customerId": customer["id"], "platform": "stripe"},
                        ctx.state.spec.data_objects[flow.customer_object])
    return table.insert(record)


def _attach_method(ctx: Context, flow: PaymentFlow, stripe: FakeStripe, customer: dict[str, Any], pm_id: str) -> dict[str, Any]:
    try:
        method = stripe.attach_payment_method(pm_id, customer["customerId"])
    except StripeError as error:
        raise bad_request("errMsg_paymentMethodIdisNotValid",
                          f"paymentUserParams.paymentMethodId: {pm_id} was refused by Stripe ({error.message})") from None
    table = ctx.table(flow.method_object)
    card = method.get("card") or {}
    record = new_record(ctx, {
        "paymentMethodId": method["id"], "userId": ctx.user_id, "customerId": customer["customerId"],
        "cardHolderName": (method.get("billing_details") or {}).get("name"),
        "cardHolderZip": ((method.get("billing_details") or {}).get("address") or {}).get("postal_code"),
        "platform": "stripe",
        "cardInfo": {"brand": card.get("brand"), "last4": card.get("last4"), "expMonth": card.get("exp_month"),
                     "expYear": card.get("exp_year")},
    }, ctx.state.spec.data_objects[flow.method_object])
    return table.insert(record)


def _literal(status: str) -> str:
    """The application's word for a Stripe payment-intent status."""
    return {
        "succeeded": "paid", "processing": "processing", "requires_action": "processing",
        "requires_confirmation": "pending", "requires_payment_method": "failed", "canceled": "canceled",
    }.get(status, status)


def _result(ctx: Context, flow: PaymentFlow, order: dict[str, Any], payment: dict[str, Any] | None,
            intent: dict[str, Any] | None, params: dict[str, Any] | None) -> dict[str, Any]:
    status = (intent or {}).get("status") or (payment or {}).get("paymentStatus")
    return {
        "paymentTicketId": (payment or {}).get("id"),
        "orderId": order["id"],
        "paymentId": (payment or {}).get("paymentId"),
        "paymentStatus": status,
        "paymentIntentInfo": {k: (intent or {}).get(k) for k in
                              ("id", "status", "amount", "currency", "client_secret", "next_action",
                               "last_payment_error", "latest_charge")} if intent else None,
        "statusLiteral": _literal(status) if status else None,
        "amount": flow.amount_cents(order) / 100,
        "currency": flow.currency(order),
        "success": status == "succeeded",
        "description": f"{flow.order} {order['id']}",
        "metadata": {"orderId": order["id"], "service": ctx.state.spec.slug},
        "paymentUserParams": params,
    }


def apply_intent_status(ctx: Context, flow: PaymentFlow, order: dict[str, Any], status: str) -> dict[str, Any]:
    """Move the order (and its payment record) to what the intent's status means."""
    payment = _payment_record(ctx, flow, order["id"])
    if payment is not None and payment.get("paymentStatus") != status:
        save(ctx, payment, {"paymentStatus": status, "statusLiteral": _literal(status)},
             ctx.state.spec.data_objects[flow.payment])
    current = order.get("paymentConfirmation")
    if status == "succeeded" and current != "paid" and not ctx.world.mutants.is_active(PAYMENT_STATUS_STUCK):
        return save(ctx, order, {"paymentConfirmation": "paid", **flow.on_paid(ctx, order)},
                    ctx.state.spec.data_objects[flow.order])
    if status == "requires_payment_method" and current == "processing":
        return save(ctx, order, {"paymentConfirmation": "pending", **flow.on_failed(ctx, order)},
                    ctx.state.spec.data_objects[flow.order])
    if status == "canceled" and current not in ("paid", "canceled"):
        return save(ctx, order, {"paymentConfirmation": "canceled", **flow.on_canceled(ctx, order)},
                    ctx.state.spec.data_objects[flow.order])
    if status in ("processing", "requires_action") and current == "pending":
        return save(ctx, order, {"paymentConfirmation": "processing"}, ctx.state.spec.data_objects[flow.order])
    return order


def start_handler(flow: PaymentFlow) -> Handler:
    """`PATCH /v1/start<Order>Payment/{id}`."""
    async def start(ctx: Context) -> Result:
        order = find_one(ctx)
        flow.payable(ctx, order)
        if order.get("paymentConfirmation") == "paid":
            raise bad_request("errMsg_orderIsAlreadyPaid", f"{flow.order} {order['id']} is already paid")
        if order.get("paymentConfirmation") == "canceled":
            raise bad_request("errMsg_orderIsCanceled", f"{flow.order} {order['id']} is canceled")
        params = ctx.body.get("paymentUserParams") or {}
        pm_id = params.get("paymentMethodId")
        if not isinstance(pm_id, str) or not pm_id:
            raise bad_request("errMsg_paymentUserParams_paymentMethodIdisRequired", "paymentUserParams.paymentMethodId is required")
        stripe = gateway(ctx)
        customer = _ensure_customer(ctx, flow, stripe)
        method = _attach_method(ctx, flow, stripe, customer, pm_id)
        metadata = {"orderId": order["id"], "service": ctx.state.spec.slug, "object": flow.order,
                    **flow.metadata(ctx, order)}
        intent = stripe.create_payment_intent(
            amount=flow.amount_cents(order), currency=flow.currency(order), customer=customer["customerId"],
            payment_method=method["paymentMethodId"], confirm=True, metadata=metadata,
            description=f"{flow.order} {order['id']}",
        )
        payment = _payment_record(ctx, flow, order["id"])
        values = {"ownerId": ctx.user_id, "orderId": order["id"], "paymentId": intent["id"],
                  "paymentStatus": intent["status"], "statusLiteral": _literal(intent["status"]),
                  "redirectUrl": params.get("redirectUrl")}
        payment_obj = ctx.state.spec.data_objects[flow.payment]
        if payment is None:
            payment = ctx.table(flow.payment).insert(new_record(ctx, values, payment_obj))
        else:
            payment = save(ctx, payment, values, payment_obj)
        if intent["status"] in ("succeeded", "processing", "requires_action") and order.get("paymentConfirmation") == "pending":
            order = save(ctx, order, {"paymentConfirmation": "processing"}, ctx.state.spec.data_objects[flow.order])
        return Result(data=order, extra={"paymentResult": _result(ctx, flow, order, payment, intent, params)})
    return start


def refresh_handler(flow: PaymentFlow) -> Handler:
    """`PATCH /v1/refresh<Order>Payment/{id}`: read the intent back from Stripe and apply it."""
    async def refresh(ctx: Context) -> Result:
        order = find_one(ctx)
        return _refresh(ctx, flow, order, ctx.body.get("paymentUserParams"))
    return refresh


def _refresh(ctx: Context, flow: PaymentFlow, order: dict[str, Any], params: Any) -> Result:
    payment = _payment_record(ctx, flow, order["id"])
    if payment is None:
        raise not_found(f"errMsg_{flow.payment}NotFound", f"{flow.order} {order['id']} has no payment yet")
    try:
        intent = gateway(ctx).retrieve_payment_intent(payment["paymentId"])
    except StripeError as error:
        raise not_found("errMsg_paymentIntentNotFound", f"Stripe does not know {payment['paymentId']}: {error.message}") from None
    order = apply_intent_status(ctx, flow, order, intent["status"])
    payment = _payment_record(ctx, flow, order["id"])
    return Result(data=order, extra={"paymentResult": _result(ctx, flow, order, payment, intent, params)})


def callback_handler(flow: PaymentFlow, order_param: str) -> Handler:
    """`POST /v1/callback<Order>Payment`: Stripe's signed webhook, or a user asking for a refresh."""
    async def callback(ctx: Context) -> Result:
        if ctx.role != "system":
            order_id = ctx.body.get(order_param)
            if not order_id:
                # The parameter is optional in the guide (Stripe's calls carry the order in metadata):
                # a user's call without it names no order.
                raise not_found(f"errMsg_{flow.order}NotFound", f"{order_param} names no {flow.order}")
            ctx.path = {"id": order_id}
            order = find_one(ctx)
            return _refresh(ctx, flow, order, None)
        stripe = gateway(ctx)
        header = ctx.headers.get("Stripe-Signature", "") if ctx.headers is not None else ""
        if not ctx.world.mutants.is_active(UNSIGNED_WEBHOOK) and not stripe.verify_signature(ctx.raw_body, header):
            raise bad_request("errMsg_invalidWebhookSignature", "the Stripe-Signature header does not sign this body")
        event = ctx.body
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        obj = obj if isinstance(obj, dict) else {}
        raw_metadata = obj.get("metadata")
        metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
        order_id = metadata.get("orderId")
        if not order_id or metadata.get("service") not in (None, ctx.state.spec.slug) \
                or metadata.get("object") not in (None, flow.order):
            # Stripe sends every event of the account to every endpoint (customer.created, another
            # service's payments, …): acknowledge it, or Stripe would retry it for nothing.
            return Result(data={}, presented=True, extra={"ignored": f"event {event.get('id')} concerns no {flow.order} of this service"})
        live = ctx.table(flow.order).get(order_id) if isinstance(order_id, str) else None
        if live is None:
            # Unknown, or deleted (and settled) meanwhile: nothing to update, and a retry would not help.
            return Result(data={}, presented=True, extra={"ignored": f"no live {flow.order} {order_id}"})
        order = live
        seen = ctx.state.webhook_events
        event_id = str(event.get("id"))
        if event_id in seen:
            return Result(data=order, extra={"paymentResult": _result(ctx, flow, order, _payment_record(ctx, flow, order["id"]), None, None)})
        seen.add(event_id)
        event_type = event.get("type")
        kind = event_type if isinstance(event_type, str) else ""
        status = {
            "payment_intent.succeeded": "succeeded", "checkout.session.completed": "succeeded",
            "payment_intent.payment_failed": "requires_payment_method", "payment_intent.canceled": "canceled",
            "checkout.session.expired": "canceled", "payment_intent.requires_action": "requires_action",
            "payment_intent.processing": "processing",
        }.get(kind)
        if kind == "charge.refunded":
            order = save(ctx, order, flow.on_refunded(ctx, order), ctx.state.spec.data_objects[flow.order])
        elif status is not None:
            if kind.startswith("checkout.session") and obj.get("payment_intent"):
                _link_checkout_payment(ctx, flow, order, obj)
            order = apply_intent_status(ctx, flow, order, status)
        payment = _payment_record(ctx, flow, order["id"])
        return Result(data=order, extra={"paymentResult": _result(ctx, flow, order, payment, None, None)})
    return callback


def _link_checkout_payment(ctx: Context, flow: PaymentFlow, order: dict[str, Any], session: dict[str, Any]) -> None:
    """A checkout session pays through its own intent: record that intent on the payment record."""
    payment = _payment_record(ctx, flow, order["id"])
    values = {"paymentId": session["payment_intent"], "ownerId": order.get("_owner"), "orderId": order["id"],
              "paymentStatus": "succeeded" if session.get("payment_status") == "paid" else "processing",
              "statusLiteral": "paid" if session.get("payment_status") == "paid" else "processing"}
    obj = ctx.state.spec.data_objects[flow.payment]
    if payment is None:
        ctx.table(flow.payment).insert(new_record(ctx, values, obj))
    else:
        save(ctx, payment, values, obj)


def own_payment_methods(admin_role: str) -> Handler:
    """`GET /v1/paymentcustomermethods/{userId}`: a user's own saved cards (any user's for `admin_role`)."""
    async def list_methods(ctx: Context) -> Result:
        if ctx.role != admin_role and ctx.path.get("userId") != ctx.user_id:
            raise forbidden("errMsg_accessDenied", "userId: a user may list only their own payment methods")
        return await list_(ctx)
    return list_methods


def payment_handlers(flow: PaymentFlow, operations: list[Operation]) -> dict[str, Handler]:
    """The start/refresh/callback handlers for `flow`, keyed by the guide's API names (the spec's
    payment role of each operation on the order object says which is which)."""
    handlers: dict[str, Handler] = {}
    for op in operations:
        if op.data_object != flow.order:
            continue
        if op.payment == "start":
            handlers[op.api] = start_handler(flow)
        elif op.payment == "refresh":
            handlers[op.api] = refresh_handler(flow)
        elif op.payment == "callback":
            handlers[op.api] = callback_handler(flow, order_parameter(op.body_names, flow.order))
    return handlers


def callback_apis(flow: PaymentFlow, operations: list[Operation]) -> frozenset[str]:
    """The callback API names of `flow` (they accept Stripe's signed webhooks without a token)."""
    return frozenset(op.api for op in operations if op.data_object == flow.order and op.payment == "callback")
