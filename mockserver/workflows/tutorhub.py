"""tutorhub · enrollmentManagement: booking lesson slots, paying through Stripe, the refund window.

Roles: `admin`, `tutor`, `student` (fixtures: a tutor owns tutor profiles, `tutorProfile.tutorId`).
Who may call which API is the role overlay beside the guide (`specs/guides/*.roles.yaml`, in the
spec as `x-twin-access`); the notes below say why, and what each role may do within an API.

The rules the guide states, and the choices made where it is vague:

- createEnrollment (students only; the caller is the student). The course pack must exist and be
  active, `tutorProfileId` must be the pack's tutor profile, and every lesson slot must exist,
  belong to the pack and be `available` (no slot twice in one request). The slots become
  `booked`. Prices are the server's: `totalAmount` is the pack's `price` and `currency` the pack's
  currency when it has one (the body's values are the client's echo and are overwritten; a
  body currency that is not a 3-letter code is still refused). The workflow owns the statuses:
  `enrollmentStatus`, `paymentStatus`, `paymentConfirmation` start `pending`, `refundStatus`
  `notRequested`, `enrolledAt` empty, whatever the body says. A pack flagged
  `requiresScreening` is refused: the twin has no screening meetings to check.
- Payment (`startEnrollmentPayment`, students only): the shared Stripe flow charges `totalAmount`.
  Paid → `paymentStatus: paid`, `enrollmentStatus: active`, `enrolledAt: now`. A payment that
  lands on an enrollment canceled meanwhile (e.g. by the stale-pending cleanup) is refunded at
  once. A canceled payment intent cancels the enrollment and frees its slots.
- Refund (createRefundRequest, students only, the enrollment's own student): the enrollment must
  be paid and never refunded (one refund request per enrollment), its FIRST lesson (earliest
  `scheduledDate`/`scheduledTime`) must be `completed` and no later lesson completed. The
  request is auto-approved (`autoApproved`, `processedAt` now, `firstLessonCompleted` true;
  `requestedAt` is now, `adminNote` is the admin's and ignored from a student), the full
  `totalAmount` is refunded through Stripe, and the enrollment becomes `canceled` /
  `refunded` / `processed` with its still-booked slots freed (completed lessons stay completed).
- Cancelling (cancelEnrollment, cascades, cleanup) refunds a paid enrollment in full and voids an
  unpaid one (`paymentConfirmation: canceled`, so it can no longer be paid); either way its
  booked slots become `available`. Canceled or completed enrollments cannot be canceled again.
- adminRefundEnrollment: admin override without the lesson window; the enrollment must be paid
  and never refunded; the refund request records the admin as `requestedBy`.
- updateRefundRequest (admin): decides a `pending` request — `approved` refunds and cancels the
  enrollment, `rejected` marks the enrollment's `refundStatus` ineligible; `processedAt` is set
  by the twin. Only `adminNote` may change on an already decided request.
- cascadeTutorBan / cascadeCourseRemoval (admin): cancel every pending or active enrollment of
  the tutor profile / course pack; they answer the canceled enrollments (the
  `paymentConfirmation` filter narrows the answer, not the cascade).
- cleanupPendingEnrollments (every role; housekeeping whose effect does not depend on the
  caller): cancels pending enrollments created at least `maxAgeMinutes` (default 60; a negative
  value counts as 0) ago by the twin's clock; answers the canceled ones the caller may see.
- checkEnrollmentCompletion (every role, on an enrollment the caller may see): an active
  enrollment whose lessons are all completed becomes `completed`; `refundStatus` follows the
  lesson window (`eligible` after the first lesson only, `ineligible` after a later one). Without
  `enrollmentId` it checks every active enrollment the caller may see and answers those that
  completed.
- A body id an operation cannot do without (`enrollmentId`, `tutorProfileId`, `coursePackId` of
  the admin and housekeeping APIs, which the spec leaves optional) answers 404
  `errMsg_<object>NotFound` when missing, as the engine answers a missing required reference.
- Visibility: admins see everything; students their enrollments and the refund requests on
  them; tutors the enrollments of their tutor profiles and the refund requests on those. Payment
  records (`sys_*`) are their owner's (and the admin's); writing them directly is admin-only,
  since the payment flow writes them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .. import mutants
from ..clock import isoformat
from ..context import Context, Result
from ..crud import base_conditions, check_references, list_conditions, new_record, save, visible
from ..errors import bad_request, forbidden, not_found
from ..filters import Condition, exact, select
from ..specindex import ServiceSpec
from ..store import Table
from ..stripe.errors import StripeError
from .base import Handler, Workflow, foreign_table, object_spec
from .payments import PaymentFlow, callback_apis, gateway, own_payment_methods, payment_handlers

ADMIN, TUTOR, STUDENT = "admin", "tutor", "student"

SLOT_DOUBLE_BOOKING = mutants.rule_mutant("slot-double-booking", "a lesson slot that is not available (e.g. already booked) can be booked")
REFUND_BEFORE_FIRST_LESSON = mutants.rule_mutant("refund-before-first-lesson", "a refund is accepted before the enrollment's first lesson is completed")
REFUND_TWICE = mutants.rule_mutant("refund-twice", "an enrollment already refunded (or with a refund request) can be refunded again")


OPEN_STATUSES = ("pending", "active")


# -- small look-ups ------------------------------------------------------------------------------
def _ids(table: Table, conditions: list[Condition]) -> list[str]:
    _, found = select(table, conditions)
    return [r["id"] for r in found]


def _tutor_profile_ids(ctx: Context) -> list[str]:
    """The tutor profiles the caller owns."""
    return _ids(foreign_table(ctx, "tutorProfile"), [exact("tutorId", [ctx.user_id])])


def _required_id(ctx: Context, name: str, target: str) -> str:
    """The body's id of a record the operation needs (404 when none is given, as the engine answers
    a missing required reference: the spec leaves these body parameters optional)."""
    value = ctx.body.get(name)
    if not isinstance(value, str) or not value:
        raise not_found(f"errMsg_{target}NotFound", f"{name}: no {target} given")
    return value


# -- visibility ----------------------------------------------------------------------------------
def _enrollment_scope(ctx: Context) -> list[Condition]:
    if ctx.role == STUDENT:
        return [exact("studentId", [ctx.user_id])]
    return [exact("tutorProfileId", _tutor_profile_ids(ctx))]


def scope(ctx: Context, obj: str) -> list[Condition] | None:
    """What each role reads: admins everything; students and tutors their own share."""
    if ctx.role in (ADMIN, "system"):
        return None
    if ctx.role not in (STUDENT, TUTOR):
        return [exact("id", [])]  # a role the guide does not name sees nothing
    if obj == "enrollment":
        return _enrollment_scope(ctx)
    if obj == "refundRequest":
        return [exact("enrollmentId", _ids(ctx.table("enrollment"), _enrollment_scope(ctx)))]
    if obj == "sys_enrollmentPayment":
        return [exact("ownerId", [ctx.user_id])]
    return [exact("userId", [ctx.user_id])]  # sys_paymentCustomer, sys_paymentMethod


def _enrollment(ctx: Context, enrollment_id: str) -> dict[str, Any]:
    """The enrollment a body names: 404 when there is none, 403 when the caller may not see it."""
    record = ctx.table("enrollment").get(enrollment_id)
    if record is None:
        raise not_found("errMsg_enrollmentNotFound", f"enrollmentId: no enrollment with id {enrollment_id}")
    if not visible(ctx, record, object_spec(ctx, "enrollment")):
        raise forbidden("errMsg_accessDenied", f"this {ctx.role} may not access enrollment {enrollment_id}")
    return record


# -- lesson slots --------------------------------------------------------------------------------
def _set_slot_status(ctx: Context, slot: dict[str, Any], status: str) -> None:
    options = ctx.world.projects[ctx.project].enums["lessonSlot"]["status"]
    foreign_table(ctx, "lessonSlot").replace({**slot, "status": status, "status_idx": options.index(status)})


def _enrollment_slots(ctx: Context, enrollment: dict[str, Any]) -> list[dict[str, Any]]:
    """The enrollment's lesson slots, earliest scheduled first."""
    table = foreign_table(ctx, "lessonSlot")
    slots = [s for s in (table.get(i, include_inactive=True) for i in enrollment.get("lessonSlotIds") or []) if s]
    return sorted(slots, key=lambda s: (str(s.get("scheduledDate") or ""), str(s.get("scheduledTime") or "")))


