"""tutorhub · enrollmentManagement: the guide's business rules as scenarios.

Preconditions the enrollment API cannot set up itself come from the target: course packs and
their lesson slots (hooks or data `coursePacks`, `lessonSlots`: records with `id`, `coursePackId`,
`tutorProfileId`, `status`, `scheduledDate`), and marking a lesson completed (hook
`completeLessonSlot`, `{id}`; optional `setLessonSlotStatus`, `{id}` + `{status}`, to put a slot
back afterwards). Against a twin they are its fixtures; elsewhere a scenario without them is skipped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ..client import Api, Reply
from .base import ScenarioContext, Skip, scenario
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

PROJECT = ("tutorhub",)
ADMIN_ONLY = ("updateRefundRequest", "cancelEnrollment", "adminRefundEnrollment", "cascadeTutorBan", "cascadeCourseRemoval")

recipe("tutorhub", Recipe(
    object="sys_enrollmentPayment", actor="admin",
    body=lambda ctx, tag: {"orderId": str(uuid.uuid4()), "paymentId": f"pi_{tag}", "paymentStatus": "succeeded",
                           "statusLiteral": "paid", "redirectUrl": f"https://app.example.test/paid/{tag}"},
    update=lambda ctx, record, tag: {"statusLiteral": f"refunded-{tag}", "redirectUrl": f"https://app.example.test/r/{tag}"},
    echo=("orderId", "paymentId", "paymentStatus", "statusLiteral", "redirectUrl"),
))


# -- preconditions ---------------------------------------------------------------------------------
def _records(ctx: ScenarioContext, name: str) -> list[dict[str, Any]]:
    found = ctx.target.records(name, ctx.session)
    ctx.require(found is not None, f"no {name} on this target: configure hook or data {name!r} "
                                   f"(services.{ctx.target.name}.hooks.{name})")
    return found or []


def bookable(ctx: ScenarioContext, slots: int, avoid: set[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """An active course pack without screening and `slots` of its available slots, earliest first."""
    packs = [p for p in _records(ctx, "coursePacks") if p.get("isActive", True) and not p.get("requiresScreening")]
    all_slots = _records(ctx, "lessonSlots")
    for pack in packs:
        free = [s for s in all_slots if s.get("coursePackId") == pack.get("id") and s.get("status") == "available"
                and s.get("isActive", True) and s.get("id") not in (avoid or set())]
        free.sort(key=lambda s: (str(s.get("scheduledDate") or ""), str(s.get("scheduledTime") or "")))
        if len(free) >= slots:
            return pack, [s["id"] for s in free[:slots]]
    ctx.skip(f"no course pack with {slots} available lesson slot(s) left on this target")


def enrollment_body(pack: dict[str, Any], slot_ids: list[str]) -> dict[str, Any]:
    return {"coursePackId": pack["id"], "tutorProfileId": pack.get("tutorProfileId"), "lessonSlotIds": slot_ids,
            "totalAmount": float(pack.get("price") or 100.0), "currency": pack.get("currency") or "USD",
            "refundStatus": "notRequested"}


def refund_body(enrollment_id: str, reason: str) -> dict[str, Any]:
    """A createRefundRequest body the spec accepts (the server owns status, dates and the lesson flag)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"enrollmentId": enrollment_id, "requestedAt": now, "status": "pending", "reason": reason,
            "firstLessonCompleted": False}


def enroll(ctx: ScenarioContext, student: str, slots: int = 1, rule: str | None = None) -> dict[str, Any]:
    """Book a pack's free slots as `student`; cancelled again (by an admin) after the scenario."""
    pack, slot_ids = bookable(ctx, slots)
    api = ctx.api(student)
    reply = api.call("createEnrollment", body=enrollment_body(pack, slot_ids))
    if rule is not None:
        ctx.expect(rule, reply.status == 201 and isinstance(reply.data, dict),
                   f"{reply.describe()}; a student booking free slots expects 201", operation="createEnrollment")
    elif not (reply.status == 201 and isinstance(reply.data, dict)):
        ctx.skip(f"could not book an enrollment as {student}: {reply.describe()}")
    record = dict(reply.data)
    cancel_later(ctx, record["id"])
    return record


