"""workforceos · subscriptionManagement, through HTTP: tenants, roles, Stripe checkout, cancellation.

Each test walks one behaviour of `mockserver/workflows/workforceos.py` end to end with persona
tokens and the `mbx-company-codename` header; payments go through the twin's fake Stripe and its
signed webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pytest
from twin_testing import WORKFORCEOS, Twin

from mockserver.workflows.workforceos import PLAN_FEATURES, PRICE_CENTS, one_month_after

BASE = "/subscriptionmanagement-api/v1"
PROJECT = "workforceos"
SUPERADMIN, SAASADMIN = "superadmin", "saasadmin"
OWNER, ADMIN, USER = "babil-owner", "babil-admin", "babil-user"
ACME_OWNER = "acme-owner"
TENANT_OF = {name: name.split("-")[0] for name in (OWNER, ADMIN, USER, ACME_OWNER, "acme-admin", "acme-user")}
BODY = {"activationDate": "2020-01-01T00:00:00Z", "expiryDate": "2020-02-01T00:00:00Z", "status": "pending",
        "ownerId": "00000000-0000-4000-8000-000000000001"}


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class Office:
    """A running twin with the workforceos personas, and the steps the tests repeat."""

    twin: Twin

    @property
    def stripe(self) -> Any:
        return self.twin.stripe

    def user(self, persona: str) -> str:
        return self.twin.persona(PROJECT, persona)["userId"]

    async def call(self, method: str, path: str, persona: str, tenant: str | None = None,
                   **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """A call as `persona`, naming its own company unless `tenant` says otherwise."""
        return await self.twin.call(method, BASE + path, as_=(PROJECT, persona),
                                    tenant=tenant or TENANT_OF.get(persona), **kwargs)

    async def subscribe_answer(self, persona: str = OWNER, tenant: str | None = None,
                               **overrides: Any) -> tuple[int, dict[str, Any]]:
        return await self.call("POST", "/companysubscriptions", persona, tenant, json={**BODY, **overrides})

    async def subscribe(self, persona: str = OWNER, tenant: str | None = None, **overrides: Any) -> dict[str, Any]:
        """A new subscription, with the create answer's `checkoutUrl`/`checkoutSessionId` kept on it."""
        status, body = await self.subscribe_answer(persona, tenant, **overrides)
        assert status == 201, body
        return {**body["companySubscription"], "checkoutUrl": body["checkoutUrl"],
                "checkoutSessionId": body["checkoutSessionId"]}

    async def subscription(self, subscription: dict[str, Any], persona: str = SUPERADMIN,
                           tenant: str = "babil") -> dict[str, Any]:
        status, body = await self.call("GET", f"/companysubscriptions/{subscription['id']}", persona, tenant)
        assert status == 200, body
        return body["companySubscription"]

    async def pay_checkout(self, subscription: dict[str, Any], card: str = "visa") -> dict[str, Any]:
        """Pay on the hosted checkout page (as the admin redirected there would), then let the webhooks land."""
        self.stripe.complete_checkout_session(subscription["checkoutSessionId"], card=card)
        await self.stripe.drain()
        return await self.subscription(subscription)

    async def start_payment(self, subscription: dict[str, Any], persona: str = OWNER,
                            card: str = "pm_card_visa") -> tuple[int, dict[str, Any]]:
        answer = await self.call("PATCH", f"/startcompanysubscriptionpayment/{subscription['id']}", persona, "babil",
                                 json={"paymentUserParams": {"paymentMethodId": card}})
        await self.stripe.drain()
        return answer

    async def cancel(self, subscription: dict[str, Any], persona: str = OWNER,
                     tenant: str | None = None) -> tuple[int, dict[str, Any]]:
        answer = await self.call("PATCH", f"/cancelcompanysubscription/{subscription['id']}", persona, tenant, json={})
        await self.stripe.drain()
        return answer

    async def ticket(self, subscription: dict[str, Any]) -> dict[str, Any]:
        """The subscription's payment record."""
        status, body = await self.call("GET", f"/companySubscriptionpaymentbyorderid/{subscription['id']}", SUPERADMIN,
                                       "babil")
        assert status == 200, body
        return body["sys_companySubscriptionPayment"]

    async def edit_ticket(self, subscription: dict[str, Any], **changes: Any) -> None:
        """A platform admin's hand edit of the subscription's payment record."""
        ticket = await self.ticket(subscription)
        status, body = await self.call("PATCH", f"/companysubscriptionpayment/{ticket['id']}", SUPERADMIN, "babil",
                                       json=changes)
        assert status == 200, body

    async def webhook(self, event: dict[str, Any], signature: str | None = None) -> tuple[int, dict[str, Any]]:
        """Post a Stripe event to the callback route, signed with the fake's secret unless told otherwise."""
        payload = orjson.dumps(event)
        headers = {"Stripe-Signature": signature or self.stripe.sign(payload), "Content-Type": "application/json"}
        return await self.twin.call("POST", f"{BASE}/callbackcompanysubscriptionpayment", data=payload, headers=headers)

    async def advance_days(self, days: float) -> None:
        status, body = await self.twin.call("POST", "/__twin/clock", json={"advanceSeconds": days * 86400})
        assert status == 200, body


