"""workforceos · subscriptionManagement: a company's AI subscription, paid through Stripe.

Multi-tenant: every call names its company in `mbx-company-codename`. The engine refuses a
missing header (400), a tenant user naming another company (403) and an unknown one (404), binds
new records' `companyId` to the header's company and scopes every read to it, so one company's
subscriptions and payments are never visible to another. `superAdmin` and `saasAdmin` belong to
no company and may act for any: they still send the header, naming the company they act for.

Roles: `superAdmin`, `saasAdmin` (platform), `tenantOwner`, `tenantAdmin` (company admins),
`tenantUser` (employees). Who may call which API is the role overlay beside the guide
(`specs/guides/*.roles.yaml`, in the spec as `x-twin-access`). The rules the guide states, and the
choices made where it is vague:

- createCompanySubscription (company admins and platform roles). A company holds at most one
  `pending` or `active` subscription (400 `errMsg_companyAlreadyHasSubscription` otherwise).
  Status, dates and payment fields are system-managed: the body's `status`, `activationDate`,
  `expiryDate`, `paymentStatusUpdatedAt`, `stripeSubscriptionId` and `ownerId` are ignored
  (`ownerId` is the caller, who owns the Stripe payment). `amount` is not a create parameter:
  the plan's fixed price, 4999 cents, and like the price its `currency` is the plan's, `usd`
  (the body's `currency` is ignored: one price list, as the guide's "$49.99" example reads).
  - A company admin's subscription starts `pending` / `paymentStatus: pending` /
    `paymentConfirmation: pending` with no features enabled (`subscribedFeatures: []`);
    `activationDate` is now and `expiryDate` a month later (the period it would cover if paid
    now; both are reset when payment lands). The answer carries the fake Stripe's hosted
    checkout page in two extra top-level keys, `checkoutUrl` and `checkoutSessionId`. The
    checkout is recorded at once as the subscription's payment record (`paymentId` the session
    id, `paymentStatus` the session's `open`, `statusLiteral: pending`), so the session can be
    found again (cancel, refresh, lookup by payment id); paying links the record to the
    session's payment intent.
  - superAdmin/saasAdmin "bypass payment for platform management": their subscription is
    complimentary and active at once — `status: active`, `amount: 0`, `paymentStatus` and
    `paymentConfirmation` `paid` (nothing is due), `activationDate` now, `expiryDate` a month
    later, the body's `subscribedFeatures` (default: the plan's), `lastRenewedBy` the caller;
    `checkoutUrl` and `checkoutSessionId` are null.
- Payment: the hosted checkout (webhook `checkout.session.completed`, after
  `payment_intent.succeeded`) or a card through startCompanySubscriptionPayment (company admins
  only: platform roles never pay) runs the shared Stripe flow. Paid → `status: active`,
  `paymentStatus: paid`, `activationDate` now, `expiryDate` one calendar month later (the day
  clamped to the month's end), `paymentStatusUpdatedAt` now, the plan's features
  (`aiAnalytics`, `reporting`, `notifications`) enabled, `lastRenewedBy` the owner. A card
  declined at start (or a payment failing after processing) → `paymentStatus: failed`, still
  `pending` (retry possible; a declined checkout page simply stays open). An expired checkout or a
  canceled intent → `inactive` / `paymentStatus: canceled` (the company may subscribe again).
  A refund made at Stripe (`charge.refunded`) ends the subscription the same way. A payment
  landing on a subscription closed meanwhile is refunded at once and activates nothing.
  Refresh (and a callback called with a token) on an unpaid checkout answers from the session
  (`paymentResult.paymentId` the session, `success: false`; an expired one closes the
  subscription); once paid, it reads the intent back as the shared flow does. A user's callback
  without `companySubscriptionId` is a 404 like any missing reference. Signed Stripe events
  that name no subscription (`customer.created`, …) are acknowledged (200) and ignored.
  `stripeSubscriptionId` stays null: the fake Stripe has no Subscription objects (the month is
  one payment).
- cancelCompanySubscription (company admins of the owning company, platform roles): only a
  `pending` or `active` subscription (400 otherwise). It "calls Stripe to cancel": an open
  checkout session is expired and a still-open payment intent canceled; a paid month is not
  refunded. The record becomes `status: inactive` (`expired` is kept for a period that ran
  out), `paymentStatus: canceled`, `paymentStatusUpdatedAt` now, `subscribedFeatures: []` (AI
  features are blocked at once), `expiryDate` now when it was later, `lastRenewedBy` the
  caller, and an unpaid one `paymentConfirmation: canceled` (it can no longer be paid). The
  body's fields are ignored.
- Expiry: an `active` subscription whose `expiryDate` has passed on the twin's clock becomes
  `expired` with no features the next time its company's subscriptions are read or written
  (get, list, create, cancel), so a lapsed month does not block a new subscription.
- updateCompanySubscription / deleteCompanySubscription: superAdmin/saasAdmin only, for support
  corrections (tenant roles 403). An update may set any listed field; `lastRenewedBy` defaults to
  the caller, `expiryDate` may not precede `activationDate`, and reopening a subscription
  (`pending`/`active`) is refused while the company has another open one.
- getCompanySubscription: the guide says both "tenantOwner/tenantAdmin/tenantUser" (the API)
  and "only admins" (the data object). Read as: every role of the company may read a
  subscription by id — employees' frontends gate AI panels on it ("used by all frontend
  modules") — while listing (the admin and support dashboard) is for company admins and
  platform roles only; employees get 403 there ("Employees do not have access").
- listCompanySubscriptions: a company admin sees their company's; a platform role sees the
  company its header names ("returns all companies" means any company, one header at a time:
  the guide requires the header on every call and the engine scopes reads to it).
- Payment records: `sys_companySubscriptionPayment` is read by company admins and platform
  roles and written directly by platform roles only (the payment flow writes it); Stripe
  customers and saved cards (`sys_paymentCustomer`, `sys_paymentMethod`) are their own user's,
  and every one of the company's for platform roles.
"""