def cancel_later(ctx: ScenarioContext, enrollment_id: str) -> None:
    """Cancel an enrollment after the scenario (frees its slots; refunds it when paid)."""
    admin = ctx.target.identity("admin")
    if admin is None or not admin.token:
        return
    api = ctx.api("admin")
    ctx.cleanup(lambda: api.call("cancelEnrollment", path={"enrollmentId": enrollment_id},
                                 body={"cancelReason": "conformance suite clean-up"}, judge_answer=False))


def enrollment_state(api: Api, enrollment_id: str) -> dict[str, Any] | None:
    """The full record of an enrollment the caller may list (getEnrollment answers a select list)."""
    rows, reply = list_all(api, api.spec.op("listEnrollments"))
    return next((r for r in rows if r.get("id") == enrollment_id), None) if reply.ok else None


def pay(ctx: ScenarioContext, api: Api, enrollment_id: str, method: str = VISA) -> Reply:
    return start_payment(api, payment_apis(ctx, "enrollment")["start"], enrollment_id, method)


def wait_paid(ctx: ScenarioContext, api: Api, enrollment_id: str) -> dict[str, Any] | None:
    """Wait for the webhook to mark the enrollment paid (nudging with refresh after a while)."""
    return wait_until_paid(ctx, api, payment_apis(ctx, "enrollment").get("refresh"), enrollment_id,
                           lambda: enrollment_state(api, enrollment_id))


def paid_enrollment(ctx: ScenarioContext, student: str, slots: int) -> dict[str, Any]:
    """A booked and paid enrollment (skips the scenario when the target cannot get one paid)."""
    record = enroll(ctx, student, slots)
    api = ctx.api(student)
    reply = pay(ctx, api, record["id"])
    ctx.require(reply.ok, f"could not start paying an enrollment: {reply.describe()}")
    state = wait_paid(ctx, api, record["id"])
    ctx.require(state is not None and state.get("paymentStatus") == "paid",
                f"the enrollment did not become paid within {ctx.settings.payment_wait}s (see tutorhub.payment)")
    return state or record


# -- payment -------------------------------------------------------------------------------------
@scenario("tutorhub.payment", projects=PROJECT,
          rules=("start-payment-accepted", "payment-flips-order-paid", "payment-record-written", "declined-card-not-paid",
                 "forged-webhook-refused"),
          title="paying with a card flips the enrollment to paid/active; a declined card or a forged webhook does not")
def payment(ctx: ScenarioContext) -> None:
    """Stripe payment of an enrollment: success, decline and a forged webhook."""
    apis = payment_apis(ctx, "enrollment")
    ctx.require({"start", "callback"} <= set(apis), "the spec has no enrollment payment flow")
    api = ctx.api("student")
    record = enroll(ctx, "student", 1)
    reply = pay(ctx, api, record["id"])
    result = (reply.json or {}).get("paymentResult") if isinstance(reply.json, dict) else None
    ctx.expect("start-payment-accepted", reply.status == 200 and isinstance(result, dict),
               f"{reply.describe()}; expected 200 with paymentResult", operation=apis["start"])
    state = wait_paid(ctx, api, record["id"])
    ctx.expect("payment-flips-order-paid",
               state is not None and state.get("paymentStatus") == "paid" and state.get("enrollmentStatus") == "active",
               f"after a successful card payment the enrollment is {_statuses(enrollment_state(api, record['id']))}; "
               "expected paymentConfirmation paid, paymentStatus paid, enrollmentStatus active", operation=apis["start"], fatal=False)
    ticket = api.call("getEnrollmentPaymentByOrderId", path={"orderId": record["id"]})
    data = ticket.data if isinstance(ticket.data, dict) else {}
    ctx.expect("payment-record-written", ticket.status == 200 and data.get("orderId") == record["id"] and bool(data.get("paymentId")),
               f"{ticket.describe()}; expected the payment record of order {record['id']}", operation="getEnrollmentPaymentByOrderId",
               fatal=False)
    declined = enroll(ctx, "student", 1)
    reply = pay(ctx, api, declined["id"], DECLINED)
    if apis.get("refresh"):
        refresh_payment(api, apis["refresh"], declined["id"])
    state = enrollment_state(api, declined["id"]) or {}
    ctx.expect("declined-card-not-paid", reply.status in (200, 400, 402) and state.get("paymentConfirmation") != "paid"
               and state.get("paymentStatus") != "paid",
               f"{reply.describe()}; after a declined card the enrollment is {_statuses(state)}", operation=apis["start"], fatal=False)
    forged = forged_webhook(api, apis["callback"], declined["id"], order_param(ctx, apis["callback"], "enrollment"))
    state = enrollment_state(api, declined["id"]) or {}
    ctx.expect("forged-webhook-refused", 400 <= forged.status < 500 and state.get("paymentConfirmation") != "paid",
               f"{forged.describe()}; a webhook with a bad Stripe-Signature must be refused (4xx) and change nothing; "
               f"the enrollment is now {_statuses(state)}", operation=apis["callback"], fatal=False)


