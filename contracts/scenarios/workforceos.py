"""workforceos · subscriptionManagement: one subscription per company, paid through Stripe; tenants
never see each other's data; only platform admins correct or delete subscriptions.

Identities: `tenantOwner` (and `tenantAdmin`, `tenantUser`) of one company, `tenantOwner2` of
another, `superAdmin`/`saasAdmin` of the platform. Every call names its company in the tenant
header (the identity's own tenant; platform identities name the company they act for).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ..client import Api
from .base import ScenarioContext, scenario
from .lookups import list_all
from .payments import (
    DECLINED,
    VISA,
    forged_webhook,
    order_param,
    payment_apis,
    refresh_payment,
    start_payment,
    wait_until_paid,
)
from .recipes import Recipe, recipe

PROJECT = ("workforceos",)
OPEN = ("pending", "active")

recipe("workforceos", Recipe(
    object="sys_companySubscriptionPayment", actor="superAdmin", tenant_of="tenantOwner",
    body=lambda ctx, tag: {"orderId": str(uuid.uuid4()), "paymentId": f"pi_{tag}", "paymentStatus": "succeeded",
                           "redirectUrl": f"https://app.example.test/paid/{tag}"},
    update=lambda ctx, record, tag: {"paymentStatus": f"refunded-{tag}", "redirectUrl": f"https://app.example.test/r/{tag}"},
    echo=("orderId", "paymentId", "paymentStatus", "redirectUrl"),
))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def subscription_body(owner_id: str | None) -> dict[str, Any]:
    """A createCompanySubscription body the spec accepts (status and dates are the server's to set)."""
    now = datetime.now(UTC)
    return {"activationDate": _iso(now), "expiryDate": _iso(now + timedelta(days=30)), "status": "pending",
            "ownerId": owner_id or str(uuid.uuid4()), "currency": "usd"}


def _owner(ctx: ScenarioContext, name: str = "tenantOwner") -> Api:
    api = ctx.api(name)
    if api.identity is not None and api.identity.user_id is None:
        api.call("listCompanySubscriptions", query={"pageRowCount": 1})  # the envelope's userId names the caller
    return api


def close_open_subscriptions(ctx: ScenarioContext, api: Api) -> None:
    """Cancel the company's pending/active subscriptions (left by earlier runs) so a new one can start."""
    rows, reply = list_all(api, ctx.spec.op("listCompanySubscriptions"))
    ctx.require(reply.ok, f"cannot list the company's subscriptions: {reply.describe()}")
    for row in rows:
        if row.get("status") in OPEN:
            api.call("cancelCompanySubscription", path={"companySubscriptionId": row["id"]}, body={}, judge_answer=False)


def subscribe(ctx: ScenarioContext, api: Api, rule: str | None = None) -> dict[str, Any]:
    """A new pending subscription of `api`'s company (cancelled after the scenario)."""
    reply = api.call("createCompanySubscription", body=subscription_body(api.identity.user_id if api.identity else None))
    ok = reply.status == 201 and isinstance(reply.data, dict)
    if rule is not None:
        ctx.expect(rule, ok, f"{reply.describe()}; a company without a subscription subscribes (201)",
                   operation="createCompanySubscription")
    elif not ok:
        ctx.skip(f"could not create a subscription: {reply.describe()}")
    record = dict(reply.data)
    ctx.cleanup(lambda: api.call("cancelCompanySubscription", path={"companySubscriptionId": record["id"]}, body={},
                                 judge_answer=False))
    return record


def subscription_state(api: Api, subscription_id: str) -> dict[str, Any]:
    reply = api.call("getCompanySubscription", path={"companySubscriptionId": subscription_id})
    return reply.data if reply.ok and isinstance(reply.data, dict) else {}


def _statuses(state: dict[str, Any]) -> str:
    keys = ("status", "paymentStatus", "paymentConfirmation")
    return ", ".join(f"{k}={state.get(k)}" for k in keys) if state else "unreadable"


@scenario("workforceos.one-subscription", projects=PROJECT,
          rules=("first-subscription-created", "second-subscription-refused", "cancelled-allows-new"),
          title="a company holds at most one pending or active subscription")
def one_subscription(ctx: ScenarioContext) -> None:
    """Subscribe, try again, cancel, subscribe again."""
    api = _owner(ctx)
    close_open_subscriptions(ctx, api)
    first = subscribe(ctx, api, "first-subscription-created")
    again = api.call("createCompanySubscription", body=subscription_body(api.identity.user_id if api.identity else None))
    if again.ok and isinstance(again.data, dict):
        second_id = again.data["id"]
        ctx.cleanup(lambda: api.call("cancelCompanySubscription", path={"companySubscriptionId": second_id}, body={},
                                     judge_answer=False))
    ctx.expect("second-subscription-refused", 400 <= again.status < 500,
               f"{again.describe()}; the company already has subscription {first['id']} ({first.get('status')})",
               operation="createCompanySubscription")
    cancel = api.call("cancelCompanySubscription", path={"companySubscriptionId": first["id"]}, body={})
    ctx.require(cancel.ok, f"could not cancel the subscription: {cancel.describe()}")
    subscribe(ctx, api, "cancelled-allows-new")


@scenario("workforceos.payment", projects=PROJECT,
          rules=("start-payment-accepted", "payment-activates-subscription", "declined-card-not-paid", "forged-webhook-refused"),
          title="paying a subscription by card activates it; a declined card or a forged webhook does not")
def payment(ctx: ScenarioContext) -> None:
    """Stripe payment of a company subscription."""
    apis = payment_apis(ctx, "companySubscription")
    ctx.require({"start", "callback"} <= set(apis), "the spec has no subscription payment flow")
    api = _owner(ctx)
    close_open_subscriptions(ctx, api)
    record = subscribe(ctx, api)
    declined = start_payment(api, apis["start"], record["id"], DECLINED)
    if apis.get("refresh"):
        refresh_payment(api, apis["refresh"], record["id"])
    state = subscription_state(api, record["id"])
    ctx.expect("declined-card-not-paid", declined.status in (200, 400, 402) and state.get("status") != "active"
               and state.get("paymentConfirmation") != "paid",
               f"{declined.describe()}; after a declined card the subscription is {_statuses(state)}", operation=apis["start"],
               fatal=False)
    forged = forged_webhook(api, apis["callback"], record["id"], order_param(ctx, apis["callback"], "companySubscription"),
                            tenant=api.identity.tenant if api.identity else None)
    state = subscription_state(api, record["id"])
    ctx.expect("forged-webhook-refused", 400 <= forged.status < 500 and state.get("paymentConfirmation") != "paid"
               and state.get("status") != "active",
               f"{forged.describe()}; a webhook with a bad Stripe-Signature must be refused and change nothing; "
               f"the subscription is {_statuses(state)}", operation=apis["callback"], fatal=False)
    if state.get("status") != "pending" or state.get("paymentConfirmation") == "paid":
        # a broken deployment may have activated or closed it: start afresh
        close_open_subscriptions(ctx, api)
        record = subscribe(ctx, api)
    reply = start_payment(api, apis["start"], record["id"], VISA)
    ctx.expect("start-payment-accepted", reply.status == 200 and isinstance((reply.json or {}).get("paymentResult"), dict),
               f"{reply.describe()}; expected 200 with paymentResult", operation=apis["start"])
    state = wait_until_paid(ctx, api, apis.get("refresh"), record["id"], lambda: subscription_state(api, record["id"])) \
        or subscription_state(api, record["id"])
    ctx.expect("payment-activates-subscription",
               state.get("paymentConfirmation") == "paid" and state.get("status") == "active" and state.get("paymentStatus") == "paid",
               f"after a successful card payment the subscription is {_statuses(state)}; expected active, paid, paid",
               operation=apis["start"])


@scenario("workforceos.tenant-isolation", projects=PROJECT,
          rules=("other-tenant-cannot-read", "other-tenant-list-excludes", "foreign-tenant-header-refused",
                 "platform-reads-by-header"),
          title="one company never sees another's data")
def tenant_isolation(ctx: ScenarioContext) -> None:
    """A subscription of one company, read from another."""
    api = _owner(ctx)
    other = ctx.api("tenantOwner2")
    own, others = api.identity, other.identity
    if own is None or others is None or not others.tenant or others.tenant == own.tenant:
        ctx.skip("needs tenantOwner and tenantOwner2 of two different companies")
    close_open_subscriptions(ctx, api)
    record = subscribe(ctx, api)
    rid = record["id"]
    reply = other.call("getCompanySubscription", path={"companySubscriptionId": rid})
    ctx.expect("other-tenant-cannot-read", reply.status in (403, 404),
               f"{reply.describe()}; {others.tenant} reads {own.tenant}'s subscription {rid}",
               operation="getCompanySubscription", fatal=False)
    rows, first = list_all(other, ctx.spec.op("listCompanySubscriptions"))
    ctx.expect("other-tenant-list-excludes", first.ok and all(r.get("id") != rid for r in rows),
               f"{first.describe()}; {others.tenant}'s list shows {own.tenant}'s subscription {rid}",
               operation="listCompanySubscriptions", fatal=False)
    foreign = other.call("listCompanySubscriptions", tenant=own.tenant)
    ctx.expect("foreign-tenant-header-refused", foreign.status == 403,
               f"{foreign.describe()}; a user of {others.tenant} naming {own.tenant} in the tenant header",
               operation="listCompanySubscriptions", fatal=False)
    platform = ctx.target.identity("superAdmin") or ctx.target.identity("saasAdmin")
    if platform is None or not platform.token:
        ctx.skip_rule("platform-reads-by-header", "no superAdmin/saasAdmin identity")
        return
    admin = ctx.api(platform.name)
    mine, _ = list_all(admin, ctx.spec.op("listCompanySubscriptions"), tenant=own.tenant)
    theirs, _ = list_all(admin, ctx.spec.op("listCompanySubscriptions"), tenant=others.tenant)
    ctx.expect("platform-reads-by-header", any(r.get("id") == rid for r in mine) and all(r.get("id") != rid for r in theirs),
               f"a platform admin naming {own.tenant} must see {rid} and naming {others.tenant} must not",
               operation="listCompanySubscriptions", fatal=False)


@scenario("workforceos.roles", projects=PROJECT,
          rules=("platform-only[updateCompanySubscription]", "platform-only[deleteCompanySubscription]",
                 "admins-only[createCompanySubscription]", "admins-only[listCompanySubscriptions]",
                 "admins-only[cancelCompanySubscription]"),
          title="company admins cannot correct or delete subscriptions; employees cannot subscribe, list or cancel")
def roles(ctx: ScenarioContext) -> None:
    """The guide's role rules, each with a request that would succeed for the right role."""
    api = _owner(ctx)
    close_open_subscriptions(ctx, api)
    record = subscribe(ctx, api)
    rid = {"companySubscriptionId": record["id"]}
    update = api.call("updateCompanySubscription", path=rid, body={"subscribedFeatures": ["aiAnalytics"]})
    ctx.expect("platform-only[updateCompanySubscription]", update.status == 403,
               f"{update.describe()} as tenantOwner; only superAdmin/saasAdmin may update", operation="updateCompanySubscription",
               fatal=False)
    delete = api.call("deleteCompanySubscription", path=rid)
    ctx.expect("platform-only[deleteCompanySubscription]", delete.status == 403,
               f"{delete.describe()} as tenantOwner; only superAdmin/saasAdmin may delete", operation="deleteCompanySubscription",
               fatal=False)
    if ctx.target.identity("tenantUser") is None:
        for rule in ("admins-only[createCompanySubscription]", "admins-only[listCompanySubscriptions]",
                     "admins-only[cancelCompanySubscription]"):
            ctx.skip_rule(rule, "no tenantUser identity")
        return
    user = ctx.api("tenantUser")
    cancel = user.call("cancelCompanySubscription", path=rid, body={})
    ctx.expect("admins-only[cancelCompanySubscription]", cancel.status == 403,
               f"{cancel.describe()} as tenantUser; only company admins cancel", operation="cancelCompanySubscription", fatal=False)
    listing = user.call("listCompanySubscriptions")
    ctx.expect("admins-only[listCompanySubscriptions]", listing.status == 403,
               f"{listing.describe()} as tenantUser; employees do not list subscriptions", operation="listCompanySubscriptions",
               fatal=False)
    api.call("cancelCompanySubscription", path=rid, body={}, judge_answer=False)  # free the slot for the next request
    create = user.call("createCompanySubscription", body=subscription_body(user.identity.user_id if user.identity else None))
    if create.ok and isinstance(create.data, dict):
        created = create.data["id"]
        ctx.cleanup(lambda: api.call("cancelCompanySubscription", path={"companySubscriptionId": created}, body={},
                                     judge_answer=False))
    ctx.expect("admins-only[createCompanySubscription]", create.status == 403,
               f"{create.describe()} as tenantUser; only tenantOwner/tenantAdmin subscribe", operation="createCompanySubscription",
               fatal=False)
