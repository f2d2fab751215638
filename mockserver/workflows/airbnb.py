"""airbnb · bookingManagement: reservations, Stripe payments, host approval, disputes and refunds.

Roles: `admin`, `host`, `guest` (fixtures: each host owns two listings, one `approvalType:
instant` and one `manual`, each with a `pricePerNight` and `maxGuests`). Who may call which API is
the role overlay beside the guide (`specs/guides/*.roles.yaml`, in the spec as `x-twin-access`);
the notes below say why, and what each role may do within an API.

The rules the guide states, and the choices made where it is vague:

- createReservation (guests only; `guestId` is the caller). The listing must exist (404) and be
  active (400); `hostId` must be the listing's host (400 when it differs — a client naming another
  host has a stale or forged listing). `checkOut` must be after `checkIn` by at least one night
  (nights are counted in UTC calendar days), the stay at most 365 nights, `checkIn` not before
  today (by the twin's clock), `guestCount` between 1 and the listing's `maxGuests`, `currency`
  a 3-letter code. The stay must not overlap a live reservation of the same listing (live =
  `bookingStatus` pending or confirmed and not deleted; a checkout day may be the next check-in
  day). The server owns the rest, whatever the body says: `approvalType` is the listing's,
  `totalPrice` is nights × `pricePerNight`, `bookingStatus` pending, `disputeStatus` none,
  `paymentConfirmation` pending.
- Payment (startReservationPayment, the reservation's guest, only while it is pending): the
  shared Stripe flow charges `totalPrice`. Paid → a `paymentRecord` is written (amountPaid, the
  intent and its charge, paymentDate now, a 3 % host service fee as `platformFee` and the rest as
  `payoutAmountHost`); an instant reservation becomes `confirmed`, a manual one stays `pending`
  until its host decides. A payment landing on a reservation cancelled or declined meanwhile is
  refunded at once. A canceled payment intent cancels a pending reservation (its dates free up).
- Host decision (updateReservation `bookingStatus`, the listing's host or an admin, on a pending
  reservation): `confirmed` needs the reservation paid (a host accepts a paid request);
  `declined` refunds a paid reservation in full, or voids an unpaid one (`paymentConfirmation:
  canceled`, so it cannot be paid any more). `complete`: host or admin, a confirmed reservation
  whose `checkOut` has passed. Going back to `pending` is refused.
- Cancelling (updateReservation `bookingStatus: cancelled`, or deleteReservation which also soft
  deletes): guest, host or admin of that reservation, only a live one; guests and hosts only
  before `checkIn` ("cancellations before stay begins"), admins any time (moderation). A paid
  reservation is refunded in full; an unpaid one is voided. deleteReservation of a cancelled or
  declined reservation only hides it; a completed stay may be deleted by an admin only.
- updateReservation `disputeStatus` is the admin's (it follows the disputes otherwise); the iCal
  fields may be set by any party of the reservation. Dates and listing cannot change.
- Payment records are immutable: there are no update/delete routes; createPaymentRecord is
  admin-only (for logging a payment made outside the flow) and refused (400) when a record for
  the same `paymentIntentId` exists. An admin-logged record changes no reservation status. The
  twin itself marks a record `refunded` (with `refundAmount`) when it refunds it.
- Disputes: createDispute by the reservation's guest or host only (admins 403; `raisedBy` must be
  the caller, else 403); `reportedAt` is now, `resolutionStatus` pending, `adminId`,
  `resolvedAt`, `refundApproved` empty (the admin's to set); a `relatedPaymentId` must be a
  payment record of the same reservation. updateDispute: guests and hosts may change only the
  `description` of a dispute they raised; everything else is the admin's. Resolution:
  pending → reviewing → resolved/rejected (resolved/rejected are final and make the dispute
  read-only); `resolvedAt` is set by the twin; an `adminId` must name an admin (default: the
  resolving admin). Resolving with `refundApproved: true` refunds what is left of the related
  payment record (default: the reservation's charged payment) through Stripe and marks it
  `refunded`; a refund on an unpaid or already refunded reservation is refused (400), and a
  rejected dispute cannot approve a refund. The reservation's `disputeStatus` follows its
  disputes: any reviewing → active, else any pending → requested, else resolved.
- Visibility: admins see everything; guests their reservations (`guestId`), hosts the
  reservations of their listings (`hostId`); disputes and payment records follow their
  reservation (also after it was deleted). Stripe bookkeeping (`sys_*`) is its owner's (and the
  admin's); writing `sys_reservationPayment` directly is admin-only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .. import mutants
from ..clock import isoformat
from ..context import Context, Result
from ..crud import check_references, find_one, new_record, save, visible
from ..errors import bad_request, forbidden, not_found
from ..filters import Condition, exact, select
from ..specindex import ServiceSpec
from ..stripe import StripeError
from .base import Handler, Workflow, foreign_table, object_spec
from .payments import PaymentFlow, callback_apis, gateway, own_payment_methods, payment_handlers

ADMIN, HOST, GUEST = "admin", "host", "guest"

RESERVATION_OVERLAP = mutants.rule_mutant(
    "reservation-overlap", "a reservation may overlap a live reservation of the same listing")
PAYMENT_RECORD_MUTABLE = mutants.rule_mutant(
    "payment-record-mutable", "a second createPaymentRecord for the same paymentIntentId overwrites the stored record")
ADMIN_BOOKS = mutants.rule_mutant("admin-books", "an admin may call createReservation, which the role table leaves to guests")


LIVE = ("pending", "confirmed")
CLOSED_DISPUTE = ("resolved", "rejected")
HOST_FEE_RATE = 0.03  # Airbnb's split-fee host service fee
MAX_NIGHTS = 365


# -- small look-ups ------------------------------------------------------------------------------
def _instant(value: Any) -> datetime:
    """A stored (canonical ISO) or body date-time as an aware UTC datetime."""
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _body_instant(ctx: Context, name: str) -> datetime:
    """A body date-time in UTC; 400 for one the schema accepts but UTC cannot hold (year 9999 at -05:00)."""
    try:
        return _instant(ctx.body[name])
    except (OverflowError, ValueError):
        raise bad_request(f"errMsg_{name}isNotAValidDate", f"{name}: {ctx.body[name]!r} lies outside the calendar") from None


def _cents(amount: Any) -> int:
    return round(float(amount or 0) * 100)


def _reservation(ctx: Context, reservation_id: Any) -> dict[str, Any]:
    """The (not deleted) reservation a body names: 404 when none, 403 when the caller may not see it."""
    record = ctx.table("reservation").get(reservation_id) if isinstance(reservation_id, str) else None
    if record is None:
        raise not_found("errMsg_reservationNotFound", f"reservationId: no reservation with id {reservation_id}")
    if not visible(ctx, record, object_spec(ctx, "reservation")):
        raise forbidden("errMsg_accessDenied", f"this {ctx.role} is neither guest nor host of reservation {reservation_id}")
    return record


# -- visibility ----------------------------------------------------------------------------------
def _party_field(ctx: Context) -> str:
    """The reservation field naming the caller: guests are `guestId`, hosts `hostId`."""
    return "guestId" if ctx.role == GUEST else "hostId"


def _through_reservation(ctx: Context) -> Condition:
    """Records whose reservation (deleted ones too) has the caller as guest or host."""
    reservations = ctx.table("reservation")
    field = _party_field(ctx)

    def predicate(record: dict[str, Any]) -> bool:
        rid = record.get("reservationId")
        reservation = reservations.get(rid, include_inactive=True) if isinstance(rid, str) else None
        return reservation is not None and reservation.get(field) == ctx.user_id

    return Condition("reservationId", predicate)


def scope(ctx: Context, obj: str) -> list[Condition] | None:
    """What each role reads: admins everything; guests and hosts their reservations and what hangs on them."""
    if ctx.role in (ADMIN, "system"):
        return None
    if ctx.role not in (GUEST, HOST):
        return [exact("id", [])]  # a role the guide does not name sees nothing
    if obj == "reservation":
        return [exact(_party_field(ctx), [ctx.user_id])]
    if obj in ("dispute", "paymentRecord"):
        return [_through_reservation(ctx)]
    if obj == "sys_reservationPayment":
        return [exact("ownerId", [ctx.user_id])]
    return [exact("userId", [ctx.user_id])]  # sys_paymentCustomer, sys_paymentMethod


# -- createReservation ---------------------------------------------------------------------------
def _listing(ctx: Context, listing_id: Any) -> dict[str, Any]:
    listing = foreign_table(ctx, "listing").get(listing_id, include_inactive=True) if isinstance(listing_id, str) else None
    if listing is None:
        raise not_found("errMsg_listingNotFound", f"listingId: no listing with id {listing_id}")
    if not listing.get("isActive", True):
        raise bad_request("errMsg_listingIsNotActive", f"listingId: listing {listing_id} is not offered any more")
    return listing


def _stay(ctx: Context) -> tuple[datetime, datetime]:
    """checkIn and checkOut: at least one night, at most MAX_NIGHTS, starting today or later."""
    check_in, check_out = _body_instant(ctx, "checkIn"), _body_instant(ctx, "checkOut")
    nights = (check_out.date() - check_in.date()).days
    if check_out <= check_in or nights < 1:
        raise bad_request("errMsg_checkOutMustBeAfterCheckIn", "checkOut: a stay ends at least one night after checkIn")
    if nights > MAX_NIGHTS:
        raise bad_request("errMsg_stayIsTooLong", f"checkOut: a stay lasts at most {MAX_NIGHTS} nights")
    if check_in.date() < ctx.now.date():
        raise bad_request("errMsg_checkInIsInThePast", f"checkIn: {ctx.body['checkIn']} is before today")
    return check_in, check_out


def _guest_count(ctx: Context, listing: dict[str, Any]) -> int:
    count = ctx.body["guestCount"]
    limit = listing.get("maxGuests")
    if count < 1 or (isinstance(limit, int) and count > limit):
        raise bad_request("errMsg_guestCountIsNotValid", f"guestCount: listing {listing['id']} hosts 1 to {limit} guests")
    return int(count)


def _currency(ctx: Context) -> str:
    currency = ctx.body["currency"]
    if len(currency) != 3 or not currency.isalpha():
        raise bad_request("errMsg_currencyIsNotAValidCurrencyCode", f"currency: {currency!r} is not a 3-letter ISO code")
    return str(currency).upper()


def _price(listing: dict[str, Any], check_in: datetime, check_out: datetime) -> float:
    """The server's price: nights × the listing's pricePerNight."""
    per_night = listing.get("pricePerNight")
    if not isinstance(per_night, (int, float)) or per_night <= 0:
        raise bad_request("errMsg_listingHasNoPrice", f"listingId: listing {listing['id']} has no pricePerNight")
    return round((check_out.date() - check_in.date()).days * float(per_night), 2)


def _check_available(ctx: Context, listing_id: str, check_in: datetime, check_out: datetime) -> None:
    """No live reservation of the listing may overlap [checkIn, checkOut)."""
    if ctx.world.mutants.is_active(RESERVATION_OVERLAP):
        return
    _, live = select(ctx.table("reservation"), [exact("listingId", [listing_id]), exact("bookingStatus", list(LIVE))])
    for other in live:
        if check_in < _instant(other["checkOut"]) and _instant(other["checkIn"]) < check_out:
            raise bad_request("errMsg_reservationDatesNotAvailable",
                              f"checkIn/checkOut: listing {listing_id} is booked from {other['checkIn']} to {other['checkOut']}")


async def create_reservation(ctx: Context) -> Result:
    """`POST /v1/reservations`: the calling guest books a listing for a stay."""
    listing = _listing(ctx, ctx.body.get("listingId"))
    if ctx.body.get("hostId") != listing.get("hostId"):
        raise bad_request("errMsg_hostIdDoesNotMatchListing",
                          f"hostId: listing {listing['id']} belongs to host {listing.get('hostId')}")
    check_in, check_out = _stay(ctx)
    values = {k: v for k, v in ctx.body.items() if k in ctx.obj.properties}
    values.update(
        listingId=listing["id"], hostId=listing["hostId"], guestId=ctx.user_id,
        approvalType=listing.get("approvalType") or ctx.body["approvalType"], bookingStatus="pending",
        disputeStatus="none", paymentConfirmation="pending", guestCount=_guest_count(ctx, listing),
        currency=_currency(ctx), totalPrice=_price(listing, check_in, check_out),
    )
    _check_available(ctx, listing["id"], check_in, check_out)
    record = new_record(ctx, values)
    check_references(ctx, record)
    return Result(data=ctx.table().insert(record))


# -- money: payment records and refunds ----------------------------------------------------------
def _sys_payment(ctx: Context, reservation_id: str) -> dict[str, Any] | None:
    """The payment flow's own record of the reservation's Stripe intent."""
    _, found = select(ctx.table("sys_reservationPayment"), [exact("orderId", [reservation_id])], 0, 1)
    return found[0] if found else None


def _intent(ctx: Context, intent_id: str) -> dict[str, Any] | None:
    try:
        intent: dict[str, Any] = gateway(ctx).retrieve_payment_intent(intent_id)
        return intent
    except LookupError:
        return None


def _record_for_intent(ctx: Context, intent_id: Any) -> dict[str, Any] | None:
    """The payment record of a Stripe payment intent (one per intent)."""
    table = ctx.table("paymentRecord")
    return next((r for r in table.scan() if r.get("paymentIntentId") == intent_id), None)


def _write_payment_record(ctx: Context, reservation: dict[str, Any], intent_id: str) -> dict[str, Any]:
    """The reservation's payment record for this intent, written on first payment."""
    existing = _record_for_intent(ctx, intent_id)
    if existing is not None:
        return existing
    intent = _intent(ctx, intent_id) or {}
    amount = intent["amount"] / 100 if intent.get("amount") else float(reservation.get("totalPrice") or 0)
    fee = round(amount * HOST_FEE_RATE, 2)
    record = new_record(ctx, {
        "reservationId": reservation["id"], "paymentIntentId": intent_id, "stripeChargeId": intent.get("latest_charge"),
        "currency": str(reservation.get("currency") or intent.get("currency") or "usd").upper(), "amountPaid": amount,
        "paymentStatus": "paid", "platformFee": fee, "payoutAmountHost": round(amount - fee, 2), "cityTax": None,
        "refundAmount": None, "paymentDate": isoformat(ctx.now),
    }, object_spec(ctx, "paymentRecord"))
    return ctx.table("paymentRecord").insert(record)