def succeeded_event(subscription: dict[str, Any], event_id: str = "evt_hand_made_1") -> dict[str, Any]:
    """A hand-made `payment_intent.succeeded` naming the subscription, as Stripe would send it."""
    return {"id": event_id, "object": "event", "type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_hand_made", "object": "payment_intent", "status": "succeeded", "amount": PRICE_CENTS,
        "metadata": {"orderId": subscription["id"], "service": "workforceos-subscriptionmanagement"}}}}


@pytest.fixture
async def office(make_twin: Any) -> Office:
    return Office(await make_twin(WORKFORCEOS))


# -- the tenant header ---------------------------------------------------------------------------
async def test_every_call_must_name_its_company(office: Office):
    status, body = await office.twin.call("GET", f"{BASE}/companysubscriptions", as_=(PROJECT, OWNER))
    assert status == 400 and body["message"] == "errMsg_tenantCodenameIsRequired"


async def test_a_company_admin_cannot_act_for_another_company(office: Office):
    status, body = await office.subscribe_answer(OWNER, tenant="acme")
    assert status == 403 and body["message"] == "errMsg_tenantAccessDenied"


async def test_an_unknown_company_is_not_found(office: Office):
    status, body = await office.subscribe_answer(SUPERADMIN, tenant="nowhere")
    assert status == 404 and body["message"] == "errMsg_tenantNotFound"


async def test_one_companys_subscription_is_invisible_to_another(office: Office):
    babil = await office.subscribe(OWNER)
    status, _ = await office.call("GET", f"/companysubscriptions/{babil['id']}", ACME_OWNER)
    assert status == 404
    _, listed = await office.call("GET", "/companysubscriptions", ACME_OWNER)
    assert listed["companySubscriptions"] == []
    status, _ = await office.cancel(babil, ACME_OWNER)
    assert status == 404
    status, _ = await office.call("GET", f"/companysubscriptions/{babil['id']}", SUPERADMIN, "acme")
    assert status == 404


# -- createCompanySubscription -------------------------------------------------------------------
@pytest.mark.parametrize("persona", [OWNER, ADMIN])
async def test_a_company_admin_subscribes_pending_with_a_stripe_checkout_url(office: Office, persona: str):
    subscription = await office.subscribe(persona)
    assert (subscription["status"], subscription["paymentStatus"], subscription["paymentConfirmation"]) == \
        ("pending", "pending", "pending")
    assert subscription["amount"] == PRICE_CENTS and subscription["currency"] == "usd"
    assert subscription["ownerId"] == office.user(persona) and subscription["subscribedFeatures"] == []
    session = office.stripe.retrieve_checkout_session(subscription["checkoutSessionId"])
    assert subscription["checkoutUrl"] == session["url"] and session["status"] == "open"
    assert session["amount_total"] == PRICE_CENTS and session["metadata"]["orderId"] == subscription["id"]