from __future__ import annotations

import calendar
import contextlib
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .. import mutants
from ..clock import isoformat
from ..context import Context, Result
from ..crud import check_references, find_one, get, list_, new_record, normalize, save
from ..errors import bad_request, not_found
from ..filters import Condition, exact, select
from ..specindex import ServiceSpec
from ..stripe import StripeError
from .base import Handler, Workflow, object_spec
from .payments import PaymentFlow, apply_intent_status, callback_apis, gateway, payment_handlers

# Who may call which API is the role overlay's (specs/guides/*.roles.yaml → x-twin-access); what
# the platform roles may do beyond a company's roles is this module's.
SUPER_ADMIN, SAAS_ADMIN = "superAdmin", "saasAdmin"
PLATFORM = frozenset({SUPER_ADMIN, SAAS_ADMIN})

SUBSCRIPTION, PAYMENT = "companySubscription", "sys_companySubscriptionPayment"
PRICE_CENTS, CURRENCY = 4999, "usd"  # the plan's price: $49.99 a month
PLAN_FEATURES = ["aiAnalytics", "reporting", "notifications"]
OPEN_STATUSES = ("pending", "active")
# Intent statuses Stripe still lets a client cancel.
CANCELABLE_INTENT = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")

SECOND_SUBSCRIPTION = mutants.rule_mutant(
    "second-subscription", "a company can hold a second pending or active subscription")



# -- small helpers -------------------------------------------------------------------------------
def one_month_after(moment: datetime) -> datetime:
    """The same instant one calendar month later (Jan 31 → Feb 28/29)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _period(ctx: Context) -> dict[str, str]:
    """A subscription month starting now."""
    return {"activationDate": isoformat(ctx.now), "expiryDate": isoformat(one_month_after(ctx.now))}


def _payment_record(ctx: Context, subscription: dict[str, Any]) -> dict[str, Any] | None:
    _, found = select(ctx.table(PAYMENT), [exact("orderId", [subscription["id"]])], 0, 1)
    return found[0] if found else None


# -- visibility ----------------------------------------------------------------------------------
def scope(ctx: Context, obj: str) -> list[Condition] | None:
    """Within the header's company (the engine's part): Stripe customers and saved cards are their
    own user's for tenant roles; everything else is the company's."""
    if ctx.role in PLATFORM or ctx.role == "system":
        return None
    if obj in ("sys_paymentCustomer", "sys_paymentMethod"):
        return [exact("userId", [ctx.user_id])]
    return None


# -- the one-open-subscription rule and expiry ---------------------------------------------------
def expire_lapsed(ctx: Context) -> None:
    """Active subscriptions of the header's company whose month has run out become `expired`."""
    if ctx.company is None:
        return
    now = isoformat(ctx.now)
    _, active = select(ctx.table(SUBSCRIPTION), [exact("companyId", [ctx.company["id"]]), exact("status", ["active"])])
    for record in [r for r in active if r.get("expiryDate") and str(r["expiryDate"]) < now]:
        save(ctx, record, {"status": "expired", "subscribedFeatures": []}, object_spec(ctx, SUBSCRIPTION))