def _statuses(state: dict[str, Any] | None) -> str:
    if not state:
        return "not listed"
    keys = ("paymentConfirmation", "paymentStatus", "enrollmentStatus", "refundStatus")
    return ", ".join(f"{k}={state.get(k)}" for k in keys if k in state)


# -- slots ----------------------------------------------------------------------------------------
@scenario("tutorhub.slot-double-booking", projects=PROJECT, rules=("booked-slot-refused", "freed-slot-bookable"),
          title="a booked lesson slot cannot be booked again; once freed it can")
def slot_double_booking(ctx: ScenarioContext) -> None:
    """Two students, one slot."""
    first = enroll(ctx, "student", 1)
    slot = first["lessonSlotIds"][0]
    other = "student2" if ctx.target.identity("student2") else "student"
    pack = {"id": first["coursePackId"], "tutorProfileId": first["tutorProfileId"], "price": first.get("totalAmount"),
            "currency": first.get("currency")}
    api = ctx.api(other)
    reply = api.call("createEnrollment", body=enrollment_body(pack, [slot]))
    if reply.ok and isinstance(reply.data, dict):
        cancel_later(ctx, reply.data["id"])
    ctx.expect("booked-slot-refused", 400 <= reply.status < 500,
               f"{reply.describe()}; booking slot {slot}, already booked by enrollment {first['id']}, must be refused",
               operation="createEnrollment")
    if ctx.target.identity("admin") is None:
        ctx.skip_rule("freed-slot-bookable", "no admin identity to cancel the first booking")
        return
    cancel = ctx.api("admin").call("cancelEnrollment", path={"enrollmentId": first["id"]}, body={"cancelReason": "suite"})
    ctx.require(cancel.ok, f"could not cancel the first booking: {cancel.describe()}")
    again = api.call("createEnrollment", body=enrollment_body(pack, [slot]))
    if again.ok and isinstance(again.data, dict):
        cancel_later(ctx, again.data["id"])
    ctx.expect("freed-slot-bookable", again.status == 201,
               f"{again.describe()}; the slot was freed by cancelling {first['id']}", operation="createEnrollment")


# -- refunds --------------------------------------------------------------------------------------
@scenario("tutorhub.refund-window", projects=PROJECT,
          rules=("refund-refused-before-first-lesson", "refund-auto-approved-after-first-lesson", "refund-processed-on-enrollment",
                 "refund-only-once"),
          title="a refund is refused before the first lesson, auto-approved once after it, and never twice")