def _free_slots(ctx: Context, enrollment: dict[str, Any]) -> None:
    """Booked slots of the enrollment become available again (completed lessons stay completed)."""
    for slot in _enrollment_slots(ctx, enrollment):
        if slot.get("status") == "booked":
            _set_slot_status(ctx, slot, "available")


# -- createEnrollment ----------------------------------------------------------------------------
def _course_pack(ctx: Context, pack_id: str) -> dict[str, Any]:
    pack = foreign_table(ctx, "coursePack").get(pack_id, include_inactive=True)
    if pack is None:
        raise not_found("errMsg_coursePackNotFound", f"coursePackId: no coursePack with id {pack_id}")
    if not pack.get("isActive", True):
        raise bad_request("errMsg_coursePackIsNotActive", f"coursePackId: course pack {pack_id} is not offered any more")
    if pack.get("requiresScreening"):
        raise bad_request("errMsg_screeningMeetingRequired", f"coursePackId: course pack {pack_id} requires a passed screening meeting first")
    return pack


def _bookable_slots(ctx: Context, pack: dict[str, Any], slot_ids: list[str]) -> list[dict[str, Any]]:
    """The requested slots, each existing, of this pack and available (else 400/404)."""
    if not slot_ids:
        raise bad_request("errMsg_lessonSlotIdsisRequired", "lessonSlotIds: choose at least one lesson slot")
    if len(set(slot_ids)) != len(slot_ids):
        raise bad_request("errMsg_lessonSlotIdsHasDuplicates", "lessonSlotIds: a lesson slot is listed twice")
    table = foreign_table(ctx, "lessonSlot")
    slots = []
    for slot_id in slot_ids:
        slot = table.get(slot_id)
        if slot is None:
            raise not_found("errMsg_lessonSlotNotFound", f"lessonSlotIds: no lessonSlot with id {slot_id}")
        if slot.get("coursePackId") != pack["id"]:
            raise bad_request("errMsg_lessonSlotNotInCoursePack", f"lessonSlotIds: lesson slot {slot_id} belongs to another course pack")
        if slot.get("status") != "available" and not ctx.world.mutants.is_active(SLOT_DOUBLE_BOOKING):
            raise bad_request("errMsg_lessonSlotNotAvailable", f"lessonSlotIds: lesson slot {slot_id} is {slot.get('status')}")
        slots.append(slot)
    return slots