def check_no_open_subscription(ctx: Context, company_id: str, except_id: str | None = None) -> None:
    """At most one pending or active subscription per company (400 naming the open one)."""
    conditions = [exact("companyId", [company_id]), exact("status", list(OPEN_STATUSES))]
    open_ = [r for r in select(ctx.table(SUBSCRIPTION), conditions)[1] if r["id"] != except_id]
    if open_ and not ctx.world.mutants.is_active(SECOND_SUBSCRIPTION):
        raise bad_request("errMsg_companyAlreadyHasSubscription",
                          f"companyId: company {company_id} already has a {open_[0]['status']} subscription {open_[0]['id']}")


# -- createCompanySubscription -------------------------------------------------------------------
def _pending_subscription(ctx: Context) -> dict[str, Any]:
    """A company admin's purchase: pending until Stripe reports the payment."""
    return new_record(ctx, {
        **_period(ctx), "status": "pending", "paymentStatus": "pending", "paymentConfirmation": "pending",
        "subscribedFeatures": [], "lastRenewedBy": None, "currency": CURRENCY, "paymentStatusUpdatedAt": None,
        "ownerId": ctx.user_id, "stripeSubscriptionId": None, "amount": PRICE_CENTS,
    })


def _complimentary_subscription(ctx: Context) -> dict[str, Any]:
    """A platform admin's subscription: payment bypassed, active at once, nothing due."""
    features = ctx.body.get("subscribedFeatures")
    return new_record(ctx, {
        **_period(ctx), "status": "active", "paymentStatus": "paid", "paymentConfirmation": "paid",
        "subscribedFeatures": list(features) if features else list(PLAN_FEATURES), "lastRenewedBy": ctx.user_id,
        "currency": CURRENCY, "paymentStatusUpdatedAt": isoformat(ctx.now), "ownerId": ctx.user_id,
        "stripeSubscriptionId": None, "amount": 0,
    })


def _payment_metadata(ctx: Context, subscription: dict[str, Any]) -> dict[str, str]:
    """What Stripe carries back in its webhooks to find the subscription (and its service)."""
    return {"orderId": subscription["id"], "service": ctx.state.spec.slug, "object": SUBSCRIPTION,
            "companyId": str(subscription.get("companyId"))}


def _app_url(ctx: Context, outcome: str) -> str:
    """Where Stripe's hosted checkout sends the admin back, with `?paid=1` or `?canceled=1`.

    The guide names no return URL, so the frontend that asked gets its own back: the page in the
    request's `Referer` (when it names a page, not just an origin), else `<Origin>/subscription`;
    a call from no browser at all returns to the company's page on a placeholder host."""
    referer = (ctx.headers.get("Referer") or "").split("#")[0]
    if referer.startswith(("http://", "https://")) and urlsplit(referer).path not in ("", "/"):
        return f"{referer}{'&' if '?' in referer else '?'}{outcome}=1"
    origin = ctx.headers.get("Origin") or ""
    if origin.startswith(("http://", "https://")):
        return f"{origin.rstrip('/')}/subscription?{outcome}=1"
    return f"https://{(ctx.company or {}).get('codename', 'app')}.workforceos.twin.test/subscription?{outcome}=1"


def _open_checkout(ctx: Context, subscription: dict[str, Any]) -> dict[str, Any]:
    """A Stripe checkout session for the subscription's price, on the fake Stripe's hosted page."""
    metadata = _payment_metadata(ctx, subscription)
    company = (ctx.company or {}).get("name") or "company"
    session: dict[str, Any] = gateway(ctx).create_checkout_session(
        client_reference_id=subscription["id"], success_url=_app_url(ctx, "paid"), cancel_url=_app_url(ctx, "canceled"),
        line_items=[{"quantity": 1, "price_data": {
            "currency": subscription["currency"], "unit_amount": subscription["amount"],
            "product_data": {"name": f"workforceos AI subscription ({company})"}}}],
        metadata=metadata,
        # The intent paying the session carries the same metadata, so its own webhooks find the subscription.
        payment_intent_data={"metadata": metadata, "description": f"{SUBSCRIPTION} {subscription['id']}"},
    )
    return session


