"""airbnb · bookingManagement, through HTTP: booking, host approval, paying, cancelling, disputes.

Each test walks one behaviour of `mockserver/workflows/airbnb.py` end to end with persona tokens;
payments go through the twin's fake Stripe and its webhooks. The twin's clock is frozen on
2027-03-01 12:00 UTC, so stays are booked by day offsets from 2027-03-10.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twin_testing import AIRBNB, Twin

from mockserver.clock import Clock

BASE = "/bookingmanagement-api/v1"
PROJECT = "airbnb"
ADMIN = (PROJECT, "admin")
HOST1, HOST2 = (PROJECT, "host1"), (PROJECT, "host2")
GUEST1, GUEST2 = (PROJECT, "guest1"), (PROJECT, "guest2")
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
FIRST_DAY = datetime(2027, 3, 10, tzinfo=UTC)


def stay(day: int, nights: int) -> tuple[str, str]:
    """Check-in at 15:00 on FIRST_DAY + day, check-out at 11:00 `nights` later."""
    start = FIRST_DAY + timedelta(days=day, hours=15)
    end = FIRST_DAY + timedelta(days=day + nights, hours=11)
    return start.strftime("%Y-%m-%dT%H:%M:%S.000Z"), end.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# -- the market: fixtures, bookings, payments ----------------------------------------------------
@dataclass
class Market:
    """A running twin plus its airbnb listings, with the steps the tests repeat."""

    twin: Twin
    listings: dict[tuple[str, str], dict[str, Any]]  # (host persona name, approvalType) → listing

    def user(self, persona: tuple[str, str]) -> str:
        return self.twin.persona(*persona)["userId"]

    def listing(self, host: str = "host1", approval: str = "instant") -> dict[str, Any]:
        return self.listings[(host, approval)]

    async def call(self, method: str, path: str, as_: tuple[str, str] | None = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return await self.twin.call(method, BASE + path, as_=as_, **kwargs)

    async def book_answer(self, guest: tuple[str, str] = GUEST1, listing: dict[str, Any] | None = None,
                          day: int = 0, nights: int = 3, **overrides: Any) -> tuple[int, dict[str, Any]]:
        listing = listing or self.listing()
        check_in, check_out = stay(day, nights)
        body = {"listingId": listing["id"], "hostId": listing["hostId"], "approvalType": "instant",
                "bookingStatus": "pending", "checkIn": check_in, "checkOut": check_out, "currency": "usd",
                "guestCount": 2, "totalPrice": 1.0, "disputeStatus": "none",
                "bookingPoliciesSnapshot": {"houseRules": "no parties"},
                "cancellationPolicySnapshot": {"policy": "flexible"}, **overrides}
        return await self.call("POST", "/reservations", guest, json=body)

    async def book(self, guest: tuple[str, str] = GUEST1, listing: dict[str, Any] | None = None,
                   day: int = 0, nights: int = 3) -> dict[str, Any]:
        status, body = await self.book_answer(guest, listing, day, nights)
        assert status == 201, body
        return body["reservation"]

    async def reservation(self, reservation_id: str) -> dict[str, Any]:
        """The stored reservation, deleted or not."""
        _, state = await self.twin.call("GET", "/__twin/state")
        return next(r for r in self.objects(state, "reservation") if r["id"] == reservation_id)

    @staticmethod
    def objects(state: dict[str, Any], name: str) -> list[dict[str, Any]]:
        return state["services"]["airbnb-bookingmanagement"]["objects"][name]

    async def payment_records(self, reservation: dict[str, Any]) -> list[dict[str, Any]]:
        _, state = await self.twin.call("GET", "/__twin/state")
        return [r for r in self.objects(state, "paymentRecord") if r["reservationId"] == reservation["id"]]

    async def update(self, reservation: dict[str, Any], as_: tuple[str, str], **changes: Any) -> tuple[int, dict[str, Any]]:
        return await self.call("PATCH", f"/reservations/{reservation['id']}", as_, json=changes)

    async def start_payment(self, reservation: dict[str, Any], guest: tuple[str, str] = GUEST1,
                            card: str = "pm_card_visa") -> tuple[int, dict[str, Any]]:
        answer = await self.call("PATCH", f"/startreservationpayment/{reservation['id']}", guest,
                                 json={"paymentUserParams": {"paymentMethodId": card}})
        await self.twin.stripe.drain()
        return answer

    async def pay(self, reservation: dict[str, Any], guest: tuple[str, str] = GUEST1) -> dict[str, Any]:
        status, body = await self.start_payment(reservation, guest)
        assert status == 200 and body["paymentResult"]["success"] is True, body
        return await self.reservation(reservation["id"])

    async def sys_payment(self, reservation: dict[str, Any]) -> dict[str, Any]:
        status, body = await self.call("GET", f"/reservationpaymentbyorderid/{reservation['id']}", ADMIN)
        assert status == 200, body
        return body["sys_reservationPayment"]

    async def refunds_at_stripe(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        stripe = self.twin.stripe
        return [e["data"]["object"] for e in stripe.list_events("refund.created")
                if e["data"]["object"]["payment_intent"] == record["paymentIntentId"]]

    async def dispute_answer(self, reservation: dict[str, Any], as_: tuple[str, str] = GUEST1,
                             **overrides: Any) -> tuple[int, dict[str, Any]]:
        body = {"reportedAt": "2020-01-01T00:00:00.000Z", "reservationId": reservation["id"],
                "raisedBy": self.user(as_), "issueType": "cleanliness", "description": "the flat was dirty",
                "resolutionStatus": "resolved", "refundApproved": True, **overrides}
        return await self.call("POST", "/disputes", as_, json=body)

    async def dispute(self, reservation: dict[str, Any], as_: tuple[str, str] = GUEST1) -> dict[str, Any]:
        status, body = await self.dispute_answer(reservation, as_)
        assert status == 201, body
        return body["dispute"]

    async def update_dispute(self, dispute: dict[str, Any], as_: tuple[str, str], **changes: Any) -> tuple[int, dict[str, Any]]:
        return await self.call("PATCH", f"/disputes/{dispute['id']}", as_, json=changes)

    async def set_clock(self, moment: datetime) -> None:
        status, body = await self.twin.call("POST", "/__twin/clock", json={"set": moment.isoformat()})
        assert status == 200, body


async def open_market(make_twin: Any, **options: Any) -> Market:
    twin = await make_twin(AIRBNB, clock=Clock(frozen_at=NOW), **options)
    _, body = await twin.call("GET", f"/__twin/fixtures/{PROJECT}/listing")
    hosts = {twin.persona(PROJECT, name)["userId"]: name for name in ("host1", "host2")}
    listings = {(hosts[r["hostId"]], r["approvalType"]): r for r in body["records"]}
    return Market(twin, listings)


@pytest.fixture
async def market(make_twin: Any) -> Market:
    return await open_market(make_twin)


async def paid_reservation(market: Market, approval: str = "instant", day: int = 0) -> dict[str, Any]:
    return await market.pay(await market.book(listing=market.listing("host1", approval), day=day))


# -- booking -------------------------------------------------------------------------------------
async def test_a_guest_books_and_the_server_sets_host_price_approval_and_statuses(market: Market):
    listing = market.listing("host1", "manual")
    status, body = await market.book_answer(listing=listing, nights=4, approvalType="instant",
                                            bookingStatus="confirmed", disputeStatus="active", totalPrice=1.0)
    assert status == 201, body
    reservation = body["reservation"]
    assert reservation["guestId"] == market.user(GUEST1)
    assert reservation["hostId"] == listing["hostId"] == market.user(HOST1)
    assert reservation["approvalType"] == "manual"
    assert reservation["totalPrice"] == 4 * listing["pricePerNight"]
    assert reservation["currency"] == "USD"
    assert (reservation["bookingStatus"], reservation["disputeStatus"], reservation["paymentConfirmation"]) == \
        ("pending", "none", "pending")


@pytest.mark.parametrize("persona", [HOST1, ADMIN])
async def test_only_guests_book(market: Market, persona: tuple[str, str]):
    status, body = await market.book_answer(persona)
    assert status == 403, body


async def test_booking_an_unknown_listing_is_not_found(market: Market):
    status, body = await market.book_answer(listingId="00000000-0000-4000-8000-000000000000")
    assert status == 404 and body["message"] == "errMsg_listingNotFound", body


async def test_the_host_must_be_the_listings_host(market: Market):
    status, body = await market.book_answer(hostId=market.user(HOST2))
    assert status == 400 and body["message"] == "errMsg_hostIdDoesNotMatchListing", body


@pytest.mark.parametrize("check_out", ["2027-03-10T20:00:00.000Z", "2027-03-09T11:00:00.000Z"])
async def test_checkout_must_be_at_least_one_night_after_checkin(market: Market, check_out: str):
    status, body = await market.book_answer(checkIn="2027-03-10T15:00:00.000Z", checkOut=check_out)
    assert status == 400 and body["message"] == "errMsg_checkOutMustBeAfterCheckIn", body


async def test_a_stay_cannot_start_in_the_past(market: Market):
    status, body = await market.book_answer(checkIn="2027-02-27T15:00:00.000Z", checkOut="2027-03-02T11:00:00.000Z")
    assert status == 400 and body["message"] == "errMsg_checkInIsInThePast", body


@pytest.mark.parametrize("count", [0, 5])
async def test_the_guest_count_must_fit_the_listing(market: Market, count: int):
    status, body = await market.book_answer(guestCount=count)
    assert status == 400 and body["message"] == "errMsg_guestCountIsNotValid", body


async def test_overlapping_stays_on_one_listing_are_refused(market: Market):
    await market.book(day=0, nights=3)
    status, body = await market.book_answer(GUEST2, day=2, nights=3)
    assert status == 400 and body["message"] == "errMsg_reservationDatesNotAvailable", body
    status, body = await market.book_answer(GUEST2, day=-1, nights=5)
    assert status == 400, body


async def test_back_to_back_stays_and_other_listings_are_free(market: Market):
    await market.book(day=0, nights=3)
    await market.book(GUEST2, day=3, nights=2)  # checks in on the first stay's checkout day
    await market.book(GUEST2, listing=market.listing("host2"), day=0, nights=3)


async def test_declined_or_cancelled_reservations_free_their_dates(market: Market):
    declined = await market.book(listing=market.listing("host1", "manual"))
    status, body = await market.update(declined, HOST1, bookingStatus="declined")
    assert status == 200, body
    await market.book(GUEST2, listing=market.listing("host1", "manual"))
    cancelled = await market.book()
    status, body = await market.call("DELETE", f"/reservations/{cancelled['id']}", GUEST1)
    assert status == 200, body
    await market.book(GUEST2)


async def test_the_overlap_mutant_lets_overlapping_stays_through(make_twin: Any):
    market = await open_market(make_twin, active_mutants=["reservation-overlap"])
    await market.book(day=0, nights=3)
    status, body = await market.book_answer(GUEST2, day=1, nights=3)
    assert status == 201, body


# -- visibility ----------------------------------------------------------------------------------
async def test_guests_see_their_reservations_and_hosts_those_of_their_listings(market: Market):
    mine = await market.book()
    theirs = await market.book(GUEST2, listing=market.listing("host2"))

    async def ids(persona: tuple[str, str]) -> set[str]:
        status, body = await market.call("GET", "/reservations", persona)
        assert status == 200, body
        return {r["id"] for r in body["reservations"]}

    assert await ids(GUEST1) == {mine["id"]}
    assert await ids(HOST1) == {mine["id"]}
    assert await ids(HOST2) == {theirs["id"]}
    assert await ids(ADMIN) == {mine["id"], theirs["id"]}
    status, body = await market.call("GET", f"/reservations/{mine['id']}", GUEST2)
    assert status == 403, body
    status, body = await market.call("GET", f"/reservations/{mine['id']}", HOST2)
    assert status == 403, body


# -- host decisions, updates, cancellation ---------------------------------------------------------
async def test_a_guest_cannot_confirm_or_decline(market: Market):
    reservation = await market.book(listing=market.listing("host1", "manual"))
    for decision in ("confirmed", "declined"):
        status, body = await market.update(reservation, GUEST1, bookingStatus=decision)
        assert status == 403, body


async def test_another_host_cannot_touch_the_reservation(market: Market):
    reservation = await market.book(listing=market.listing("host1", "manual"))
    status, body = await market.update(reservation, HOST2, bookingStatus="declined")
    assert status == 403, body
    status, body = await market.call("DELETE", f"/reservations/{reservation['id']}", GUEST2)
    assert status == 403, body
    assert (await market.reservation(reservation["id"]))["bookingStatus"] == "pending"


async def test_a_host_cannot_confirm_an_unpaid_request(market: Market):
    reservation = await market.book(listing=market.listing("host1", "manual"))
    status, body = await market.update(reservation, HOST1, bookingStatus="confirmed")
    assert status == 400 and body["message"] == "errMsg_reservationIsNotPaid", body


async def test_a_declined_unpaid_request_can_no_longer_be_paid(market: Market):
    reservation = await market.book(listing=market.listing("host1", "manual"))
    status, body = await market.update(reservation, HOST1, bookingStatus="declined")
    assert status == 200, body
    assert (body["reservation"]["bookingStatus"], body["reservation"]["paymentConfirmation"]) == ("declined", "canceled")
    status, body = await market.call("PATCH", f"/startreservationpayment/{reservation['id']}", GUEST1,
                                     json={"paymentUserParams": {"paymentMethodId": "pm_card_visa"}})
    assert status == 400 and body["message"] == "errMsg_reservationIsNotPayable", body


async def test_a_reservation_cannot_go_back_to_pending(market: Market):
    reservation = await market.book(listing=market.listing("host1", "manual"))
    await market.update(reservation, HOST1, bookingStatus="declined")
    status, body = await market.update(reservation, ADMIN, bookingStatus="pending")
    assert status == 400, body


async def test_only_an_admin_sets_the_dispute_status(market: Market):
    reservation = await market.book()
    for persona in (GUEST1, HOST1):
        status, body = await market.update(reservation, persona, disputeStatus="active")
        assert status == 403, body
    status, body = await market.update(reservation, ADMIN, disputeStatus="active")
    assert status == 200 and body["reservation"]["disputeStatus"] == "active", body


async def test_parties_update_the_ical_fields(market: Market):
    reservation = await market.book()
    status, body = await market.update(reservation, HOST1, iCalExportUrl="https://cal.example/r.ics")
    assert status == 200 and body["reservation"]["iCalExportUrl"] == "https://cal.example/r.ics", body


async def test_deleting_cancels_and_hides_the_reservation(market: Market):
    reservation = await market.book()
    status, body = await market.call("DELETE", f"/reservations/{reservation['id']}", HOST1)
    assert status == 200, body
    assert (body["reservation"]["isActive"], body["reservation"]["bookingStatus"]) == (False, "cancelled")
    status, body = await market.call("GET", f"/reservations/{reservation['id']}", GUEST1)
    assert status == 404, body


async def test_guests_cancel_only_before_check_in_but_admins_any_time(market: Market):
    reservation = await market.book(day=0, nights=5)
    await market.set_clock(FIRST_DAY + timedelta(days=1))
    status, body = await market.update(reservation, GUEST1, bookingStatus="cancelled")
    assert status == 400 and body["message"] == "errMsg_stayHasAlreadyBegun", body
    status, body = await market.call("DELETE", f"/reservations/{reservation['id']}", GUEST1)
    assert status == 400, body
    status, body = await market.update(reservation, ADMIN, bookingStatus="cancelled")
    assert status == 200 and body["reservation"]["bookingStatus"] == "cancelled", body


# -- payment records -----------------------------------------------------------------------------
def record_body(reservation: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"reservationId": reservation["id"], "paymentIntentId": "pi_logged_by_hand", "currency": "USD",
            "amountPaid": 100.0, "paymentStatus": "paid", **overrides}


@pytest.mark.parametrize("persona", [GUEST1, HOST1])
async def test_only_admins_log_payment_records(market: Market, persona: tuple[str, str]):
    reservation = await market.book()
    status, body = await market.call("POST", "/paymentrecords", persona, json=record_body(reservation))
    assert status == 403, body
    status, body = await market.call("POST", "/paymentrecords", ADMIN, json=record_body(reservation))
    assert status == 201 and body["paymentRecord"]["amountPaid"] == 100.0, body


async def test_a_payment_record_is_never_overwritten(market: Market):
    reservation = await market.book()
    _, first = await market.call("POST", "/paymentrecords", ADMIN, json=record_body(reservation))
    status, body = await market.call("POST", "/paymentrecords", ADMIN, json=record_body(reservation, amountPaid=1.0))
    assert status == 400 and body["message"] == "errMsg_paymentRecordAlreadyExists", body
    records = await market.payment_records(reservation)
    assert [(r["id"], r["amountPaid"]) for r in records] == [(first["paymentRecord"]["id"], 100.0)]


async def test_the_mutable_record_mutant_overwrites_it(make_twin: Any):
    market = await open_market(make_twin, active_mutants=["payment-record-mutable"])
    reservation = await market.book()
    await market.call("POST", "/paymentrecords", ADMIN, json=record_body(reservation))
    status, body = await market.call("POST", "/paymentrecords", ADMIN, json=record_body(reservation, amountPaid=1.0))
    assert status == 201, body
    assert [r["amountPaid"] for r in await market.payment_records(reservation)] == [1.0]


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
async def test_payment_records_have_no_update_or_delete_route(market: Market, method: str):
    reservation = await market.book()
    _, body = await market.call("POST", "/paymentrecords", ADMIN, json=record_body(reservation))
    status, answer = await market.call(method, f"/paymentrecords/{body['paymentRecord']['id']}", ADMIN,
                                       json={"amountPaid": 1.0})
    assert status in (404, 405), answer
    assert [r["amountPaid"] for r in await market.payment_records(reservation)] == [100.0]


async def test_payment_records_are_seen_by_the_reservations_parties_only(market: Market):
    reservation = await market.book()
    _, body = await market.call("POST", "/paymentrecords", ADMIN, json=record_body(reservation))
    path = f"/paymentrecords/{body['paymentRecord']['id']}"
    for persona in (GUEST1, HOST1, ADMIN):
        status, answer = await market.call("GET", path, persona)
        assert status == 200, answer
    for persona in (GUEST2, HOST2):
        status, answer = await market.call("GET", path, persona)
        assert status == 403, answer
        status, answer = await market.call("GET", "/paymentrecords", persona)
        assert answer["paymentRecords"] == [], answer


# -- disputes ------------------------------------------------------------------------------------
async def test_the_guest_raises_a_dispute_and_the_reservation_shows_it_requested(market: Market):
    reservation = await market.book()
    dispute = await market.dispute(reservation)
    assert dispute["raisedBy"] == market.user(GUEST1)
    assert (dispute["resolutionStatus"], dispute["refundApproved"], dispute["adminId"]) == ("pending", None, None)
    assert dispute["reportedAt"] == NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert (await market.reservation(reservation["id"]))["disputeStatus"] == "requested"


async def test_the_host_may_raise_a_dispute_too(market: Market):
    reservation = await market.book()
    dispute = await market.dispute(reservation, HOST1)
    assert dispute["raisedBy"] == market.user(HOST1)


async def test_raised_by_must_be_the_caller(market: Market):
    reservation = await market.book()
    status, body = await market.dispute_answer(reservation, raisedBy=market.user(HOST1))
    assert status == 403 and body["message"] == "errMsg_raisedByMustBeTheCaller", body


@pytest.mark.parametrize("persona", [GUEST2, HOST2, ADMIN])
async def test_only_the_reservations_guest_or_host_raise_disputes(market: Market, persona: tuple[str, str]):
    reservation = await market.book()
    status, body = await market.dispute_answer(reservation, persona)
    assert status == 403, body


async def test_disputes_are_seen_by_the_reservations_parties_only(market: Market):
    dispute = await market.dispute(await market.book())
    for persona in (GUEST1, HOST1, ADMIN):
        status, body = await market.call("GET", f"/disputes/{dispute['id']}", persona)
        assert status == 200, body
    for persona in (GUEST2, HOST2):
        status, body = await market.call("GET", f"/disputes/{dispute['id']}", persona)
        assert status == 403, body
        status, body = await market.call("GET", "/disputes", persona)
        assert body["disputes"] == [], body


async def test_the_raiser_may_reword_the_description_but_not_resolve(market: Market):
    dispute = await market.dispute(await market.book())
    status, body = await market.update_dispute(dispute, GUEST1, description="dirty and noisy")
    assert status == 200 and body["dispute"]["description"] == "dirty and noisy", body
    status, body = await market.update_dispute(dispute, GUEST1, resolutionStatus="resolved", refundApproved=True)
    assert status == 403, body
    status, body = await market.update_dispute(dispute, HOST1, description="it was clean")
    assert status == 403, body


async def test_an_admin_reviews_then_rejects_a_dispute(market: Market):
    reservation = await market.book()
    dispute = await market.dispute(reservation)
    status, body = await market.update_dispute(dispute, ADMIN, resolutionStatus="reviewing")
    assert status == 200, body
    assert (await market.reservation(reservation["id"]))["disputeStatus"] == "active"
    status, body = await market.update_dispute(dispute, ADMIN, resolutionStatus="rejected")
    assert status == 200, body
    assert body["dispute"]["resolvedAt"] == NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert body["dispute"]["adminId"] == market.user(ADMIN)
    assert (await market.reservation(reservation["id"]))["disputeStatus"] == "resolved"


async def test_a_closed_dispute_is_read_only(market: Market):
    dispute = await market.dispute(await market.book())
    await market.update_dispute(dispute, ADMIN, resolutionStatus="rejected")
    for persona, changes in ((ADMIN, {"resolutionStatus": "resolved"}), (GUEST1, {"description": "again"})):
        status, body = await market.update_dispute(dispute, persona, **changes)
        assert status == 400 and body["message"] == "errMsg_disputeIsClosed", body


async def test_an_assigned_admin_must_be_an_admin(market: Market):
    dispute = await market.dispute(await market.book())
    status, body = await market.update_dispute(dispute, ADMIN, adminId=market.user(HOST1))
    assert status == 400 and body["message"] == "errMsg_adminIdIsNotAnAdmin", body


async def test_a_refund_for_an_unpaid_reservation_is_refused(market: Market):
    dispute = await market.dispute(await market.book())
    status, body = await market.update_dispute(dispute, ADMIN, resolutionStatus="resolved", refundApproved=True)
    assert status == 400 and body["message"] == "errMsg_reservationIsNotPaid", body


async def test_a_rejected_dispute_approves_no_refund(market: Market):
    dispute = await market.dispute(await market.book())
    status, body = await market.update_dispute(dispute, ADMIN, resolutionStatus="rejected", refundApproved=True)
    assert status == 400, body


# -- paying --------------------------------------------------------------------------------------
async def test_paying_an_instant_reservation_confirms_it_and_writes_a_payment_record(market: Market):
    reservation = await market.book(nights=2)
    paid = await market.pay(reservation)
    assert (paid["bookingStatus"], paid["paymentConfirmation"]) == ("confirmed", "paid")
    [record] = await market.payment_records(reservation)
    assert record["paymentStatus"] == "paid" and record["amountPaid"] == reservation["totalPrice"]
    assert record["paymentIntentId"].startswith("pi_") and record["stripeChargeId"].startswith("ch_")
    assert record["platformFee"] + record["payoutAmountHost"] == pytest.approx(record["amountPaid"])


async def test_a_paid_manual_request_waits_for_the_host_who_confirms_it(market: Market):
    reservation = await market.book(listing=market.listing("host1", "manual"))
    paid = await market.pay(reservation)
    assert (paid["bookingStatus"], paid["paymentConfirmation"]) == ("pending", "paid")
    status, body = await market.update(reservation, HOST1, bookingStatus="confirmed")
    assert status == 200 and body["reservation"]["bookingStatus"] == "confirmed", body


async def test_a_host_declining_a_paid_request_refunds_the_guest(market: Market):
    reservation = await paid_reservation(market, "manual")
    status, body = await market.update(reservation, HOST1, bookingStatus="declined")
    assert status == 200 and body["reservation"]["bookingStatus"] == "declined", body
    await market.twin.stripe.drain()
    [record] = await market.payment_records(reservation)
    assert (record["paymentStatus"], record["refundAmount"]) == ("refunded", reservation["totalPrice"])
    assert [r["amount"] for r in await market.refunds_at_stripe(record)] == [round(reservation["totalPrice"] * 100)]


async def test_a_declined_card_leaves_the_reservation_pending_without_a_record(market: Market):
    reservation = await market.book()
    status, body = await market.start_payment(reservation, card="pm_card_chargeDeclined")
    assert status == 200 and body["paymentResult"]["success"] is False, body
    stored = await market.reservation(reservation["id"])
    assert (stored["bookingStatus"], stored["paymentConfirmation"]) == ("pending", "pending")
    assert await market.payment_records(reservation) == []


async def test_only_the_reservations_guest_pays(market: Market):
    reservation = await market.book()
    status, body = await market.start_payment(reservation, GUEST2)
    assert status == 403, body
    status, body = await market.start_payment(reservation, HOST1)
    assert status == 403, body


async def test_cancelling_a_paid_reservation_refunds_it_in_full(market: Market):
    reservation = await paid_reservation(market)
    status, body = await market.call("DELETE", f"/reservations/{reservation['id']}", GUEST1)
    assert status == 200, body
    await market.twin.stripe.drain()
    [record] = await market.payment_records(reservation)
    assert (record["paymentStatus"], record["refundAmount"]) == ("refunded", reservation["totalPrice"])
    assert len(await market.refunds_at_stripe(record)) == 1


async def test_a_host_completes_a_stay_after_checkout(market: Market):
    reservation = await paid_reservation(market)
    status, body = await market.update(reservation, HOST1, bookingStatus="complete")
    assert status == 400 and body["message"] == "errMsg_stayHasNotEnded", body
    await market.set_clock(FIRST_DAY + timedelta(days=4))
    status, body = await market.update(reservation, GUEST1, bookingStatus="complete")
    assert status == 403, body
    status, body = await market.update(reservation, HOST1, bookingStatus="complete")
    assert status == 200 and body["reservation"]["bookingStatus"] == "complete", body


async def test_a_dispute_resolved_with_a_refund_refunds_through_stripe(market: Market):
    reservation = await paid_reservation(market)
    dispute = await market.dispute(reservation)
    status, body = await market.update_dispute(dispute, ADMIN, resolutionStatus="resolved", refundApproved=True)
    assert status == 200, body
    assert (body["dispute"]["resolutionStatus"], body["dispute"]["refundApproved"]) == ("resolved", True)
    await market.twin.stripe.drain()
    [record] = await market.payment_records(reservation)
    assert (record["paymentStatus"], record["refundAmount"]) == ("refunded", reservation["totalPrice"])
    assert len(await market.refunds_at_stripe(record)) == 1
    assert (await market.reservation(reservation["id"]))["disputeStatus"] == "resolved"
    second = await market.dispute(reservation)
    status, body = await market.update_dispute(second, ADMIN, resolutionStatus="resolved", refundApproved=True)
    assert status == 400 and body["message"] == "errMsg_paymentAlreadyRefunded", body


async def test_a_webhook_with_a_bad_signature_is_refused(market: Market):
    reservation = await market.book()
    event = {"id": "evt_forged", "type": "payment_intent.succeeded",
             "data": {"object": {"id": "pi_forged", "status": "succeeded", "metadata": {"orderId": reservation["id"]}}}}
    payload = json.dumps(event).encode()
    for signature in ("t=1,v1=bad", market.twin.stripe.sign(payload, secret="whsec_wrong")):
        status, body = await market.twin.call("POST", f"{BASE}/callbackreservationpayment", data=payload,
                                              headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
        assert status == 400, body
    stored = await market.reservation(reservation["id"])
    assert (stored["bookingStatus"], stored["paymentConfirmation"]) == ("pending", "pending")


async def test_a_payment_landing_on_a_cancelled_reservation_is_refunded(market: Market):
    reservation = await market.book()
    status, body = await market.start_payment(reservation, card="pm_card_threeDSecure2Required")
    assert status == 200 and body["paymentResult"]["paymentStatus"] == "requires_action", body
    status, body = await market.update(reservation, GUEST1, bookingStatus="cancelled")
    assert status == 200 and body["reservation"]["paymentConfirmation"] == "canceled", body
    stripe = market.twin.stripe
    intent_id = (await market.sys_payment(reservation))["paymentId"]
    stripe.authenticate_payment_intent(intent_id)
    await stripe.drain()
    [record] = await market.payment_records(reservation)
    assert record["paymentIntentId"] == intent_id
    assert (record["paymentStatus"], record["refundAmount"]) == ("refunded", reservation["totalPrice"])
    assert (await market.reservation(reservation["id"]))["bookingStatus"] == "cancelled"


async def test_declining_while_the_payment_webhook_is_in_flight_refunds_once(market: Market):
    reservation = await market.book(listing=market.listing("host1", "manual"))
    status, body = await market.call("PATCH", f"/startreservationpayment/{reservation['id']}", GUEST1,
                                     json={"paymentUserParams": {"paymentMethodId": "pm_card_visa"}})
    assert status == 200, body
    status, body = await market.update(reservation, HOST1, bookingStatus="declined")
    assert status == 200, body
    await market.twin.stripe.drain()
    [record] = await market.payment_records(reservation)
    assert record["paymentStatus"] == "refunded"
    assert len(await market.refunds_at_stripe(record)) == 1


async def test_webhooks_about_a_deleted_reservation_are_acknowledged(market: Market):
    reservation = await paid_reservation(market)
    await market.call("DELETE", f"/reservations/{reservation['id']}", GUEST1)
    stripe = market.twin.stripe
    await stripe.drain()
    assert {d["event_type"] for d in stripe.deliveries()} >= {"charge.refunded", "payment_intent.succeeded"}
    assert all(d["state"] == "succeeded" for d in stripe.deliveries()), stripe.deliveries()


@pytest.mark.parametrize("event", [
    {"id": "evt_customer", "type": "customer.created", "data": {"object": {"id": "cus_1", "metadata": {}}}},
    {"id": "evt_other", "type": "payment_intent.succeeded",
     "data": {"object": {"id": "pi_1", "metadata": {"orderId": "x", "service": "tutorhub-enrollmentmanagement"}}}},
    {"id": "evt_odd", "type": "payment_intent.succeeded", "data": "not an object"},
])
async def test_signed_events_about_no_reservation_of_ours_are_acknowledged(market: Market, event: dict[str, Any]):
    payload = json.dumps(event).encode()
    signature = market.twin.stripe.sign(payload)
    status, body = await market.twin.call("POST", f"{BASE}/callbackreservationpayment", data=payload,
                                          headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
    assert status == 200, body


async def test_a_users_callback_without_a_reservation_is_not_found(market: Market):
    status, body = await market.call("POST", "/callbackreservationpayment", GUEST1, json={})
    assert status == 404, body


# -- small refusals ------------------------------------------------------------------------------
async def test_a_payment_record_for_an_unknown_reservation_is_not_found(market: Market):
    status, body = await market.call("POST", "/paymentrecords", ADMIN,
                                     json=record_body({"id": "00000000-0000-4000-8000-000000000000"}))
    assert status == 404, body


async def test_a_dispute_names_a_payment_of_its_own_reservation(market: Market):
    other = await market.book(listing=market.listing("host2"))
    _, body = await market.call("POST", "/paymentrecords", ADMIN, json=record_body(other))
    status, answer = await market.dispute_answer(await market.book(), relatedPaymentId=body["paymentRecord"]["id"])
    assert status == 400 and answer["message"] == "errMsg_relatedPaymentIdNotOfReservation", answer


async def test_users_list_only_their_own_saved_cards(market: Market):
    status, body = await market.call("GET", f"/paymentcustomermethods/{market.user(GUEST2)}", GUEST1)
    assert status == 403, body
    status, body = await market.call("GET", f"/paymentcustomermethods/{market.user(GUEST2)}", ADMIN)
    assert status == 200, body