def _price(ctx: Context, pack: dict[str, Any]) -> tuple[float, str]:
    """What the enrollment costs: the pack's price (in the pack's currency, else the body's)."""
    currency = ctx.body.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise bad_request("errMsg_currencyIsNotAValidCurrencyCode", f"currency: {currency!r} is not a 3-letter ISO code")
    price = pack.get("price")
    if not isinstance(price, (int, float)) or price <= 0:
        raise bad_request("errMsg_coursePackHasNoPrice", f"coursePackId: course pack {pack['id']} has no price")
    return float(price), str(pack.get("currency") or currency).upper()


async def create_enrollment(ctx: Context) -> Result:
    """`POST /v1/enrollments`: book the slots of a course pack for the calling student."""
    pack = _course_pack(ctx, _required_id(ctx, "coursePackId", "coursePack"))
    if ctx.body.get("tutorProfileId") != pack.get("tutorProfileId"):
        raise bad_request("errMsg_tutorProfileIdDoesNotMatchCoursePack",
                          f"tutorProfileId: course pack {pack['id']} belongs to tutor profile {pack.get('tutorProfileId')}")
    slots = _bookable_slots(ctx, pack, list(ctx.body.get("lessonSlotIds") or []))
    amount, currency = _price(ctx, pack)
    record = new_record(ctx, {
        "coursePackId": pack["id"], "studentId": ctx.user_id, "tutorProfileId": pack["tutorProfileId"],
        "lessonSlotIds": [s["id"] for s in slots], "totalAmount": amount, "currency": currency,
        "paymentStatus": "pending", "refundStatus": "notRequested", "enrollmentStatus": "pending",
        "paymentConfirmation": "pending", "enrolledAt": None,
    })
    check_references(ctx, record)
    for slot in slots:
        _set_slot_status(ctx, slot, "booked")
    return Result(data=ctx.table().insert(record))