def _checkout_ticket(ctx: Context, subscription: dict[str, Any], session: dict[str, Any]) -> dict[str, Any]:
    """The payment record of a checkout: it names the session until paying links its intent."""
    values = {"ownerId": ctx.user_id, "orderId": subscription["id"], "paymentId": session["id"],
              "paymentStatus": session["status"], "statusLiteral": "pending", "redirectUrl": session["success_url"]}
    return ctx.table(PAYMENT).insert(new_record(ctx, values, object_spec(ctx, PAYMENT)))


async def create_subscription(ctx: Context) -> Result:
    """`POST /v1/companysubscriptions`: start a purchase (company admins) or grant one (platform)."""
    assert ctx.company is not None  # the engine resolves the tenant header for every caller
    expire_lapsed(ctx)
    check_no_open_subscription(ctx, ctx.company["id"])
    if ctx.role in PLATFORM:
        record = _complimentary_subscription(ctx)
        check_references(ctx, record)
        return Result(data=ctx.table().insert(record), extra={"checkoutUrl": None, "checkoutSessionId": None})
    record = _pending_subscription(ctx)
    check_references(ctx, record)
    session = _open_checkout(ctx, record)  # first: a Stripe failure must leave no pending record behind
    ctx.table().insert(record)
    _checkout_ticket(ctx, record, session)
    return Result(data=record, extra={"checkoutUrl": session["url"], "checkoutSessionId": session["id"]})


# -- reads ---------------------------------------------------------------------------------------
async def get_subscription(ctx: Context) -> Result:
    """`GET /v1/companysubscriptions/{id}`: the generic get, after lapsed months expire."""
    expire_lapsed(ctx)
    return await get(ctx)


async def list_subscriptions(ctx: Context) -> Result:
    """`GET /v1/companysubscriptions`: the generic list, after lapsed months expire."""
    expire_lapsed(ctx)
    return await list_(ctx)


# -- updateCompanySubscription -------------------------------------------------------------------
async def update_subscription(ctx: Context) -> Result:
    """`PATCH /v1/companysubscriptions/{id}`: a platform admin's correction."""
    record = find_one(ctx)
    changes = {k: v for k, v in ctx.body.items() if k in ctx.obj.properties}
    changes["lastRenewedBy"] = changes.get("lastRenewedBy") or ctx.user_id
    merged = {**record, **normalize(ctx.obj, changes)}  # canonical dates compare as strings
    if str(merged.get("expiryDate") or "") < str(merged.get("activationDate") or ""):
        raise bad_request("errMsg_expiryDateIsBeforeActivationDate",
                          f"expiryDate: {merged.get('expiryDate')} is before activationDate {merged.get('activationDate')}")
    if changes.get("status") in OPEN_STATUSES and record.get("status") not in OPEN_STATUSES:
        check_no_open_subscription(ctx, record["companyId"], except_id=record["id"])
    check_references(ctx, merged, only=set(changes))
    return Result(data=save(ctx, record, changes))


# -- cancelCompanySubscription -------------------------------------------------------------------
def _stop_stripe_payment(ctx: Context, subscription: dict[str, Any]) -> None:
    """Cancel at Stripe what could still take money: the open checkout, or an unfinished intent."""
    payment = _payment_record(ctx, subscription)
    payment_id = str((payment or {}).get("paymentId") or "")
    stripe = gateway(ctx)
    # An id Stripe does not know (a payment record written by hand) has nothing to cancel.
    with contextlib.suppress(StripeError):
        if payment_id.startswith("cs_") and stripe.retrieve_checkout_session(payment_id)["status"] == "open":
            stripe.expire_checkout_session(payment_id)
        elif payment_id.startswith("pi_") and stripe.retrieve_payment_intent(payment_id)["status"] in CANCELABLE_INTENT:
            stripe.cancel_payment_intent(payment_id, cancellation_reason="requested_by_customer")


