"""airbnb · bookingManagement: reservations without overlaps, Stripe payment, immutable payment
records, who sees which reservation, and who may do what.

Listings belong to another service: the target names them (hook or data `listings`: records with
`id`, `hostId`, `pricePerNight`, `maxGuests`, `approvalType`). Against a twin they are its fixtures.
Stays are booked far in the future on random dates, so runs do not collide with each other.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ..client import Api, Reply
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

PROJECT = ("airbnb",)
_random = random.Random()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def listings(ctx: ScenarioContext, instant: bool | None = None) -> list[dict[str, Any]]:
    """Active listings the target names (instant-booking ones first when asked)."""
    found = ctx.target.records("listings", ctx.session)
    ctx.require(found, f"no listings on this target: configure hook or data 'listings' (services.{ctx.target.name}.hooks.listings)")
    active = [row for row in found or [] if row.get("isActive", True) and row.get("id") and row.get("hostId")]
    if instant is not None:
        active.sort(key=lambda row: (row.get("approvalType") == "instant") != instant)
    ctx.require(active, "no active listing on this target")
    return active


def stay_body(listing: dict[str, Any], check_in: datetime, nights: int = 2) -> dict[str, Any]:
    """A createReservation body for `nights` nights from `check_in` (the server prices and owns the statuses)."""
    per_night = float(listing.get("pricePerNight") or 100.0)
    return {
        "listingId": listing["id"], "hostId": listing["hostId"], "approvalType": listing.get("approvalType") or "instant",
        "bookingStatus": "pending", "checkIn": _iso(check_in), "checkOut": _iso(check_in + timedelta(days=nights)),
        "currency": "USD", "guestCount": 1, "totalPrice": round(per_night * nights, 2), "disputeStatus": "none",
        "bookingPoliciesSnapshot": {"checkInFrom": "15:00"}, "cancellationPolicySnapshot": {"policy": "flexible"},
    }


def far_future(days_min: int = 400, days_max: int = 3000) -> datetime:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=_random.randint(days_min, days_max))


def book(ctx: ScenarioContext, guest: str, listing: dict[str, Any] | None = None, nights: int = 2,
         instant: bool | None = True) -> dict[str, Any]:
    """A new reservation as `guest` on free dates (retrying other dates on a clash); deleted afterwards."""
    api = ctx.api(guest)
    choices = [listing] if listing is not None else listings(ctx, instant)
    reply: Reply | None = None
    for attempt in range(4):
        target = choices[attempt % len(choices)] if listing is None else listing
        reply = api.call("createReservation", body=stay_body(target, far_future(), nights))
        if reply.status == 201 and isinstance(reply.data, dict):
            record = dict(reply.data)
            forget_later(ctx, guest, record["id"])
            return record
        if reply.status != 400:
            break
    ctx.skip(f"could not book a stay as {guest}: {reply.describe() if reply else 'no listing'}")


def forget_later(ctx: ScenarioContext, who: str, reservation_id: str) -> None:
    """Cancel (delete) a reservation after the scenario, so its dates are free again."""
    api = ctx.api(who)
    ctx.cleanup(lambda: api.call("deleteReservation", path={"reservationId": reservation_id}, judge_answer=False))


def reservation_state(api: Api, reservation_id: str) -> dict[str, Any]:
    reply = api.call("getReservation", path={"reservationId": reservation_id})
    return reply.data if reply.ok and isinstance(reply.data, dict) else {}


def _recipe_body(ctx: ScenarioContext, tag: str) -> dict[str, Any]:
    return stay_body(listings(ctx, True)[0], far_future())


recipe("airbnb", Recipe(
    object="sys_reservationPayment", actor="admin",
    body=lambda ctx, tag: {"orderId": str(uuid.uuid4()), "paymentId": f"pi_{tag}", "paymentStatus": "succeeded",
                           "statusLiteral": "paid", "redirectUrl": f"https://app.example.test/paid/{tag}"},
    update=lambda ctx, record, tag: {"statusLiteral": f"refunded-{tag}", "redirectUrl": f"https://app.example.test/r/{tag}"},
    echo=("orderId", "paymentId", "paymentStatus", "statusLiteral", "redirectUrl"),
))
recipe("airbnb", Recipe(
    object="reservation", actor="guest", body=_recipe_body,
    update=lambda ctx, record, tag: {"iCalExportUrl": f"https://calendar.example.test/{tag}.ics"},
    echo=("listingId", "hostId", "checkIn", "checkOut", "guestCount", "currency"),
    prepare=lambda ctx: listings(ctx),
))


# -- overlaps --------------------------------------------------------------------------------------
@scenario("airbnb.reservation-overlap", projects=PROJECT, rules=("overlapping-stay-refused", "disjoint-stay-accepted"),
          title="a listing cannot be booked twice for overlapping dates")
def reservation_overlap(ctx: ScenarioContext) -> None:
    """Book a stay, then an overlapping one on the same listing, then a disjoint one."""
    listing = listings(ctx, True)[0]
    first = book(ctx, "guest", listing, nights=3)
    start = datetime.fromisoformat(str(first["checkIn"]).replace("Z", "+00:00"))
    other = "guest2" if ctx.target.identity("guest2") else "guest"
    api = ctx.api(other)
    clash = api.call("createReservation", body=stay_body(listing, start + timedelta(days=1), nights=3))
    if clash.ok and isinstance(clash.data, dict):
        forget_later(ctx, other, clash.data["id"])
    ctx.expect("overlapping-stay-refused", 400 <= clash.status < 500,
               f"{clash.describe()}; listing {listing['id']} is booked {first['checkIn']}–{first['checkOut']} "
               f"(reservation {first['id']}), an overlapping stay must be refused", operation="createReservation")
    later = api.call("createReservation", body=stay_body(listing, start + timedelta(days=40), nights=2))
    if later.ok and isinstance(later.data, dict):
        forget_later(ctx, other, later.data["id"])
    ctx.expect("disjoint-stay-accepted", later.status == 201,
               f"{later.describe()}; a stay weeks after the first one does not overlap", operation="createReservation", fatal=False)


# -- payment ---------------------------------------------------------------------------------------
@scenario("airbnb.payment", projects=PROJECT,
          rules=("start-payment-accepted", "payment-flips-order-paid", "instant-stay-confirmed-when-paid",
                 "payment-record-written", "declined-card-not-paid", "forged-webhook-refused"),
          title="paying a reservation marks it paid (and confirms an instant booking); a declined card or a forged webhook does not")
def payment(ctx: ScenarioContext) -> None:
    """Stripe payment of a reservation."""
    apis = payment_apis(ctx, "reservation")
    ctx.require({"start", "callback"} <= set(apis), "the spec has no reservation payment flow")
    api = ctx.api("guest")
    record = book(ctx, "guest", instant=True)
    reply = start_payment(api, apis["start"], record["id"], VISA)
    ctx.expect("start-payment-accepted", reply.status == 200 and isinstance((reply.json or {}).get("paymentResult"), dict),
               f"{reply.describe()}; expected 200 with paymentResult", operation=apis["start"])
    state = wait_until_paid(ctx, api, apis.get("refresh"), record["id"], lambda: reservation_state(api, record["id"])) \
        or reservation_state(api, record["id"])
    ctx.expect("payment-flips-order-paid", state.get("paymentConfirmation") == "paid",
               f"after a successful card payment the reservation is paymentConfirmation={state.get('paymentConfirmation')}",
               operation=apis["start"], fatal=False)
    if record.get("approvalType") == "instant":
        ctx.expect("instant-stay-confirmed-when-paid", state.get("bookingStatus") == "confirmed",
                   f"a paid instant booking is bookingStatus={state.get('bookingStatus')}, expected confirmed",
                   operation=apis["start"], fatal=False)
    else:
        ctx.skip_rule("instant-stay-confirmed-when-paid", "the booked listing is not instant-booking")
    rows, first = list_all(api, ctx.spec.op("listPaymentRecords"))
    mine = [r for r in rows if r.get("reservationId") == record["id"]]
    ctx.expect("payment-record-written", first.ok and len(mine) == 1 and abs(float(mine[0].get("amountPaid") or 0)
                                                                         - float(record.get("totalPrice") or 0)) < 0.01,
               f"{first.describe()}; expected one payment record of {record.get('totalPrice')} for reservation {record['id']}, "
               f"found {[(r.get('id'), r.get('amountPaid')) for r in mine]}", operation="listPaymentRecords", fatal=False)
    unpaid = book(ctx, "guest", instant=True)
    declined = start_payment(api, apis["start"], unpaid["id"], DECLINED)
    if apis.get("refresh"):
        refresh_payment(api, apis["refresh"], unpaid["id"])
    state = reservation_state(api, unpaid["id"])
    ctx.expect("declined-card-not-paid", declined.status in (200, 400, 402) and state.get("paymentConfirmation") != "paid",
               f"{declined.describe()}; after a declined card the reservation is paymentConfirmation="
               f"{state.get('paymentConfirmation')}", operation=apis["start"], fatal=False)
    forged = forged_webhook(api, apis["callback"], unpaid["id"], order_param(ctx, apis["callback"], "reservation"))
    state = reservation_state(api, unpaid["id"])
    ctx.expect("forged-webhook-refused", 400 <= forged.status < 500 and state.get("paymentConfirmation") != "paid",
               f"{forged.describe()}; a webhook with a bad Stripe-Signature must be refused and change nothing; the "
               f"reservation is paymentConfirmation={state.get('paymentConfirmation')}", operation=apis["callback"], fatal=False)


# -- payment records -------------------------------------------------------------------------------
def _payment_record_body(reservation_id: str, intent: str, amount: float) -> dict[str, Any]:
    return {"reservationId": reservation_id, "paymentIntentId": intent, "currency": "USD", "amountPaid": amount,
            "paymentStatus": "paid", "platformFee": round(amount * 0.03, 2), "payoutAmountHost": round(amount * 0.97, 2),
            "paymentDate": _iso(datetime.now(UTC))}


@scenario("airbnb.payment-records-immutable", projects=PROJECT,
          rules=("no-update-or-delete-route", "record-never-changes"),
          title="payment records are immutable: nothing updates or deletes a stored record")
def payment_records_immutable(ctx: ScenarioContext) -> None:
    """Log a payment record, then try every way to change it."""
    ctx.identity("admin")
    reservation = book(ctx, "guest", instant=True)
    admin = ctx.api("admin")
    intent = f"pi_suite_{ctx.unique()}"
    created = admin.call("createPaymentRecord", body=_payment_record_body(reservation["id"], intent, 120.0))
    ctx.require(created.status == 201 and isinstance(created.data, dict), f"could not log a payment record: {created.describe()}")
    record = dict(created.data)
    route = ctx.spec.op("getPaymentRecord").path.replace("{paymentRecordId}", record["id"])
    changed = {"amountPaid": 1.0, "paymentStatus": "refunded"}
    attempts = [admin.raw(method, route, body=changed if method != "DELETE" else None) for method in ("PATCH", "PUT", "DELETE")]
    accepted = [a.describe() for a in attempts if a.ok]
    ctx.expect("no-update-or-delete-route", not accepted, f"payment records accepted a change: {accepted}",
               operation="getPaymentRecord", fatal=False)
    again = admin.call("createPaymentRecord", body=_payment_record_body(reservation["id"], intent, 1.0))
    now = admin.call("getPaymentRecord", path={"paymentRecordId": record["id"]})
    data = now.data if isinstance(now.data, dict) else {}
    problems = []
    if now.status != 200:
        problems.append(f"{now.describe()}: the record is gone")
    for key in ("amountPaid", "paymentStatus", "paymentIntentId", "reservationId", "recordVersion", "updatedAt"):
        if key in record and data.get(key) != record.get(key):
            problems.append(f"{key} {record.get(key)!r} → {data.get(key)!r}")
    if again.ok and isinstance(again.data, dict) and again.data.get("id") == record["id"]:
        problems.append(f"{again.describe()} rewrote record {record['id']}")
    ctx.expect("record-never-changes", not problems,
               f"logging the same payment intent again changed the stored record: {problems}", operation="createPaymentRecord")


# -- who sees what ---------------------------------------------------------------------------------
@scenario("airbnb.visibility", projects=PROJECT,
          rules=("guest-sees-own", "other-guest-cannot-read", "other-guest-list-excludes", "listing-host-sees-it",
                 "other-host-list-excludes", "admin-sees-all"),
          title="guests see their reservations, hosts those of their listings, admins all")
def visibility(ctx: ScenarioContext) -> None:
    """Who may read a reservation."""
    record = book(ctx, "guest", instant=True)
    rid = record["id"]
    own = ctx.api("guest").call("getReservation", path={"reservationId": rid})
    ctx.expect("guest-sees-own", own.status == 200, f"{own.describe()}; the guest reads their own reservation",
               operation="getReservation", fatal=False)
    if ctx.target.identity("guest2"):
        other = ctx.api("guest2")
        reply = other.call("getReservation", path={"reservationId": rid})
        ctx.expect("other-guest-cannot-read", reply.status in (403, 404), f"{reply.describe()}; another guest reads reservation {rid}",
                   operation="getReservation", fatal=False)
        rows, first = list_all(other, ctx.spec.op("listReservations"))
        ctx.expect("other-guest-list-excludes", first.ok and all(r.get("id") != rid for r in rows),
                   f"{first.describe()}; another guest's list shows reservation {rid}", operation="listReservations", fatal=False)
    else:
        for rule in ("other-guest-cannot-read", "other-guest-list-excludes"):
            ctx.skip_rule(rule, "no second guest identity (guest2)")
    hosts = ctx.target.by_role("host")
    for host in hosts:
        if host.user_id is None and host.token:
            ctx.api(host.name).call("listReservations", query={"pageRowCount": 1})
    owner = next((h for h in hosts if h.user_id == record.get("hostId")), None)
    stranger = next((h for h in hosts if h.user_id and h.user_id != record.get("hostId")), None)
    if owner is not None:
        rows, first = list_all(ctx.api(owner.name), ctx.spec.op("listReservations"))
        ctx.expect("listing-host-sees-it", first.ok and any(r.get("id") == rid for r in rows),
                   f"{first.describe()}; the listing's host does not see reservation {rid}", operation="listReservations", fatal=False)
    else:
        ctx.skip_rule("listing-host-sees-it", "no host identity owns the booked listing")
    if stranger is not None:
        api = ctx.api(stranger.name)
        rows, first = list_all(api, ctx.spec.op("listReservations"))
        reply = api.call("getReservation", path={"reservationId": rid})
        ctx.expect("other-host-list-excludes", first.ok and all(r.get("id") != rid for r in rows) and reply.status in (403, 404),
                   f"{first.describe()} / {reply.describe()}; a host of another listing sees reservation {rid}",
                   operation="listReservations", fatal=False)
    else:
        ctx.skip_rule("other-host-list-excludes", "no host identity of another listing")
    if ctx.target.identity("admin"):
        reply = ctx.api("admin").call("getReservation", path={"reservationId": rid})
        ctx.expect("admin-sees-all", reply.status == 200, f"{reply.describe()}; admins see every reservation",
                   operation="getReservation", fatal=False)
    else:
        ctx.skip_rule("admin-sees-all", "no admin identity")


# -- roles -----------------------------------------------------------------------------------------
@scenario("airbnb.roles", projects=PROJECT,
          rules=("admin-only[createPaymentRecord]", "guests-only[createReservation]", "parties-only[createDispute]"),
          title="only admins log payment records, only guests book, only a reservation's guest or host opens a dispute")
def roles(ctx: ScenarioContext) -> None:
    """The guide's role rules, each with a request that would succeed for the right role."""
    record = book(ctx, "guest", instant=True)
    body = _payment_record_body(record["id"], f"pi_suite_{ctx.unique()}", 10.0)
    callers = [n for n in ("guest", "host") if ctx.target.identity(n)]
    for caller in callers:
        reply = ctx.api(caller).call("createPaymentRecord", body=body)
        ctx.expect("admin-only[createPaymentRecord]", reply.status == 403,
                   f"{reply.describe()} as {caller}; payment records are logged by admins (and the payment flow)",
                   operation="createPaymentRecord", fatal=False)
    if ctx.target.identity("host"):
        listing = listings(ctx, True)[0]
        reply = ctx.api("host").call("createReservation", body=stay_body(listing, far_future()))
        if reply.ok and isinstance(reply.data, dict):
            forget_later(ctx, "host", reply.data["id"])
        ctx.expect("guests-only[createReservation]", reply.status == 403, f"{reply.describe()} as host; guests book stays",
                   operation="createReservation", fatal=False)
    else:
        ctx.skip_rule("guests-only[createReservation]", "no host identity")
    intruder = ctx.target.identity("guest2")
    if intruder is None:
        ctx.skip_rule("parties-only[createDispute]", "no second guest identity (guest2)")
        return
    api = ctx.api("guest2")
    if intruder.user_id is None:
        api.call("listReservations", query={"pageRowCount": 1})
    dispute = {"reportedAt": _iso(datetime.now(UTC)), "reservationId": record["id"], "raisedBy": intruder.user_id or str(uuid.uuid4()),
               "issueType": "other", "description": "not my stay", "resolutionStatus": "pending"}
    issue_types = ctx.spec.object("dispute").properties.get("issueType")
    if issue_types is not None and issue_types.enum:
        dispute["issueType"] = issue_types.enum[0]
    reply = api.call("createDispute", body=dispute)
    ctx.expect("parties-only[createDispute]", reply.status in (403, 404),
               f"{reply.describe()} as another guest; only the reservation's guest or host opens a dispute",
               operation="createDispute", fatal=False)