# -- money back ----------------------------------------------------------------------------------
def _amount_cents(enrollment: dict[str, Any]) -> int:
    return round(float(enrollment.get("totalAmount") or 0) * 100)


def _refund_payment(ctx: Context, enrollment: dict[str, Any]) -> None:
    """Refund the enrollment's charge in full through the fake Stripe.

    An enrollment marked paid without a payment record (seeded state) has no charge to refund.
    """
    _, found = select(ctx.table("sys_enrollmentPayment"), [exact("orderId", [enrollment["id"]])], 0, 1)
    if not found:
        return
    try:  # no amount: Stripe refunds what is left of the charge
        gateway(ctx).create_refund(payment_intent=found[0]["paymentId"], reason="requested_by_customer",
                                   metadata={"orderId": enrollment["id"], "service": ctx.state.spec.slug})
    except StripeError as error:
        raise bad_request("errMsg_paymentRefundFailed", f"enrollment {enrollment['id']}: Stripe refused the refund: {error.message}") from None


def _cancel(ctx: Context, enrollment: dict[str, Any]) -> dict[str, Any]:
    """Cancel an enrollment: refund it in full when paid, void its payment otherwise, free its slots."""
    changes: dict[str, Any] = {"enrollmentStatus": "canceled"}
    if enrollment.get("paymentStatus") == "paid":
        _refund_payment(ctx, enrollment)
        changes.update(paymentStatus="refunded", refundStatus="processed")
    elif enrollment.get("paymentConfirmation") != "paid":
        changes["paymentConfirmation"] = "canceled"
    _free_slots(ctx, enrollment)
    return save(ctx, enrollment, changes, object_spec(ctx, "enrollment"))


def _cancelable(enrollment: dict[str, Any]) -> None:
    status = enrollment.get("enrollmentStatus")
    if status not in OPEN_STATUSES:
        raise bad_request(f"errMsg_enrollmentIs{str(status).title()}", f"enrollment {enrollment['id']} is already {status}")


# -- refund requests -----------------------------------------------------------------------------
def _check_refundable(ctx: Context, enrollment: dict[str, Any], request_id: str | None = None) -> None:
    """One refund per enrollment, and only of a paid one."""
    requests = ctx.table("refundRequest")
    earlier = [r for r in select(requests, [exact("enrollmentId", [enrollment["id"]])])[1] if r["id"] != request_id]
    refunded = enrollment.get("paymentStatus") == "refunded" or enrollment.get("refundStatus") == "processed"
    if earlier or refunded:
        if ctx.world.mutants.is_active(REFUND_TWICE):
            return
        raise bad_request("errMsg_refundAlreadyRequested", f"enrollmentId: enrollment {enrollment['id']} already has a refund")
    if enrollment.get("paymentStatus") != "paid":
        raise bad_request("errMsg_enrollmentIsNotPaid", f"enrollmentId: enrollment {enrollment['id']} has not been paid")


def _lesson_window(ctx: Context, enrollment: dict[str, Any]) -> tuple[bool, bool]:
    """(first lesson completed, a later lesson completed)."""
    slots = _enrollment_slots(ctx, enrollment)
    first_done = bool(slots) and slots[0].get("status") == "completed"
    return first_done, any(s.get("status") == "completed" for s in slots[1:])