def _cancellation(ctx: Context, subscription: dict[str, Any]) -> dict[str, Any]:
    """The record's changes when it is canceled: inactive, no features, validity ends now."""
    now = isoformat(ctx.now)
    changes: dict[str, Any] = {"status": "inactive", "paymentStatus": "canceled", "paymentStatusUpdatedAt": now,
                               "subscribedFeatures": [], "lastRenewedBy": ctx.user_id}
    if str(subscription.get("expiryDate") or "") > now:
        changes["expiryDate"] = now
    if subscription.get("paymentConfirmation") != "paid":
        changes["paymentConfirmation"] = "canceled"
    return changes


async def cancel_subscription(ctx: Context) -> Result:
    """`PATCH /v1/cancelcompanysubscription/{id}`: stop the subscription and its payment."""
    expire_lapsed(ctx)
    subscription = find_one(ctx)
    if subscription.get("status") not in OPEN_STATUSES:
        raise bad_request("errMsg_subscriptionIsNotCancelable",
                          f"companySubscriptionId: subscription {subscription['id']} is already {subscription.get('status')}")
    canceled = save(ctx, subscription, _cancellation(ctx, subscription))
    _stop_stripe_payment(ctx, subscription)
    return Result(data=canceled)


# -- the payment flow ----------------------------------------------------------------------------
def _paid_intent(ctx: Context, subscription: dict[str, Any]) -> str | None:
    """The payment intent that paid: the payment record's, else the webhook event's."""
    payment = _payment_record(ctx, subscription)
    if payment is not None and str(payment.get("paymentId") or "").startswith("pi_"):
        return str(payment["paymentId"])
    obj = ((ctx.body.get("data") or {}).get("object")) or {}
    intent = obj.get("payment_intent") if obj.get("object") == "checkout.session" else obj.get("id")
    return intent if isinstance(intent, str) and intent.startswith("pi_") else None


def _on_paid(ctx: Context, subscription: dict[str, Any]) -> dict[str, Any]:
    """Paid: the month starts now and the plan's features switch on; a payment landing on a
    subscription canceled meanwhile goes straight back."""
    now = isoformat(ctx.now)
    if subscription.get("status") != "pending":
        intent = _paid_intent(ctx, subscription)
        if intent is not None:
            # An event naming an intent Stripe does not hold (a hand-made one) has nothing to refund.
            with contextlib.suppress(StripeError):
                gateway(ctx).create_refund(payment_intent=intent, metadata=_payment_metadata(ctx, subscription))
        return {"paymentStatus": "canceled", "paymentStatusUpdatedAt": now}
    return {**_period(ctx), "status": "active", "paymentStatus": "paid", "paymentStatusUpdatedAt": now,
            "subscribedFeatures": list(PLAN_FEATURES), "lastRenewedBy": subscription.get("ownerId")}


def _on_failed(ctx: Context, subscription: dict[str, Any]) -> dict[str, Any]:
    """A declined card: the subscription stays pending, so the admin can retry."""
    return {"paymentStatus": "failed", "paymentStatusUpdatedAt": isoformat(ctx.now)}


def _on_canceled(ctx: Context, subscription: dict[str, Any]) -> dict[str, Any]:
    """The checkout expired or the intent was canceled: an unpaid subscription closes."""
    if subscription.get("status") != "pending":
        return {}
    return {"status": "inactive", "paymentStatus": "canceled", "paymentStatusUpdatedAt": isoformat(ctx.now),
            "subscribedFeatures": []}


def _on_refunded(ctx: Context, subscription: dict[str, Any]) -> dict[str, Any]:
    """Stripe reports the charge refunded: the subscription ends and its features switch off."""
    if subscription.get("status") in ("inactive", "expired"):
        return {}
    return {"status": "inactive", "paymentStatus": "canceled", "paymentStatusUpdatedAt": isoformat(ctx.now),
            "subscribedFeatures": []}


FLOW = PaymentFlow(
    order=SUBSCRIPTION, payment=PAYMENT, amount_cents=lambda subscription: int(subscription.get("amount") or 0),
    on_paid=_on_paid, on_failed=_on_failed, on_canceled=_on_canceled, on_refunded=_on_refunded,
    metadata=lambda ctx, subscription: {"companyId": str(subscription.get("companyId"))},
)