def refund_window(ctx: ScenarioContext) -> None:
    """The refund window: after the first lesson only, auto-approved, once."""
    ctx.require("completeLessonSlot" in ctx.target.hooks,
                "no hook completeLessonSlot: this target offers no way to mark a lesson completed")
    record = paid_enrollment(ctx, "student", 2)
    api = ctx.api("student")
    body = refund_body(record["id"], "the course is not for me")
    early = api.call("createRefundRequest", body=body)
    ctx.expect("refund-refused-before-first-lesson", 400 <= early.status < 500,
               f"{early.describe()}; no lesson is completed yet, the refund must be refused", operation="createRefundRequest")
    first_slot = record["lessonSlotIds"][0]
    ctx.target.hooks["completeLessonSlot"].call(ctx.session, id=first_slot)
    if "setLessonSlotStatus" in ctx.target.hooks:
        hook = ctx.target.hooks["setLessonSlotStatus"]
        ctx.cleanup(lambda: hook.call(ctx.session, id=first_slot, status="available"))
    reply = api.call("createRefundRequest", body=body)
    data = reply.data if isinstance(reply.data, dict) else {}
    ctx.expect("refund-auto-approved-after-first-lesson",
               reply.status == 201 and data.get("status") == "autoApproved" and data.get("firstLessonCompleted") is True,
               f"{reply.describe()}; after the first lesson the refund is auto-approved (status autoApproved, "
               f"firstLessonCompleted true), got status={data.get('status')!r}, firstLessonCompleted={data.get('firstLessonCompleted')!r}",
               operation="createRefundRequest")
    state = enrollment_state(api, record["id"]) or {}
    ctx.expect("refund-processed-on-enrollment",
               state.get("paymentStatus") == "refunded" and state.get("refundStatus") == "processed",
               f"after the refund the enrollment is {_statuses(state)}; expected paymentStatus refunded, refundStatus processed",
               operation="createRefundRequest", fatal=False)
    again = api.call("createRefundRequest", body=body)
    ctx.expect("refund-only-once", 400 <= again.status < 500,
               f"{again.describe()}; the enrollment is already refunded, a second refund must be refused",
               operation="createRefundRequest", fatal=False)
    if ctx.target.identity("admin") is not None:
        admin = ctx.api("admin").call("adminRefundEnrollment", body={"enrollmentId": record["id"], "reason": "again"})
        ctx.expect("refund-only-once", 400 <= admin.status < 500,
                   f"{admin.describe()}; an admin refund of an already refunded enrollment must be refused",
                   operation="adminRefundEnrollment", fatal=False)


# -- who sees what --------------------------------------------------------------------------------
@scenario("tutorhub.visibility", projects=PROJECT,
          rules=("student-sees-own", "other-student-cannot-read", "other-student-list-excludes", "admin-sees-all",
                 "owning-tutor-sees-it", "other-tutor-list-excludes"),
          title="students see their own enrollments, tutors those of their profiles, admins all")
def visibility(ctx: ScenarioContext) -> None:
    """Who may read an enrollment."""
    record = enroll(ctx, "student", 1)
    rid = record["id"]
    own = ctx.api("student").call("getEnrollment", path={"enrollmentId": rid})
    ctx.expect("student-sees-own", own.status == 200, f"{own.describe()}; the student reads their own enrollment",
               operation="getEnrollment", fatal=False)
    if ctx.target.identity("student2"):
        other = ctx.api("student2")
        reply = other.call("getEnrollment", path={"enrollmentId": rid})
        ctx.expect("other-student-cannot-read", reply.status in (403, 404),
                   f"{reply.describe()}; another student must not read enrollment {rid}", operation="getEnrollment", fatal=False)
        rows, first = list_all(other, ctx.spec.op("listEnrollments"))
        ctx.expect("other-student-list-excludes", first.ok and all(r.get("id") != rid for r in rows),
                   f"{first.describe()}; another student's list shows enrollment {rid}", operation="listEnrollments", fatal=False)
    else:
        for rule in ("other-student-cannot-read", "other-student-list-excludes"):
            ctx.skip_rule(rule, "no second student identity (student2)")
    if ctx.target.identity("admin"):
        reply = ctx.api("admin").call("getEnrollment", path={"enrollmentId": rid})
        ctx.expect("admin-sees-all", reply.status == 200, f"{reply.describe()}; admins see every enrollment",
                   operation="getEnrollment", fatal=False)
    else:
        ctx.skip_rule("admin-sees-all", "no admin identity")
    tutor_id = ((own.data or {}).get("tutorProfile") or {}).get("tutorId") if isinstance(own.data, dict) else None
    tutors = ctx.target.by_role("tutor")
    for tutor in tutors:  # learn unknown user ids from the envelope
        if tutor.user_id is None and tutor.token:
            ctx.api(tutor.name).call("listEnrollments", query={"pageRowCount": 1})
    owner = next((t for t in tutors if tutor_id and t.user_id == tutor_id), None)
    strangers = [t for t in tutors if t is not owner and t.user_id != tutor_id]
    if owner is not None:
        rows, first = list_all(ctx.api(owner.name), ctx.spec.op("listEnrollments"))
        ctx.expect("owning-tutor-sees-it", first.ok and any(r.get("id") == rid for r in rows),
                   f"{first.describe()}; the tutor of the pack does not see enrollment {rid}", operation="listEnrollments", fatal=False)
    else:
        ctx.skip_rule("owning-tutor-sees-it", "no tutor identity owns the booked pack's tutor profile")
    if strangers:
        api = ctx.api(strangers[0].name)
        rows, first = list_all(api, ctx.spec.op("listEnrollments"))
        reply = api.call("getEnrollment", path={"enrollmentId": rid})
        ctx.expect("other-tutor-list-excludes", first.ok and all(r.get("id") != rid for r in rows) and reply.status in (403, 404),
                   f"{first.describe()} / {reply.describe()}; a tutor of another profile sees enrollment {rid}",
                   operation="listEnrollments", fatal=False)
    else:
        ctx.skip_rule("other-tutor-list-excludes", "no tutor identity of another tutor profile")