@pytest.mark.parametrize(("headers", "paid", "canceled"), [
    ({"Referer": "http://localhost:5173/settings/billing?tab=plan"},
     "http://localhost:5173/settings/billing?tab=plan&paid=1", "http://localhost:5173/settings/billing?tab=plan&canceled=1"),
    ({"Origin": "http://localhost:3000", "Referer": "http://localhost:3000/"},
     "http://localhost:3000/subscription?paid=1", "http://localhost:3000/subscription?canceled=1"),
    ({}, "https://babil.workforceos.twin.test/subscription?paid=1", "https://babil.workforceos.twin.test/subscription?canceled=1"),
])
async def test_the_checkout_returns_to_the_frontend_that_asked(office: Office, headers: dict[str, str], paid: str,
                                                               canceled: str):
    status, body = await office.call("POST", "/companysubscriptions", OWNER, json=BODY, headers=headers)
    assert status == 201, body
    session = office.stripe.retrieve_checkout_session(body["checkoutSessionId"])
    assert (session["success_url"], session["cancel_url"]) == (paid, canceled)


async def test_a_subscription_belongs_to_the_headers_company(office: Office):
    _, companies = await office.twin.call("GET", f"/__twin/fixtures/{PROJECT}/company")
    babil = next(c for c in companies["records"] if c["codename"] == "babil")
    subscription = await office.subscribe(ADMIN)
    assert subscription["companyId"] == babil["id"]


async def test_status_dates_owner_and_price_are_the_systems_not_the_bodys(office: Office):
    subscription = await office.subscribe(OWNER, status="active", paymentStatusUpdatedAt="2020-01-01T00:00:00Z",
                                          stripeSubscriptionId="sub_forged", subscribedFeatures=["aiAnalytics"])
    assert subscription["status"] == "pending" and subscription["ownerId"] == office.user(OWNER)
    assert subscription["paymentStatusUpdatedAt"] is None and subscription["stripeSubscriptionId"] is None
    assert subscription["subscribedFeatures"] == []
    assert when(subscription["activationDate"]) > when(BODY["activationDate"])
    assert when(subscription["expiryDate"]) == one_month_after(when(subscription["activationDate"]))


async def test_the_checkout_is_recorded_as_the_subscriptions_payment_ticket(office: Office):
    subscription = await office.subscribe(OWNER)
    ticket = await office.ticket(subscription)
    assert ticket["paymentId"] == subscription["checkoutSessionId"] and ticket["ownerId"] == office.user(OWNER)
    assert ticket["statusLiteral"] == "pending"


async def test_the_plan_is_billed_in_usd_whatever_the_body_says(office: Office):
    subscription = await office.subscribe(OWNER, currency="EUR")
    assert (subscription["amount"], subscription["currency"]) == (PRICE_CENTS, "usd")
    assert office.stripe.retrieve_checkout_session(subscription["checkoutSessionId"])["currency"] == "usd"


async def test_employees_cannot_subscribe(office: Office):
    status, body = await office.subscribe_answer(USER)
    assert status == 403 and body["message"] == "errMsg_roleNotAllowed"


async def test_a_company_holds_one_pending_or_active_subscription(office: Office):
    first = await office.subscribe(OWNER)
    status, body = await office.subscribe_answer(ADMIN)
    assert status == 400 and body["message"] == "errMsg_companyAlreadyHasSubscription"
    assert first["id"] in body["detail"]
    await office.subscribe(ACME_OWNER)  # another company is not affected


async def test_the_second_subscription_mutant_lets_a_company_subscribe_twice(make_twin: Any):
    office = Office(await make_twin(WORKFORCEOS, active_mutants=["second-subscription"]))
    await office.subscribe(OWNER)
    status, _ = await office.subscribe_answer(ADMIN)
    assert status == 201


@pytest.mark.parametrize("persona", [SUPERADMIN, SAASADMIN])
async def test_a_platform_admin_grants_an_active_subscription_without_payment(office: Office, persona: str):
    subscription = await office.subscribe(persona, tenant="acme")
    assert (subscription["status"], subscription["paymentStatus"], subscription["paymentConfirmation"]) == \
        ("active", "paid", "paid")
    assert subscription["amount"] == 0 and subscription["subscribedFeatures"] == PLAN_FEATURES
    assert subscription["checkoutUrl"] is None and subscription["checkoutSessionId"] is None
    assert subscription["lastRenewedBy"] == office.user(persona)
    assert when(subscription["expiryDate"]) == one_month_after(when(subscription["activationDate"]))
    status, _ = await office.subscribe_answer(ACME_OWNER)
    assert status == 400  # the grant is the company's one subscription