# -- around the shared payment handlers ---------------------------------------------------------
def _checkout_result(ctx: Context, subscription: dict[str, Any], ticket: dict[str, Any],
                     session: dict[str, Any]) -> dict[str, Any]:
    """`paymentResult` for a checkout not paid yet (there is no payment intent to show)."""
    return {
        "paymentTicketId": ticket["id"], "orderId": subscription["id"], "paymentId": session["id"],
        "paymentStatus": session["status"], "paymentIntentInfo": None, "statusLiteral": ticket.get("statusLiteral"),
        "amount": FLOW.amount_cents(subscription) / 100, "currency": subscription.get("currency"), "success": False,
        "description": f"{SUBSCRIPTION} {subscription['id']}", "metadata": session.get("metadata"),
        "paymentUserParams": ctx.body.get("paymentUserParams"),
    }


def following_checkout(shared: Handler) -> Handler:
    """The shared refresh (or a user's callback), first following a checkout ticket: once the
    session is paid the ticket is linked to its intent and the shared handler reads that; while it
    is unpaid the session answers (and an expired one closes the subscription)."""
    async def refresh(ctx: Context) -> Result:
        if ctx.role == "system":  # Stripe's own call: the shared callback judges and applies it
            return await shared(ctx)
        if not ctx.path:
            if not ctx.body.get("companySubscriptionId"):
                # A missing reference is a 404 as everywhere else (the spec leaves it optional).
                raise not_found("errMsg_companySubscriptionNotFound", "companySubscriptionId: no subscription given")
            ctx.path = {"id": ctx.body["companySubscriptionId"]}
        subscription = find_one(ctx)
        ticket = _payment_record(ctx, subscription)
        if ticket is None or not str(ticket.get("paymentId")).startswith("cs_"):
            return await shared(ctx)
        try:
            session = gateway(ctx).retrieve_checkout_session(ticket["paymentId"])
        except StripeError:
            raise not_found("errMsg_checkoutSessionNotFound",
                            f"paymentId: Stripe has no checkout session {ticket['paymentId']}") from None
        if session.get("payment_intent"):
            save(ctx, ticket, {"paymentId": session["payment_intent"]}, object_spec(ctx, PAYMENT))
            return await shared(ctx)
        if session["status"] == "expired":
            subscription = apply_intent_status(ctx, FLOW, subscription, "canceled")
            ticket = _payment_record(ctx, subscription) or ticket
        return Result(data=subscription, extra={"paymentResult": _checkout_result(ctx, subscription, ticket, session)})
    return refresh


def recording_declines(start: Handler) -> Handler:
    """The shared start, plus: a card declined on the spot marks the payment `failed` (the
    subscription stays pending, so the admin can retry with another card)."""
    async def start_payment(ctx: Context) -> Result:
        result = await start(ctx)
        outcome = result.extra.get("paymentResult") or {}
        intent_id = outcome.get("paymentId")
        if not outcome.get("success") and isinstance(intent_id, str) \
                and gateway(ctx).retrieve_payment_intent(intent_id)["status"] == "requires_payment_method":
            result.data = save(ctx, result.data, _on_failed(ctx, result.data))
        return result
    return start_payment


def subscription_management(spec: ServiceSpec) -> Workflow:
    """The subscriptionManagement workflow: role table, scopes, business handlers and payments."""
    handlers: dict[str, Handler] = {
        "createCompanySubscription": create_subscription,
        "getCompanySubscription": get_subscription,
        "listCompanySubscriptions": list_subscriptions,
        "updateCompanySubscription": update_subscription,
        "cancelCompanySubscription": cancel_subscription,
        **payment_handlers(FLOW, spec.operations),
    }
    wrappers = {"startCompanySubscriptionPayment": recording_declines,
                "refreshCompanySubscriptionPayment": following_checkout,
                "callbackCompanySubscriptionPayment": following_checkout}
    for api, wrap in wrappers.items():
        if api in handlers:
            handlers[api] = wrap(handlers[api])
    return Workflow.for_spec(
        spec, name="workforceos.subscriptionManagement", scope=scope, handlers=handlers,
        platform_roles=PLATFORM,
        webhook_apis=callback_apis(FLOW, spec.operations),
    )


WORKFLOWS = {"subscriptionManagement": subscription_management}