def _charged_record(ctx: Context, reservation: dict[str, Any]) -> dict[str, Any] | None:
    """The payment record of the reservation's succeeded Stripe charge (written now if the webhook
    has not arrived yet); None when nothing was charged."""
    payment = _sys_payment(ctx, reservation["id"])
    if payment is None:
        return None
    intent = _intent(ctx, payment["paymentId"])
    if intent is None or intent.get("status") != "succeeded":
        return None
    return _write_payment_record(ctx, reservation, payment["paymentId"])


def _refund(ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    """Refund what is left of a payment record through Stripe; the record becomes `refunded`."""
    paid = float(record.get("amountPaid") or 0)
    left = paid - float(record.get("refundAmount") or 0)
    if left <= 0:
        return record
    try:
        gateway(ctx).create_refund(payment_intent=record["paymentIntentId"], amount=_cents(left),
                                   metadata={"orderId": record["reservationId"], "service": ctx.state.spec.slug})
    except StripeError as error:  # e.g. an admin-logged record whose intent Stripe does not know
        raise bad_request("errMsg_paymentCannotBeRefunded", f"paymentRecord {record['id']}: {error.message}") from None
    return save(ctx, record, {"paymentStatus": "refunded", "refundAmount": paid}, object_spec(ctx, "paymentRecord"))


def _settle(ctx: Context, reservation: dict[str, Any]) -> dict[str, Any]:
    """A reservation leaves the live states: refund a charged one in full, void an unpaid one."""
    record = _charged_record(ctx, reservation)
    if record is None:
        if reservation.get("paymentConfirmation") == "paid":
            return {}  # marked paid without a Stripe charge (seeded state): nothing to refund
        return {"paymentConfirmation": "canceled"}
    if record.get("paymentStatus") == "paid":
        _refund(ctx, record)
    return {"paymentConfirmation": "paid"}


# -- updateReservation and deleteReservation -----------------------------------------------------
def _check_cancellable(ctx: Context, reservation: dict[str, Any]) -> None:
    """Only a live reservation is cancelled; guests and hosts only before the stay begins."""
    status = reservation.get("bookingStatus")
    if status not in LIVE:
        raise bad_request("errMsg_reservationIsNotLive", f"reservation {reservation['id']} is already {status}")
    if ctx.role != ADMIN and ctx.now >= _instant(reservation["checkIn"]):
        raise bad_request("errMsg_stayHasAlreadyBegun", f"reservation {reservation['id']} checked in at {reservation['checkIn']}")


def _check_host_decision(ctx: Context, reservation: dict[str, Any], status: str, allowed_from: str) -> None:
    if ctx.role not in (HOST, ADMIN):
        raise forbidden("errMsg_onlyTheHostMayDecide", f"bookingStatus: only the listing's host or an admin sets {status}")
    if reservation.get("bookingStatus") != allowed_from:
        raise bad_request("errMsg_bookingStatusTransitionNotAllowed",
                          f"bookingStatus: reservation {reservation['id']} is {reservation.get('bookingStatus')}, not {allowed_from}")


def _transition(ctx: Context, reservation: dict[str, Any], status: str) -> dict[str, Any]:
    """The changes (and side effects) of moving a reservation to `status`."""
    if status == "confirmed":
        _check_host_decision(ctx, reservation, status, "pending")
        if reservation.get("paymentConfirmation") != "paid":
            raise bad_request("errMsg_reservationIsNotPaid", f"reservation {reservation['id']} is not paid yet")
        return {"bookingStatus": "confirmed"}
    if status == "declined":
        _check_host_decision(ctx, reservation, status, "pending")
        return {"bookingStatus": "declined", **_settle(ctx, reservation)}
    if status == "complete":
        _check_host_decision(ctx, reservation, status, "confirmed")
        if ctx.now < _instant(reservation["checkOut"]):
            raise bad_request("errMsg_stayHasNotEnded", f"reservation {reservation['id']} checks out at {reservation['checkOut']}")
        return {"bookingStatus": "complete"}
    if status == "cancelled":
        _check_cancellable(ctx, reservation)
        return {"bookingStatus": "cancelled", **_settle(ctx, reservation)}
    raise bad_request("errMsg_bookingStatusTransitionNotAllowed", f"bookingStatus: a reservation cannot go back to {status}")


async def update_reservation(ctx: Context) -> Result:
    """`PATCH /v1/reservations/{id}`: a party of the reservation changes its status or iCal fields."""
    reservation = find_one(ctx)
    changes: dict[str, Any] = {k: ctx.body[k] for k in ("iCalExportUrl", "iCalImportSource") if k in ctx.body}
    dispute_status = ctx.body.get("disputeStatus")
    if dispute_status is not None and dispute_status != reservation.get("disputeStatus"):
        if ctx.role != ADMIN:
            raise forbidden("errMsg_onlyAnAdminSetsDisputeStatus", "disputeStatus: follows the disputes; only an admin sets it")
        changes["disputeStatus"] = dispute_status
    status = ctx.body.get("bookingStatus")
    if status is not None and status != reservation.get("bookingStatus"):
        changes.update(_transition(ctx, reservation, status))
    return Result(data=save(ctx, reservation, changes))


async def delete_reservation(ctx: Context) -> Result:
    """`DELETE /v1/reservations/{id}`: cancel (refunding a paid stay) and soft delete."""
    reservation = find_one(ctx)
    changes: dict[str, Any] = {"isActive": False}
    status = reservation.get("bookingStatus")
    if status in LIVE:
        changes.update(_transition(ctx, reservation, "cancelled"))
    elif status == "complete" and ctx.role != ADMIN:
        raise bad_request("errMsg_reservationIsComplete", f"reservation {reservation['id']} is a completed stay")
    return Result(data=save(ctx, reservation, changes))


def _payable(ctx: Context, reservation: dict[str, Any]) -> None:
    """Only a pending reservation may be paid (not a cancelled, declined or completed one)."""
    if reservation.get("bookingStatus") != "pending":
        raise bad_request("errMsg_reservationIsNotPayable",
                          f"reservation {reservation['id']} is {reservation.get('bookingStatus')}")


# -- payment records -----------------------------------------------------------------------------
async def create_payment_record(ctx: Context) -> Result:
    """`POST /v1/paymentrecords` (admin): log a payment; one immutable record per payment intent."""
    values = {k: v for k, v in ctx.body.items() if k in ctx.obj.properties}
    if values.get("paymentDate") is not None:
        _body_instant(ctx, "paymentDate")  # (the engine's date normalizing would fail with a 500)
    record = new_record(ctx, values)
    check_references(ctx, record)
    existing = _record_for_intent(ctx, record["paymentIntentId"])
    if existing is not None:
        if not ctx.world.mutants.is_active(PAYMENT_RECORD_MUTABLE):
            raise bad_request("errMsg_paymentRecordAlreadyExists",
                              f"paymentIntentId: payment records are immutable; {record['paymentIntentId']} has record {existing['id']}")
        return Result(data=save(ctx, existing, values))
    for name in ("amountPaid", "refundAmount", "platformFee", "payoutAmountHost", "cityTax"):
        if (record.get(name) or 0) < 0:
            raise bad_request(f"errMsg_{name}MustNotBeNegative", f"{name} must be 0 or more")
    return Result(data=ctx.table().insert(record))


# -- disputes ------------------------------------------------------------------------------------
def _sync_dispute_status(ctx: Context, reservation_id: str) -> None:
    """The reservation's disputeStatus as its disputes stand."""
    reservation = ctx.table("reservation").get(reservation_id, include_inactive=True)
    if reservation is None:
        return
    _, disputes = select(ctx.table("dispute"), [exact("reservationId", [reservation_id])])
    states = {d.get("resolutionStatus") for d in disputes}
    status = "active" if "reviewing" in states else "requested" if "pending" in states else "resolved" if states else "none"
    if status != reservation.get("disputeStatus"):
        save(ctx, reservation, {"disputeStatus": status}, object_spec(ctx, "reservation"))


async def create_dispute(ctx: Context) -> Result:
    """`POST /v1/disputes`: the reservation's guest or host raises a dispute."""
    reservation = _reservation(ctx, ctx.body.get("reservationId"))
    if ctx.body.get("raisedBy") != ctx.user_id:
        raise forbidden("errMsg_raisedByMustBeTheCaller", "raisedBy: a dispute is raised by the calling user")
    values = {k: v for k, v in ctx.body.items() if k in ctx.obj.properties}
    values.update(reservationId=reservation["id"], raisedBy=ctx.user_id, reportedAt=isoformat(ctx.now),
                  resolutionStatus="pending", adminId=None, resolvedAt=None, refundApproved=None)
    record = new_record(ctx, values)
    check_references(ctx, record)
    related = ctx.table("paymentRecord").get(record.get("relatedPaymentId") or "")
    if related is not None and related["reservationId"] != reservation["id"]:
        raise bad_request("errMsg_relatedPaymentIdNotOfReservation",
                          f"relatedPaymentId: payment record {related['id']} belongs to another reservation")
    ctx.table().insert(record)
    _sync_dispute_status(ctx, reservation["id"])
    return Result(data=record)


def _party_changes(ctx: Context, dispute: dict[str, Any]) -> dict[str, Any]:
    """A guest or host may change only the description of a dispute they raised."""
    changes = {k: v for k, v in ctx.body.items() if k in ctx.obj.properties and v != dispute.get(k)}
    others = sorted(set(changes) - {"description"})
    if others:
        raise forbidden("errMsg_onlyAnAdminResolvesDisputes", f"{', '.join(others)}: only an admin may set these")
    if changes and dispute.get("raisedBy") != ctx.user_id:
        raise forbidden("errMsg_onlyTheRaiserEditsTheDispute", "description: only the user who raised the dispute may edit it")
    return changes


def _check_admin_user(ctx: Context, admin_id: Any) -> None:
    user = foreign_table(ctx, "user").get(admin_id) if isinstance(admin_id, str) else None
    if user is None:
        raise not_found("errMsg_userNotFound", f"adminId: no user with id {admin_id}")
    if user.get("roleId") != ADMIN:
        raise bad_request("errMsg_adminIdIsNotAnAdmin", f"adminId: user {admin_id} is not an admin")


def _resolution(ctx: Context, dispute: dict[str, Any], status: Any, refund: bool) -> dict[str, Any]:
    """Check a resolutionStatus change and give its changes (refunding when approved)."""
    if status == "pending":
        raise bad_request("errMsg_resolutionStatusTransitionNotAllowed", "resolutionStatus: a dispute cannot go back to pending")
    if status == "rejected" and refund:
        raise bad_request("errMsg_rejectedDisputeCannotRefund", "refundApproved: a rejected dispute approves no refund")
    if status not in CLOSED_DISPUTE:
        return {"resolutionStatus": status}
    changes: dict[str, Any] = {"resolutionStatus": status, "resolvedAt": isoformat(ctx.now)}
    if dispute.get("adminId") is None and "adminId" not in ctx.body:
        changes["adminId"] = ctx.user_id
    if refund:
        _refund_dispute(ctx, dispute)
    return changes


def _refund_dispute(ctx: Context, dispute: dict[str, Any]) -> None:
    """Refund what is left of the dispute's payment (its related record, else the reservation's charge)."""
    records = ctx.table("paymentRecord")
    related = dispute.get("relatedPaymentId")
    record = records.get(related, include_inactive=True) if isinstance(related, str) else None
    if record is None:
        reservation = ctx.table("reservation").get(dispute["reservationId"], include_inactive=True)
        record = _charged_record(ctx, reservation) if reservation is not None else None
    if record is None:
        raise bad_request("errMsg_reservationIsNotPaid", f"refundApproved: reservation {dispute['reservationId']} has no payment to refund")
    if record.get("paymentStatus") == "refunded":
        raise bad_request("errMsg_paymentAlreadyRefunded", f"refundApproved: payment record {record['id']} is already refunded")
    _refund(ctx, record)


def _admin_changes(ctx: Context, dispute: dict[str, Any]) -> dict[str, Any]:
    """An admin assigns, edits and resolves; resolvedAt is the twin's."""
    changes = {k: v for k, v in ctx.body.items()
               if k in ("adminId", "issueType", "description", "refundApproved") and v != dispute.get(k)}
    if changes.get("adminId") is not None:
        _check_admin_user(ctx, changes["adminId"])
    status = ctx.body.get("resolutionStatus")
    refund = bool(changes.get("refundApproved", dispute.get("refundApproved")))
    if status is not None and status != dispute.get("resolutionStatus"):
        changes.update(_resolution(ctx, dispute, status, refund))
    return changes


async def update_dispute(ctx: Context) -> Result:
    """`PATCH /v1/disputes/{id}`: the admin resolves; the raiser may reword the description."""
    dispute = find_one(ctx)
    wanted = {k: v for k, v in ctx.body.items() if k in ctx.obj.properties and v != dispute.get(k)}
    if wanted and dispute.get("resolutionStatus") in CLOSED_DISPUTE:
        raise bad_request("errMsg_disputeIsClosed", f"dispute {dispute['id']} is already {dispute.get('resolutionStatus')}")
    changes = _admin_changes(ctx, dispute) if ctx.role == ADMIN else _party_changes(ctx, dispute)
    updated = save(ctx, dispute, changes)
    _sync_dispute_status(ctx, dispute["reservationId"])
    return Result(data=updated)


# -- the payment flow ----------------------------------------------------------------------------
def _event_object(ctx: Context) -> dict[str, Any]:
    """The object a Stripe event carries (`data.object`), {} when the body has none."""
    data = ctx.body.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else {}


def _on_paid(ctx: Context, reservation: dict[str, Any]) -> dict[str, Any]:
    """Paid: the payment record is written; instant bookings confirm, manual ones await the host.

    A payment landing on a reservation cancelled or declined meanwhile goes straight back.
    """
    payment = _sys_payment(ctx, reservation["id"])
    record = _write_payment_record(ctx, reservation, payment["paymentId"] if payment else "")
    status = reservation.get("bookingStatus")
    if status in ("cancelled", "declined"):
        if record.get("paymentStatus") == "paid":
            _refund(ctx, record)
        return {}
    if status == "pending" and reservation.get("approvalType") == "instant":
        return {"bookingStatus": "confirmed"}
    return {}


def _on_canceled(ctx: Context, reservation: dict[str, Any]) -> dict[str, Any]:
    """The payment intent was canceled: the pending booking cannot be paid, its dates free up."""
    return {"bookingStatus": "cancelled"} if reservation.get("bookingStatus") == "pending" else {}


def _on_refunded(ctx: Context, reservation: dict[str, Any]) -> dict[str, Any]:
    """Stripe reports the charge refunded (by the twin, or in Stripe itself): the record follows."""
    charge = _event_object(ctx)
    record = _record_for_intent(ctx, charge.get("payment_intent"))
    refunded = charge.get("amount_refunded")
    if record is not None and isinstance(refunded, int) and refunded > 0:
        changes = {"paymentStatus": "refunded", "refundAmount": refunded / 100}
        if any(record.get(k) != v for k, v in changes.items()):
            save(ctx, record, changes, object_spec(ctx, "paymentRecord"))
    return {}


FLOW = PaymentFlow(
    order="reservation", payment="sys_reservationPayment", amount_cents=lambda r: _cents(r.get("totalPrice")),
    on_paid=_on_paid, on_canceled=_on_canceled, on_refunded=_on_refunded,
    metadata=lambda ctx, order: {"guestId": str(order.get("guestId")), "listingId": str(order.get("listingId"))},
    payable=_payable,
)


def booking_management(spec: ServiceSpec) -> Workflow:
    """The bookingManagement workflow: role table, scopes, business handlers and payments."""
    payments = payment_handlers(FLOW, spec.operations)
    handlers: dict[str, Handler] = {
        **payments,
        "createReservation": create_reservation,
        "updateReservation": update_reservation,
        "deleteReservation": delete_reservation,
        "createPaymentRecord": create_payment_record,
        "createDispute": create_dispute,
        "updateDispute": update_dispute,
        "listPaymentCustomerMethods": own_payment_methods(ADMIN),
    }
    return Workflow.for_spec(
        spec, name="airbnb.bookingManagement", scope=scope, handlers=handlers,
        webhook_apis=callback_apis(FLOW, spec.operations), loosened={ADMIN_BOOKS: ("createReservation", ADMIN)},
    )


WORKFLOWS = {"bookingManagement": booking_management}