async def test_a_platform_grant_takes_the_features_it_names(office: Office):
    subscription = await office.subscribe(SAASADMIN, tenant="babil", subscribedFeatures=["reporting"])
    assert subscription["subscribedFeatures"] == ["reporting"]


# -- paying ----------------------------------------------------------------------------------------
async def test_paying_the_checkout_activates_the_subscription(office: Office):
    subscription = await office.subscribe(OWNER)
    paid = await office.pay_checkout(subscription)
    assert (paid["status"], paid["paymentStatus"], paid["paymentConfirmation"]) == ("active", "paid", "paid")
    assert paid["subscribedFeatures"] == PLAN_FEATURES and paid["lastRenewedBy"] == office.user(OWNER)
    assert paid["activationDate"] == paid["paymentStatusUpdatedAt"]
    assert when(paid["activationDate"]) >= when(subscription["activationDate"])
    assert when(paid["expiryDate"]) == one_month_after(when(paid["activationDate"]))
    ticket = await office.ticket(subscription)
    assert ticket["paymentId"].startswith("pi_") and ticket["statusLiteral"] == "paid"


async def test_a_card_payment_through_start_activates_the_subscription(office: Office):
    subscription = await office.subscribe(ADMIN)
    status, body = await office.start_payment(subscription, ADMIN)
    assert status == 200 and body["paymentResult"]["success"] is True, body
    assert body["paymentResult"]["amount"] == PRICE_CENTS / 100
    paid = await office.subscription(subscription)
    assert (paid["status"], paid["paymentStatus"], paid["paymentConfirmation"]) == ("active", "paid", "paid")


async def test_a_declined_card_marks_the_payment_failed_and_another_card_still_pays(office: Office):
    subscription = await office.subscribe(OWNER)
    status, body = await office.start_payment(subscription, card="pm_card_chargeDeclined")
    assert status == 200 and body["paymentResult"]["success"] is False
    assert (body["companySubscription"]["status"], body["companySubscription"]["paymentStatus"]) == ("pending", "failed")
    status, body = await office.start_payment(subscription)
    assert body["paymentResult"]["success"] is True
    assert (await office.subscription(subscription))["status"] == "active"


async def test_a_declined_checkout_card_leaves_the_checkout_open(office: Office):
    subscription = await office.subscribe(OWNER)
    declined = await office.pay_checkout(subscription, card="chargeDeclined")
    assert declined["status"] == "pending"
    assert (await office.pay_checkout(subscription))["status"] == "active"


@pytest.mark.parametrize("persona", [SUPERADMIN, USER])
async def test_only_company_admins_pay(office: Office, persona: str):
    subscription = await office.subscribe(OWNER)
    status, body = await office.start_payment(subscription, persona)
    assert status == 403 and body["message"] == "errMsg_roleNotAllowed"


async def test_a_signed_payment_webhook_activates_the_subscription_once(office: Office):
    subscription = await office.subscribe(OWNER)
    status, body = await office.webhook(succeeded_event(subscription))
    assert status == 200, body
    paid = await office.subscription(subscription)
    assert (paid["status"], paid["paymentStatus"]) == ("active", "paid")
    status, _ = await office.webhook(succeeded_event(subscription))  # redelivered: nothing changes twice
    assert status == 200 and (await office.subscription(subscription))["recordVersion"] == paid["recordVersion"]


async def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(office: Office):
    subscription = await office.subscribe(OWNER)
    status, body = await office.webhook(succeeded_event(subscription), signature="t=1,v1=forged")
    assert status == 400 and body["message"] == "errMsg_invalidWebhookSignature"
    assert (await office.subscription(subscription))["status"] == "pending"


async def test_a_webhook_needs_a_signature_or_a_token(office: Office):
    status, _ = await office.twin.call("POST", f"{BASE}/callbackcompanysubscriptionpayment",
                                       json=succeeded_event({"id": "x"}), headers={"mbx-company-codename": "babil"})
    assert status == 401


async def test_every_webhook_of_a_payment_is_acknowledged(office: Office):
    subscription = await office.subscribe(OWNER)
    await office.start_payment(subscription)  # customer.created, payment_method.attached, charge.*, payment_intent.*
    deliveries = office.stripe.deliveries()
    assert deliveries and {d["state"] for d in deliveries} == {"succeeded"}
    assert all(len(d["attempts"]) == 1 for d in deliveries)