# -- roles ----------------------------------------------------------------------------------------
def _role_rules(target: Any) -> list[str]:
    return [f"admin-only[{api}]" for api in ADMIN_ONLY if api in target.spec.operations] + \
        ["students-only[createEnrollment]", "own-refund-only[createRefundRequest]"]


@scenario("tutorhub.roles", projects=PROJECT, rules=_role_rules,
          title="admin-only operations answer 403 to students and tutors; only students book and request refunds")
def roles(ctx: ScenarioContext) -> None:
    """The guide's role rules, each with a request that would succeed for the right role."""
    callers = [n for n in ("student", "tutor") if ctx.target.identity(n)]
    ctx.require(callers, "no student or tutor identity")
    record = enroll(ctx, "student", 1) if ctx.target.identity("student") else None
    rid = record["id"] if record else str(uuid.uuid4())
    requests_ = {
        "cancelEnrollment": ({"enrollmentId": rid}, {"cancelReason": "role check"}),
        "adminRefundEnrollment": ({}, {"enrollmentId": rid, "reason": "role check"}),
        "cascadeTutorBan": ({}, {"tutorProfileId": str(uuid.uuid4()), "reason": "role check"}),
        "cascadeCourseRemoval": ({}, {"coursePackId": str(uuid.uuid4()), "reason": "role check"}),
        "updateRefundRequest": ({"refundRequestId": str(uuid.uuid4())}, {"status": "approved", "adminNote": "role check"}),
    }
    for api_name in ADMIN_ONLY:
        if api_name not in ctx.spec.operations:
            continue
        path, body = requests_[api_name]
        for caller in callers:
            reply = ctx.api(caller).call(api_name, path=path, body=body)
            ctx.expect(f"admin-only[{api_name}]", reply.status == 403, f"{reply.describe()} as {caller}; admin-only, expected 403",
                       operation=api_name, fatal=False)
    if ctx.target.identity("tutor"):
        try:
            pack, slots = bookable(ctx, 1)
        except Skip as error:
            ctx.skip_rule("students-only[createEnrollment]", str(error))
        else:
            reply = ctx.api("tutor").call("createEnrollment", body=enrollment_body(pack, slots))
            if reply.ok and isinstance(reply.data, dict):
                cancel_later(ctx, reply.data["id"])
            ctx.expect("students-only[createEnrollment]", reply.status == 403,
                       f"{reply.describe()} as tutor; only students enroll", operation="createEnrollment", fatal=False)
    else:
        ctx.skip_rule("students-only[createEnrollment]", "no tutor identity")
    if record and ctx.target.identity("student2"):
        reply = ctx.api("student2").call("createRefundRequest", body=refund_body(rid, "not mine"))
        ctx.expect("own-refund-only[createRefundRequest]", reply.status in (403, 404),
                   f"{reply.describe()} as another student; only the enrollment's student may request its refund",
                   operation="createRefundRequest", fatal=False)
    else:
        ctx.skip_rule("own-refund-only[createRefundRequest]", "needs student and student2 identities")