def _check_refund_window(ctx: Context, enrollment: dict[str, Any]) -> bool:
    """A student's refund only after the first lesson and before any later one; answers whether
    the first lesson is completed."""
    first_done, later_done = _lesson_window(ctx, enrollment)
    if not first_done and not ctx.world.mutants.is_active(REFUND_BEFORE_FIRST_LESSON):
        raise bad_request("errMsg_firstLessonNotCompleted",
                          f"enrollmentId: the first lesson of enrollment {enrollment['id']} is not completed yet")
    if later_done:
        raise bad_request("errMsg_refundWindowClosed",
                          f"enrollmentId: a later lesson of enrollment {enrollment['id']} is already completed")
    return first_done


def _refund(ctx: Context, enrollment: dict[str, Any]) -> dict[str, Any]:
    """Process an approved refund: money back (when still paid), enrollment canceled, slots freed."""
    if enrollment.get("paymentStatus") == "paid":
        _refund_payment(ctx, enrollment)
    _free_slots(ctx, enrollment)
    return save(ctx, enrollment, {"paymentStatus": "refunded", "refundStatus": "processed", "enrollmentStatus": "canceled"},
                object_spec(ctx, "enrollment"))


def _auto_approved_request(ctx: Context, enrollment: dict[str, Any], reason: Any, first_done: bool,
                           note: str | None = None) -> dict[str, Any]:
    now = isoformat(ctx.now)
    record = new_record(ctx, {
        "enrollmentId": enrollment["id"], "requestedBy": ctx.user_id, "requestedAt": now, "processedAt": now,
        "status": "autoApproved", "reason": reason, "firstLessonCompleted": first_done, "adminNote": note,
    }, object_spec(ctx, "refundRequest"))
    return ctx.table("refundRequest").insert(record)


def _reason(ctx: Context, *, required: bool) -> str:
    reason = ctx.body.get("reason")
    if isinstance(reason, str) and reason.strip():
        return reason
    if required:
        raise bad_request("errMsg_reasonisRequired", "reason: say why the refund is requested")
    return "admin refund"


async def create_refund_request(ctx: Context) -> Result:
    """`POST /v1/refundrequests`: the student's own refund, in the window after the first lesson."""
    enrollment = _enrollment(ctx, _required_id(ctx, "enrollmentId", "enrollment"))
    if enrollment.get("studentId") != ctx.user_id:
        raise forbidden("errMsg_onlyTheStudentMayRequestARefund", f"enrollment {enrollment['id']} is another student's")
    reason = _reason(ctx, required=True)
    _check_refundable(ctx, enrollment)
    first_done = _check_refund_window(ctx, enrollment)
    _refund(ctx, enrollment)
    return Result(data=_auto_approved_request(ctx, enrollment, reason, first_done))


async def admin_refund_enrollment(ctx: Context) -> Result:
    """`POST /v1/adminrefundenrollment`: an admin refunds a paid enrollment, no lesson window."""
    enrollment = _enrollment(ctx, _required_id(ctx, "enrollmentId", "enrollment"))
    _check_refundable(ctx, enrollment)
    first_done, _ = _lesson_window(ctx, enrollment)
    reason = _reason(ctx, required=False)
    _refund(ctx, enrollment)
    return Result(data=_auto_approved_request(ctx, enrollment, reason, first_done, note=reason))


def _find_refund_request(ctx: Context) -> dict[str, Any]:
    rid = ctx.path.get("refundRequestId")
    record = ctx.table("refundRequest").get(rid) if isinstance(rid, str) else None
    if record is None:
        raise not_found("errMsg_refundRequestNotFound", f"refundRequestId: no refundRequest with id {rid}")
    return record