async def test_a_signed_event_about_no_subscription_is_acknowledged_and_ignored(office: Office):
    event = {"id": "evt_customer", "object": "event", "type": "customer.created",
             "data": {"object": {"id": "cus_1", "object": "customer", "metadata": {}}}}
    status, body = await office.webhook(event)
    assert status == 200 and "ignored" in body
    status, body = await office.webhook(event, signature="t=1,v1=forged")
    assert status == 400 and body["message"] == "errMsg_invalidWebhookSignature"


async def test_refreshing_follows_the_checkout_to_its_payment(office: Office):
    subscription = await office.subscribe(OWNER)
    path = f"/refreshcompanysubscriptionpayment/{subscription['id']}"
    status, body = await office.call("PATCH", path, OWNER, json={})
    assert status == 200 and body["paymentResult"]["paymentId"] == subscription["checkoutSessionId"]
    assert body["paymentResult"]["success"] is False and body["companySubscription"]["status"] == "pending"
    await office.pay_checkout(subscription)
    status, body = await office.call("PATCH", path, OWNER, json={})
    assert status == 200 and body["paymentResult"]["success"] is True
    assert body["paymentResult"]["paymentId"].startswith("pi_")


async def test_a_user_callback_reads_the_checkout_back(office: Office):
    subscription = await office.subscribe(OWNER)
    office.stripe.expire_checkout_session(subscription["checkoutSessionId"])  # Stripe's webhook is not waited for
    status, body = await office.call("POST", "/callbackcompanysubscriptionpayment", ADMIN,
                                     json={"companySubscriptionId": subscription["id"]})
    assert status == 200 and body["paymentResult"]["paymentStatus"] == "expired"
    assert body["companySubscription"]["status"] == "inactive"


async def test_a_user_callback_must_name_a_subscription(office: Office):
    status, body = await office.call("POST", "/callbackcompanysubscriptionpayment", OWNER, json={})
    assert status == 404 and body["message"] == "errMsg_companySubscriptionNotFound"


async def test_an_expired_checkout_closes_the_subscription_and_frees_the_company(office: Office):
    subscription = await office.subscribe(OWNER)
    office.stripe.expire_checkout_session(subscription["checkoutSessionId"])
    await office.stripe.drain()
    closed = await office.subscription(subscription)
    assert (closed["status"], closed["paymentStatus"], closed["paymentConfirmation"]) == \
        ("inactive", "canceled", "canceled")
    await office.subscribe(ADMIN)


async def test_a_refund_made_at_stripe_ends_the_subscription(office: Office):
    subscription = await office.subscribe(OWNER)
    await office.pay_checkout(subscription)
    office.stripe.create_refund(payment_intent=(await office.ticket(subscription))["paymentId"])
    await office.stripe.drain()
    refunded = await office.subscription(subscription)
    assert (refunded["status"], refunded["paymentStatus"], refunded["subscribedFeatures"]) == ("inactive", "canceled", [])


async def test_refreshing_a_checkout_stripe_does_not_know_is_not_found(office: Office):
    subscription = await office.subscribe(OWNER)
    await office.edit_ticket(subscription, paymentId="cs_unknown")
    status, body = await office.call("PATCH", f"/refreshcompanysubscriptionpayment/{subscription['id']}", OWNER, json={})
    assert status == 404 and body["message"] == "errMsg_checkoutSessionNotFound"


# -- cancelCompanySubscription -------------------------------------------------------------------
async def test_cancelling_an_active_subscription_blocks_its_features_at_once(office: Office):
    subscription = await office.subscribe(OWNER)
    paid = await office.pay_checkout(subscription)
    status, body = await office.cancel(subscription, ADMIN)
    assert status == 200, body
    canceled = body["companySubscription"]
    assert (canceled["status"], canceled["paymentStatus"], canceled["subscribedFeatures"]) == ("inactive", "canceled", [])
    assert canceled["paymentConfirmation"] == "paid" and canceled["lastRenewedBy"] == office.user(ADMIN)
    assert canceled["expiryDate"] == canceled["paymentStatusUpdatedAt"] < paid["expiryDate"]
    assert office.stripe.state()["refunds"] == []  # the month paid is not refunded


async def test_cancelling_a_pending_subscription_expires_its_checkout(office: Office):
    subscription = await office.subscribe(OWNER)
    status, body = await office.cancel(subscription, OWNER)
    assert status == 200 and body["companySubscription"]["paymentConfirmation"] == "canceled"
    assert office.stripe.retrieve_checkout_session(subscription["checkoutSessionId"])["status"] == "expired"
    status, body = await office.start_payment(subscription)
    assert status == 400 and body["message"] == "errMsg_orderIsCanceled"


async def test_cancelling_cancels_a_card_payment_still_in_progress(office: Office):
    subscription = await office.subscribe(OWNER)
    status, body = await office.start_payment(subscription, card="pm_card_authenticationRequired")
    assert status == 200 and body["companySubscription"]["paymentConfirmation"] == "processing"
    intent = body["paymentResult"]["paymentId"]
    await office.cancel(subscription, OWNER)
    assert office.stripe.retrieve_payment_intent(intent)["status"] == "canceled"
    assert (await office.subscription(subscription))["status"] == "inactive"


async def test_cancelling_still_works_when_stripe_does_not_know_the_payment(office: Office):
    subscription = await office.subscribe(OWNER)
    await office.edit_ticket(subscription, paymentId="pi_unknown")
    status, body = await office.cancel(subscription)
    assert status == 200 and body["companySubscription"]["status"] == "inactive"


@pytest.mark.parametrize("persona", [SUPERADMIN, SAASADMIN])
async def test_platform_admins_cancel_any_companys_subscription(office: Office, persona: str):
    subscription = await office.subscribe(OWNER)
    status, body = await office.cancel(subscription, persona, tenant="babil")
    assert status == 200 and body["companySubscription"]["status"] == "inactive"


async def test_employees_cannot_cancel(office: Office):
    subscription = await office.subscribe(OWNER)
    status, _ = await office.cancel(subscription, USER)
    assert status == 403


async def test_a_canceled_subscription_cannot_be_canceled_again(office: Office):
    subscription = await office.subscribe(OWNER)
    await office.cancel(subscription)
    status, body = await office.cancel(subscription)
    assert status == 400 and body["message"] == "errMsg_subscriptionIsNotCancelable"


async def test_after_cancelling_the_company_may_subscribe_again(office: Office):
    subscription = await office.subscribe(OWNER)
    await office.pay_checkout(subscription)
    await office.cancel(subscription)
    again = await office.subscribe(ADMIN)
    assert again["status"] == "pending"


async def test_a_payment_landing_on_a_closed_subscription_is_refunded(office: Office):
    subscription = await office.subscribe(OWNER)
    status, _ = await office.call("PATCH", f"/companysubscriptions/{subscription['id']}", SUPERADMIN, "babil",
                                  json={"status": "inactive"})
    assert status == 200
    closed = await office.pay_checkout(subscription)
    assert (closed["status"], closed["paymentStatus"]) == ("inactive", "canceled")
    refunds = office.stripe.state()["refunds"]
    assert [r["payment_intent"] for r in refunds] == [(await office.ticket(subscription))["paymentId"]]


# -- expiry ------------------------------------------------------------------------------------
async def test_a_lapsed_month_expires_and_frees_the_company(office: Office):
    subscription = await office.subscribe(OWNER)
    await office.pay_checkout(subscription)
    await office.advance_days(32)
    lapsed = await office.subscription(subscription, OWNER)
    assert (lapsed["status"], lapsed["subscribedFeatures"]) == ("expired", [])
    await office.subscribe(OWNER)


# -- reads ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", [OWNER, ADMIN, USER])
async def test_every_role_of_the_company_reads_its_subscription(office: Office, persona: str):
    subscription = await office.subscribe(OWNER)
    assert (await office.subscription(subscription, persona, "babil"))["id"] == subscription["id"]


async def test_employees_cannot_list_subscriptions(office: Office):
    status, body = await office.call("GET", "/companysubscriptions", USER)
    assert status == 403 and body["message"] == "errMsg_roleNotAllowed"


async def test_a_company_admin_lists_their_companys_subscriptions(office: Office):
    mine = await office.subscribe(OWNER)
    await office.subscribe(ACME_OWNER)
    status, body = await office.call("GET", "/companysubscriptions", ADMIN)
    assert status == 200 and [s["id"] for s in body["companySubscriptions"]] == [mine["id"]]