async def update_refund_request(ctx: Context) -> Result:
    """`PATCH /v1/refundrequests/{id}`: the admin approves or rejects a pending request."""
    request = _find_refund_request(ctx)
    changes: dict[str, Any] = {k: ctx.body[k] for k in ("adminNote",) if k in ctx.body}
    status = ctx.body.get("status")
    if status is not None and status != request.get("status"):
        if status not in ("approved", "rejected"):
            raise bad_request("errMsg_statusIsNotADecision", "status: an admin sets approved or rejected")
        if request.get("status") != "pending":
            raise bad_request("errMsg_refundRequestAlreadyDecided", f"refund request {request['id']} is already {request.get('status')}")
        enrollment = ctx.table("enrollment").get(request["enrollmentId"])
        if enrollment is None:
            raise not_found("errMsg_enrollmentNotFound", f"enrollmentId: no enrollment with id {request['enrollmentId']}")
        if status == "approved":
            _check_refundable(ctx, enrollment, request_id=request["id"])
            _refund(ctx, enrollment)
        elif enrollment.get("refundStatus") != "processed":
            save(ctx, enrollment, {"refundStatus": "ineligible"}, object_spec(ctx, "enrollment"))
        changes.update(status=status, processedAt=isoformat(ctx.now))
    return Result(data=save(ctx, request, changes))


# -- admin and housekeeping ----------------------------------------------------------------------
async def cancel_enrollment(ctx: Context) -> Result:
    """`PATCH /v1/cancelenrollment/{id}`: the admin force-cancels (and refunds a paid one)."""
    enrollment = _enrollment(ctx, str(ctx.path.get("enrollmentId")))
    _cancelable(enrollment)
    return Result(data=_cancel(ctx, enrollment))


def _answer(ctx: Context, records: list[dict[str, Any]]) -> Result:
    """A list answer of changed enrollments, narrowed to what the caller sees and its filters."""
    conditions, applied = list_conditions(ctx)
    shown = [r for r in records if all(c.predicate(r) for c in conditions)]
    return Result(data=shown, total=len(shown), filters=applied)


def cascade_handler(field: str, target: str) -> Handler:
    """`POST /v1/cascade…`: cancel every open enrollment of one tutor profile or course pack."""
    async def cascade(ctx: Context) -> Result:
        target_id = _required_id(ctx, field, target)
        if foreign_table(ctx, target).get(target_id, include_inactive=True) is None:
            raise not_found(f"errMsg_{target}NotFound", f"{field}: no {target} with id {target_id}")
        _, open_ = select(ctx.table("enrollment"), [exact(field, [target_id]), exact("enrollmentStatus", list(OPEN_STATUSES))])
        return _answer(ctx, [_cancel(ctx, e) for e in open_])
    return cascade


def _max_age_minutes(ctx: Context) -> int:
    """The body's age limit, default 60; the spec allows a negative one, which means 0 (all pending)."""
    value = ctx.body.get("maxAgeMinutes")
    return 60 if value is None else max(0, int(value))


async def cleanup_pending_enrollments(ctx: Context) -> Result:
    """`POST /v1/cleanuppendingenrollments`: cancel unpaid enrollments older than maxAgeMinutes."""
    max_age = _max_age_minutes(ctx)
    try:
        cutoff = isoformat(ctx.now - timedelta(minutes=max_age))
    except OverflowError:  # an age beyond the calendar: nothing is that old
        return _answer(ctx, [])
    _, pending = select(ctx.table("enrollment"), [exact("enrollmentStatus", ["pending"])])
    stale = [e for e in pending if str(e.get("createdAt")) <= cutoff]
    return _answer(ctx, [_cancel(ctx, e) for e in stale])


def _completion_changes(ctx: Context, enrollment: dict[str, Any]) -> dict[str, Any]:
    """An active enrollment's state as its lessons stand: completed when all are, and the refund window."""
    slots = _enrollment_slots(ctx, enrollment)
    changes: dict[str, Any] = {}
    if slots and all(s.get("status") == "completed" for s in slots):
        changes["enrollmentStatus"] = "completed"
    if enrollment.get("refundStatus") != "processed":
        first_done, later_done = _lesson_window(ctx, enrollment)
        window = "ineligible" if later_done else "eligible" if first_done else "notRequested"
        if window != enrollment.get("refundStatus"):
            changes["refundStatus"] = window
    return changes