async def test_a_platform_admin_lists_the_company_its_header_names(office: Office):
    babil, acme = await office.subscribe(OWNER), await office.subscribe(ACME_OWNER)
    for tenant, expected in (("babil", babil), ("acme", acme)):
        _, body = await office.call("GET", "/companysubscriptions", SAASADMIN, tenant)
        assert [s["id"] for s in body["companySubscriptions"]] == [expected["id"]]


# -- update and delete ---------------------------------------------------------------------------
@pytest.mark.parametrize("persona", [OWNER, ADMIN, USER])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_tenant_roles_cannot_update_or_delete(office: Office, persona: str, method: str):
    subscription = await office.subscribe(OWNER)
    status, body = await office.call(method, f"/companysubscriptions/{subscription['id']}", persona,
                                     json={"status": "active"} if method == "PATCH" else None)
    assert status == 403 and body["message"] == "errMsg_roleNotAllowed"


async def test_a_platform_admin_corrects_a_subscription(office: Office):
    subscription = await office.subscribe(OWNER)
    status, body = await office.call("PATCH", f"/companysubscriptions/{subscription['id']}", SUPERADMIN, "babil",
                                     json={"expiryDate": "2040-01-01T00:00:00+02:00", "subscribedFeatures": ["reporting"]})
    assert status == 200, body
    corrected = body["companySubscription"]
    assert corrected["expiryDate"] == "2039-12-31T22:00:00.000Z" and corrected["subscribedFeatures"] == ["reporting"]
    assert corrected["lastRenewedBy"] == office.user(SUPERADMIN) and corrected["recordVersion"] == 2


async def test_a_correction_cannot_end_before_it_starts(office: Office):
    subscription = await office.subscribe(OWNER)
    status, body = await office.call("PATCH", f"/companysubscriptions/{subscription['id']}", SAASADMIN, "babil",
                                     json={"expiryDate": "2001-01-01T00:00:00Z"})
    assert status == 400 and body["message"] == "errMsg_expiryDateIsBeforeActivationDate"


async def test_a_correction_cannot_reopen_a_second_subscription(office: Office):
    old = await office.subscribe(OWNER)
    await office.cancel(old)
    await office.subscribe(OWNER)
    status, body = await office.call("PATCH", f"/companysubscriptions/{old['id']}", SUPERADMIN, "babil",
                                     json={"status": "active"})
    assert status == 400 and body["message"] == "errMsg_companyAlreadyHasSubscription"


async def test_a_platform_admin_deletes_a_subscription(office: Office):
    subscription = await office.subscribe(OWNER)
    status, body = await office.call("DELETE", f"/companysubscriptions/{subscription['id']}", SAASADMIN, "babil")
    assert status == 200 and body["companySubscription"]["isActive"] is False
    status, _ = await office.call("GET", f"/companysubscriptions/{subscription['id']}", OWNER)
    assert status == 404
    await office.subscribe(OWNER)  # a deleted subscription no longer counts


# -- payment records -----------------------------------------------------------------------------
async def test_payment_records_are_read_by_company_admins_and_written_by_platform_admins(office: Office):
    subscription = await office.subscribe(OWNER)
    status, body = await office.call("GET", "/companysubscriptionpayments", ADMIN)
    assert status == 200 and [p["orderId"] for p in body["sys_companySubscriptionPayments"]] == [subscription["id"]]
    status, _ = await office.call("GET", "/companysubscriptionpayments", USER)
    assert status == 403
    record = {"orderId": subscription["id"], "paymentId": "pi_manual", "paymentStatus": "succeeded"}
    status, _ = await office.call("POST", "/companysubscriptionpayment", OWNER, json=record)
    assert status == 403
    status, _ = await office.call("POST", "/companysubscriptionpayment", SUPERADMIN, "babil", json=record)
    assert status == 201


async def test_saved_cards_are_their_users_and_every_one_for_platform_admins(office: Office):
    subscription = await office.subscribe(OWNER)
    await office.start_payment(subscription)
    path = f"/paymentcustomermethods/{office.user(OWNER)}"
    for persona, count in ((OWNER, 1), (ADMIN, 0), (SUPERADMIN, 1)):
        status, body = await office.call("GET", path, persona, "babil")
        assert status == 200 and len(body["sys_paymentMethods"]) == count, persona