async def check_enrollment_completion(ctx: Context) -> Result:
    """`POST /v1/checkenrollmentcompletion`: mark an enrollment completed once all its lessons are."""
    enrollment_id = ctx.body.get("enrollmentId")
    if enrollment_id is not None:
        candidates = [_enrollment(ctx, enrollment_id)]
    else:
        candidates = select(ctx.table("enrollment"), [*base_conditions(ctx), exact("enrollmentStatus", ["active"])])[1]
    checked = []
    for enrollment in candidates:
        changes = _completion_changes(ctx, enrollment) if enrollment.get("enrollmentStatus") == "active" else {}
        if changes:
            enrollment = save(ctx, enrollment, changes, object_spec(ctx, "enrollment"))
        if enrollment_id is not None or enrollment.get("enrollmentStatus") == "completed":
            checked.append(enrollment)
    return _answer(ctx, checked)


# -- the payment flow ----------------------------------------------------------------------------
def _on_paid(ctx: Context, enrollment: dict[str, Any]) -> dict[str, Any]:
    """Paid: the enrollment opens; a payment landing on a canceled enrollment goes straight back."""
    if enrollment.get("enrollmentStatus") == "canceled":
        _refund_payment(ctx, enrollment)
        return {"paymentStatus": "refunded", "refundStatus": "processed"}
    if enrollment.get("enrollmentStatus") != "pending":
        return {"paymentStatus": "paid"}
    return {"paymentStatus": "paid", "enrollmentStatus": "active", "enrolledAt": isoformat(ctx.now)}


def _on_canceled(ctx: Context, enrollment: dict[str, Any]) -> dict[str, Any]:
    """The payment intent was canceled: the booking cannot be paid any more, its slots go back."""
    if enrollment.get("enrollmentStatus") != "pending":
        return {}
    _free_slots(ctx, enrollment)
    return {"enrollmentStatus": "canceled"}


def _on_refunded(ctx: Context, enrollment: dict[str, Any]) -> dict[str, Any]:
    """Stripe reports the charge refunded (ours, or one made in Stripe's dashboard)."""
    if enrollment.get("paymentStatus") == "refunded":
        return {}
    _free_slots(ctx, enrollment)
    return {"paymentStatus": "refunded", "refundStatus": "processed", "enrollmentStatus": "canceled"}


FLOW = PaymentFlow(
    order="enrollment", payment="sys_enrollmentPayment", amount_cents=_amount_cents,
    on_paid=_on_paid, on_canceled=_on_canceled, on_refunded=_on_refunded,
    metadata=lambda ctx, order: {"studentId": str(order.get("studentId")), "coursePackId": str(order.get("coursePackId"))},
)


def enrollment_management(spec: ServiceSpec) -> Workflow:
    """The enrollmentManagement workflow: role table, scopes, business handlers and payments."""
    handlers: dict[str, Handler] = {
        "createEnrollment": create_enrollment,
        "createRefundRequest": create_refund_request,
        "adminRefundEnrollment": admin_refund_enrollment,
        "updateRefundRequest": update_refund_request,
        "cancelEnrollment": cancel_enrollment,
        "cascadeTutorBan": cascade_handler("tutorProfileId", "tutorProfile"),
        "cascadeCourseRemoval": cascade_handler("coursePackId", "coursePack"),
        "cleanupPendingEnrollments": cleanup_pending_enrollments,
        "checkEnrollmentCompletion": check_enrollment_completion,
        "listPaymentCustomerMethods": own_payment_methods(ADMIN),
        **payment_handlers(FLOW, spec.operations),
    }
    return Workflow.for_spec(
        spec, name="tutorhub.enrollmentManagement", scope=scope, handlers=handlers,
        webhook_apis=callback_apis(FLOW, spec.operations),
    )


WORKFLOWS = {"enrollmentManagement": enrollment_management}
