"""tutorhub · enrollmentManagement, through HTTP: booking, paying, the refund window, admin actions.

Each test walks one behaviour of `mockserver/workflows/tutorhub.py` end to end with persona tokens;
payments go through the twin's fake Stripe and its webhooks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from twin_testing import TUTORHUB, Twin

BASE = "/enrollmentmanagement-api/v1"
PROJECT = "tutorhub"
ADMIN = (PROJECT, "admin")
TUTOR1, TUTOR2 = (PROJECT, "tutor1"), (PROJECT, "tutor2")
STUDENT1, STUDENT2, STUDENT3 = (PROJECT, "student1"), (PROJECT, "student2"), (PROJECT, "student3")


# -- the shop: fixtures, bookings, payments ------------------------------------------------------
@dataclass
class Shop:
    """A running twin plus its tutorhub fixtures, with the steps the tests repeat."""

    twin: Twin
    profiles: dict[str, dict[str, Any]]  # tutor persona name → tutor profile
    packs: dict[str, list[dict[str, Any]]]  # tutor persona name → course packs
    slots: dict[str, list[dict[str, Any]]]  # course pack id → lesson slots, earliest first

    def user(self, persona: tuple[str, str]) -> str:
        return self.twin.persona(*persona)["userId"]

    def pack(self, tutor: str = "tutor1", number: int = 0) -> dict[str, Any]:
        return self.packs[tutor][number]

    def pack_slots(self, pack: dict[str, Any], *positions: int) -> list[dict[str, Any]]:
        return [self.slots[pack["id"]][p] for p in positions]

    async def call(self, method: str, path: str, as_: tuple[str, str] | None = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """Call the service, then let the fake Stripe deliver the webhooks the call caused."""
        answer = await self.twin.call(method, BASE + path, as_=as_, **kwargs)
        await self.twin.stripe.drain()
        return answer

    async def enroll_answer(self, student: tuple[str, str] = STUDENT1, tutor: str = "tutor1", number: int = 0,
                            positions: tuple[int, ...] = (0, 1, 2), **overrides: Any) -> tuple[int, dict[str, Any]]:
        pack = self.pack(tutor, number)
        body = {"coursePackId": pack["id"], "tutorProfileId": pack["tutorProfileId"],
                "lessonSlotIds": [s["id"] for s in self.pack_slots(pack, *positions)], "totalAmount": pack["price"],
                "currency": "USD", "refundStatus": "notRequested", **overrides}
        return await self.call("POST", "/enrollments", student, json=body)

    async def enroll(self, student: tuple[str, str] = STUDENT1, tutor: str = "tutor1", number: int = 0,
                     positions: tuple[int, ...] = (0, 1, 2)) -> dict[str, Any]:
        status, body = await self.enroll_answer(student, tutor, number, positions)
        assert status == 201, body
        return body["enrollment"]

    async def enrollment(self, enrollment_id: str) -> dict[str, Any]:
        """The stored enrollment (getEnrollment answers a select list; the admin's list has it all)."""
        status, body = await self.call("GET", "/enrollments", ADMIN)
        assert status == 200, body
        return next(e for e in body["enrollments"] if e["id"] == enrollment_id)

    async def refund_requests(self) -> list[dict[str, Any]]:
        """Every stored refund request (the list API answers a select list without ids)."""
        _, state = await self.twin.call("GET", "/__twin/state")
        return state["services"]["tutorhub-enrollmentmanagement"]["objects"]["refundRequest"]

    async def start_payment(self, enrollment: dict[str, Any], student: tuple[str, str] = STUDENT1,
                            card: str = "pm_card_visa") -> tuple[int, dict[str, Any]]:
        return await self.call("PATCH", f"/startenrollmentpayment/{enrollment['id']}", student,
                               json={"paymentUserParams": {"paymentMethodId": card}})

    async def pay(self, enrollment: dict[str, Any], student: tuple[str, str] = STUDENT1) -> dict[str, Any]:
        status, body = await self.start_payment(enrollment, student)
        assert status == 200 and body["paymentResult"]["success"] is True, body
        return await self.enrollment(enrollment["id"])

    async def enroll_and_pay(self, student: tuple[str, str] = STUDENT1, tutor: str = "tutor1", number: int = 0,
                             positions: tuple[int, ...] = (0, 1, 2)) -> dict[str, Any]:
        return await self.pay(await self.enroll(student, tutor, number, positions), student)

    async def slot(self, slot_id: str) -> dict[str, Any]:
        _, body = await self.twin.call("GET", f"/__twin/fixtures/{PROJECT}/lessonSlot")
        return next(s for s in body["records"] if s["id"] == slot_id)

    async def slot_statuses(self, enrollment: dict[str, Any]) -> list[str]:
        return [(await self.slot(i))["status"] for i in enrollment["lessonSlotIds"]]

    async def complete_lesson(self, slot_id: str) -> None:
        status, body = await self.twin.call("PATCH", f"/__twin/fixtures/{PROJECT}/lessonSlot/{slot_id}",
                                            json={"status": "completed"})
        assert status == 200, body

    async def request_refund(self, enrollment: dict[str, Any], student: tuple[str, str] = STUDENT1) -> tuple[int, dict[str, Any]]:
        body = {"enrollmentId": enrollment["id"], "requestedAt": "2020-01-01T00:00:00.000Z", "status": "pending",
                "reason": "the course is not for me", "firstLessonCompleted": False}
        return await self.call("POST", "/refundrequests", student, json=body)

    async def refunds_at_stripe(self, enrollment: dict[str, Any]) -> list[dict[str, Any]]:
        """The refunds the fake Stripe holds for the enrollment's payment intent."""
        status, body = await self.call("GET", f"/enrollmentpaymentbyorderid/{enrollment['id']}", ADMIN)
        assert status == 200, body
        intent = body["sys_enrollmentPayment"]["paymentId"]
        return self.twin.stripe.list_refunds(payment_intent=intent)


async def open_shop(make_twin: Any, **options: Any) -> Shop:
    twin = await make_twin(TUTORHUB, **options)

    async def records(name: str) -> list[dict[str, Any]]:
        _, body = await twin.call("GET", f"/__twin/fixtures/{PROJECT}/{name}")
        return body["records"]

    profiles, packs, slots = await records("tutorProfile"), await records("coursePack"), await records("lessonSlot")
    by_tutor = {twin.persona(PROJECT, name)["userId"]: name for name in ("tutor1", "tutor2")}
    shop = Shop(twin, {}, {}, {})
    for profile in profiles:
        tutor = by_tutor[profile["tutorId"]]
        shop.profiles[tutor] = profile
        shop.packs[tutor] = [p for p in packs if p["tutorProfileId"] == profile["id"]]
    for pack in packs:
        shop.slots[pack["id"]] = sorted((s for s in slots if s["coursePackId"] == pack["id"]),
                                        key=lambda s: (s["scheduledDate"], s["scheduledTime"]))
    return shop


@pytest.fixture
async def shop(make_twin: Any) -> Shop:
    return await open_shop(make_twin)


# -- booking -------------------------------------------------------------------------------------
async def test_a_student_books_slots_and_the_enrollment_starts_pending(shop: Shop):
    pack = shop.pack()
    enrollment = await shop.enroll(positions=(0, 1))
    assert enrollment["studentId"] == shop.user(STUDENT1)
    assert (enrollment["enrollmentStatus"], enrollment["paymentStatus"], enrollment["paymentConfirmation"],
            enrollment["refundStatus"]) == ("pending", "pending", "pending", "notRequested")
    assert enrollment["enrolledAt"] is None
    assert enrollment["lessonSlotIds"] == [s["id"] for s in shop.pack_slots(pack, 0, 1)]
    assert await shop.slot_statuses(enrollment) == ["booked", "booked"]
    assert (await shop.slot(shop.pack_slots(pack, 2)[0]["id"]))["status"] == "available"


async def test_the_workflow_sets_statuses_and_the_price_whatever_the_body_says(shop: Shop):
    status, body = await shop.enroll_answer(refundStatus="processed", enrolledAt="2020-01-01T00:00:00Z",
                                            totalAmount=1.0, currency="eur")
    enrollment = body["enrollment"]
    assert status == 201
    assert enrollment["refundStatus"] == "notRequested" and enrollment["enrolledAt"] is None
    assert enrollment["totalAmount"] == shop.pack()["price"] and enrollment["currency"] == "USD"


@pytest.mark.parametrize("persona", [ADMIN, TUTOR1])
async def test_only_students_may_enroll(shop: Shop, persona: tuple[str, str]):
    status, body = await shop.enroll_answer(student=persona)
    assert status == 403 and body["message"] == "errMsg_roleNotAllowed"


async def test_a_booked_slot_cannot_be_booked_again(shop: Shop):
    await shop.enroll(STUDENT1, positions=(0,))
    status, body = await shop.enroll_answer(STUDENT2, positions=(0,))
    assert status == 400 and body["message"] == "errMsg_lessonSlotNotAvailable"
    _, listed = await shop.call("GET", "/enrollments", STUDENT2)
    assert listed["enrollments"] == []


async def test_a_refused_booking_books_none_of_its_slots(shop: Shop):
    await shop.enroll(STUDENT1, positions=(1,))
    status, _ = await shop.enroll_answer(STUDENT2, positions=(0, 1))
    assert status == 400
    assert (await shop.slot(shop.pack_slots(shop.pack(), 0)[0]["id"]))["status"] == "available"


async def test_the_slot_double_booking_mutant_books_a_booked_slot_again(make_twin: Any):
    shop = await open_shop(make_twin, active_mutants=["slot-double-booking"])
    await shop.enroll(STUDENT1, positions=(0,))
    status, _ = await shop.enroll_answer(STUDENT2, positions=(0,))
    assert status == 201


async def test_a_slot_of_another_pack_is_refused(shop: Shop):
    other = shop.pack_slots(shop.pack("tutor1", 1), 0)[0]
    status, body = await shop.enroll_answer(lessonSlotIds=[other["id"]])
    assert status == 400 and body["message"] == "errMsg_lessonSlotNotInCoursePack"


@pytest.mark.parametrize(("slots", "code", "message"), [
    ("unknown", 404, "errMsg_lessonSlotNotFound"),
    ("twice", 400, "errMsg_lessonSlotIdsHasDuplicates"),
    ("none", 400, "errMsg_lessonSlotIdsisRequired"),
])
async def test_the_slot_list_must_name_existing_distinct_slots(shop: Shop, slots: str, code: int, message: str):
    first = shop.pack_slots(shop.pack(), 0)[0]["id"]
    ids = {"unknown": [str(uuid.uuid4())], "twice": [first, first], "none": []}[slots]
    status, body = await shop.enroll_answer(lessonSlotIds=ids)
    assert status == code and body["message"] == message


async def test_an_unknown_course_pack_is_not_found(shop: Shop):
    status, body = await shop.enroll_answer(coursePackId=str(uuid.uuid4()))
    assert status == 404 and body["message"] == "errMsg_coursePackNotFound"


async def test_the_tutor_profile_must_be_the_course_packs(shop: Shop):
    status, body = await shop.enroll_answer(tutorProfileId=shop.profiles["tutor2"]["id"])
    assert status == 400 and body["message"] == "errMsg_tutorProfileIdDoesNotMatchCoursePack"


async def test_a_removed_course_pack_takes_no_enrollments(shop: Shop):
    await shop.twin.call("PATCH", f"/__twin/fixtures/{PROJECT}/coursePack/{shop.pack()['id']}", json={"isActive": False})
    status, body = await shop.enroll_answer()
    assert status == 400 and body["message"] == "errMsg_coursePackIsNotActive"


async def test_the_currency_must_be_a_three_letter_code(shop: Shop):
    status, body = await shop.enroll_answer(currency="dollars")
    assert status == 400 and body["message"] == "errMsg_currencyIsNotAValidCurrencyCode"


# -- who sees what -------------------------------------------------------------------------------
async def test_students_see_only_their_own_enrollments(shop: Shop):
    mine = await shop.enroll(STUDENT1)
    _, own = await shop.call("GET", "/enrollments", STUDENT1)
    _, other = await shop.call("GET", "/enrollments", STUDENT2)
    status, body = await shop.call("GET", f"/enrollments/{mine['id']}", STUDENT2)
    assert [e["id"] for e in own["enrollments"]] == [mine["id"]] and other["enrollments"] == []
    assert status == 403 and body["message"] == "errMsg_accessDenied"


async def test_tutors_see_the_enrollments_of_their_own_profiles(shop: Shop):
    mine = await shop.enroll(STUDENT1, tutor="tutor1")
    _, tutor1 = await shop.call("GET", "/enrollments", TUTOR1)
    _, tutor2 = await shop.call("GET", "/enrollments", TUTOR2)
    assert [e["id"] for e in tutor1["enrollments"]] == [mine["id"]] and tutor2["enrollments"] == []
    assert (await shop.call("GET", f"/enrollments/{mine['id']}", TUTOR1))[0] == 200
    assert (await shop.call("GET", f"/enrollments/{mine['id']}", TUTOR2))[0] == 403


async def test_admins_see_every_enrollment(shop: Shop):
    first, second = await shop.enroll(STUDENT1, tutor="tutor1"), await shop.enroll(STUDENT2, tutor="tutor2")
    _, body = await shop.call("GET", "/enrollments", ADMIN)
    assert [e["id"] for e in body["enrollments"]] == [first["id"], second["id"]]


# -- paying --------------------------------------------------------------------------------------
async def test_a_successful_payment_activates_the_enrollment(shop: Shop):
    enrollment = await shop.enroll()
    status, body = await shop.start_payment(enrollment)
    assert status == 200 and body["paymentResult"]["amount"] == shop.pack()["price"]
    paid = await shop.enrollment(enrollment["id"])
    assert (paid["enrollmentStatus"], paid["paymentStatus"], paid["paymentConfirmation"]) == ("active", "paid", "paid")
    assert paid["enrolledAt"] is not None
    assert await shop.slot_statuses(paid) == ["booked"] * 3


async def test_every_stripe_event_is_acknowledged_even_those_about_no_enrollment(shop: Shop):
    await shop.enroll_and_pay()
    deliveries = shop.twin.stripe.deliveries()
    assert {"customer.created", "payment_method.attached", "payment_intent.succeeded"} <= {d["event_type"] for d in deliveries}
    assert {d["state"] for d in deliveries} == {"succeeded"}


async def test_a_declined_card_leaves_the_enrollment_pending(shop: Shop):
    enrollment = await shop.enroll()
    status, body = await shop.start_payment(enrollment, card="pm_card_chargeDeclined")
    assert status == 200 and body["paymentResult"]["success"] is False
    after = await shop.enrollment(enrollment["id"])
    assert (after["enrollmentStatus"], after["paymentStatus"], after["paymentConfirmation"]) == ("pending", "pending", "pending")


@pytest.mark.parametrize(("persona", "message"), [(TUTOR1, "errMsg_roleNotAllowed"), (STUDENT2, "errMsg_accessDenied")])
async def test_only_the_enrollments_student_pays_for_it(shop: Shop, persona: tuple[str, str], message: str):
    enrollment = await shop.enroll(STUDENT1)
    status, body = await shop.start_payment(enrollment, persona)
    assert status == 403 and body["message"] == message


async def test_payment_records_are_their_owners_and_the_admins(shop: Shop):
    await shop.enroll_and_pay(STUDENT1)
    _, own = await shop.call("GET", "/enrollmentpayments", STUDENT1)
    _, other = await shop.call("GET", "/enrollmentpayments", STUDENT2)
    _, admin = await shop.call("GET", "/enrollmentpayments", ADMIN)
    assert len(own["sys_enrollmentPayments"]) == 1 and other["sys_enrollmentPayments"] == []
    assert admin["sys_enrollmentPayments"] == own["sys_enrollmentPayments"]
    record = own["sys_enrollmentPayments"][0]
    assert (await shop.call("GET", f"/enrollmentpayment/{record['id']}", STUDENT2))[0] == 403


async def test_students_cannot_write_payment_records(shop: Shop):
    body = {"orderId": str(uuid.uuid4()), "paymentId": "pi_forged", "paymentStatus": "succeeded", "statusLiteral": "paid"}
    status, answer = await shop.call("POST", "/enrollmentpayment", STUDENT1, json=body)
    assert status == 403 and answer["message"] == "errMsg_roleNotAllowed"


async def test_a_user_lists_only_their_own_saved_cards(shop: Shop):
    await shop.enroll_and_pay(STUDENT1)
    status, own = await shop.call("GET", f"/paymentcustomermethods/{shop.user(STUDENT1)}", STUDENT1)
    assert status == 200 and len(own["sys_paymentMethods"]) == 1
    status, _ = await shop.call("GET", f"/paymentcustomermethods/{shop.user(STUDENT1)}", STUDENT2)
    assert status == 403


async def test_a_refund_made_at_stripe_cancels_the_enrollment_and_frees_its_slots(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    _, body = await shop.call("GET", f"/enrollmentpaymentbyorderid/{enrollment['id']}", ADMIN)
    shop.twin.stripe.create_refund(payment_intent=body["sys_enrollmentPayment"]["paymentId"])
    await shop.twin.stripe.drain()
    after = await shop.enrollment(enrollment["id"])
    assert (after["enrollmentStatus"], after["paymentStatus"], after["refundStatus"]) == ("canceled", "refunded", "processed")
    assert await shop.slot_statuses(after) == ["available"] * 3


# -- the student's refund ------------------------------------------------------------------------
async def test_a_refund_before_the_first_lesson_is_refused(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    status, body = await shop.request_refund(enrollment)
    assert status == 400 and body["message"] == "errMsg_firstLessonNotCompleted"
    assert (await shop.enrollment(enrollment["id"]))["paymentStatus"] == "paid"


async def test_a_refund_after_the_first_lesson_is_auto_approved_and_paid_back(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    first = enrollment["lessonSlotIds"][0]
    await shop.complete_lesson(first)
    status, body = await shop.request_refund(enrollment)
    request = body["refundRequest"]
    assert status == 201
    assert (request["status"], request["firstLessonCompleted"], request["requestedBy"]) == \
        ("autoApproved", True, shop.user(STUDENT1))
    assert request["processedAt"] is not None and request["requestedAt"] != "2020-01-01T00:00:00.000Z"
    after = await shop.enrollment(enrollment["id"])
    assert (after["enrollmentStatus"], after["paymentStatus"], after["refundStatus"]) == ("canceled", "refunded", "processed")
    assert await shop.slot_statuses(after) == ["completed", "available", "available"]
    refunds = await shop.refunds_at_stripe(enrollment)
    assert [r["amount"] for r in refunds] == [round(enrollment["totalAmount"] * 100)]


async def test_the_first_lesson_is_the_earliest_scheduled_one_not_the_first_listed(shop: Shop):
    enrollment = await shop.enroll_and_pay(positions=(2, 1, 0))
    await shop.complete_lesson(enrollment["lessonSlotIds"][0])  # listed first, scheduled last
    status, body = await shop.request_refund(enrollment)
    assert status == 400 and body["message"] == "errMsg_firstLessonNotCompleted"


async def test_the_refund_window_closes_when_a_later_lesson_is_completed(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    for slot_id in enrollment["lessonSlotIds"][:2]:
        await shop.complete_lesson(slot_id)
    status, body = await shop.request_refund(enrollment)
    assert status == 400 and body["message"] == "errMsg_refundWindowClosed"


async def test_an_enrollment_is_refunded_only_once(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    await shop.complete_lesson(enrollment["lessonSlotIds"][0])
    assert (await shop.request_refund(enrollment))[0] == 201
    status, body = await shop.request_refund(enrollment)
    assert status == 400 and body["message"] == "errMsg_refundAlreadyRequested"
    assert len(await shop.refunds_at_stripe(enrollment)) == 1


async def test_an_unpaid_enrollment_cannot_be_refunded(shop: Shop):
    enrollment = await shop.enroll()
    await shop.complete_lesson(enrollment["lessonSlotIds"][0])
    status, body = await shop.request_refund(enrollment)
    assert status == 400 and body["message"] == "errMsg_enrollmentIsNotPaid"


async def test_only_the_enrollments_student_may_request_its_refund(shop: Shop):
    enrollment = await shop.enroll_and_pay(STUDENT1)
    await shop.complete_lesson(enrollment["lessonSlotIds"][0])
    assert (await shop.request_refund(enrollment, STUDENT2))[0] == 403
    for persona in (TUTOR1, ADMIN):
        status, body = await shop.request_refund(enrollment, persona)
        assert status == 403 and body["message"] == "errMsg_roleNotAllowed"


async def test_the_refund_before_first_lesson_mutant_refunds_too_early(make_twin: Any):
    shop = await open_shop(make_twin, active_mutants=["refund-before-first-lesson"])
    enrollment = await shop.enroll_and_pay()
    status, body = await shop.request_refund(enrollment)
    assert status == 201 and body["refundRequest"]["firstLessonCompleted"] is False


async def test_the_refund_twice_mutant_accepts_a_second_refund(make_twin: Any):
    shop = await open_shop(make_twin, active_mutants=["refund-twice"])
    enrollment = await shop.enroll_and_pay()
    await shop.complete_lesson(enrollment["lessonSlotIds"][0])
    assert (await shop.request_refund(enrollment))[0] == 201
    assert (await shop.request_refund(enrollment))[0] == 201


async def test_refund_requests_are_seen_by_their_student_the_courses_tutor_and_admins(shop: Shop):
    enrollment = await shop.enroll_and_pay(STUDENT1, tutor="tutor1")
    await shop.complete_lesson(enrollment["lessonSlotIds"][0])
    request = (await shop.request_refund(enrollment))[1]["refundRequest"]
    for persona, seen in ((STUDENT1, True), (TUTOR1, True), (ADMIN, True), (STUDENT2, False), (TUTOR2, False)):
        _, listed = await shop.call("GET", "/refundrequests", persona)
        status, _ = await shop.call("GET", f"/refundrequests/{request['id']}", persona)
        assert len(listed["refundRequests"]) == (1 if seen else 0), persona
        assert status == (200 if seen else 403), persona


# -- admin actions -------------------------------------------------------------------------------
ADMIN_CALLS = [
    ("PATCH", "/cancelenrollment/{id}", {"cancelReason": "tutor banned"}),
    ("POST", "/adminrefundenrollment", {"enrollmentId": "{id}", "reason": "goodwill"}),
    ("POST", "/cascadetutorban", {"tutorProfileId": "{profile}", "reason": "banned"}),
    ("POST", "/cascadecourseremoval", {"coursePackId": "{pack}", "reason": "removed"}),
    ("PATCH", "/refundrequests/{id}", {"status": "approved"}),
]


@pytest.mark.parametrize("persona", [STUDENT1, TUTOR1])
@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS, ids=[c[1].split("/")[1] for c in ADMIN_CALLS])
async def test_admin_only_operations_refuse_other_roles(shop: Shop, persona: tuple[str, str], method: str, path: str,
                                                       body: dict[str, str]):
    enrollment = await shop.enroll()
    names = {"id": enrollment["id"], "profile": shop.profiles["tutor1"]["id"], "pack": shop.pack()["id"]}
    status, answer = await shop.call(method, path.format(**names), persona,
                                     json={k: v.format(**names) for k, v in body.items()})
    assert status == 403 and answer["message"] == "errMsg_roleNotAllowed"
    assert (await shop.enrollment(enrollment["id"]))["enrollmentStatus"] == "pending"


async def test_cancelling_a_pending_enrollment_voids_it_and_frees_its_slots(shop: Shop):
    enrollment = await shop.enroll()
    status, body = await shop.call("PATCH", f"/cancelenrollment/{enrollment['id']}", ADMIN, json={"cancelReason": "x"})
    canceled = body["enrollment"]
    assert status == 200
    assert (canceled["enrollmentStatus"], canceled["paymentStatus"], canceled["paymentConfirmation"]) == \
        ("canceled", "pending", "canceled")
    assert await shop.slot_statuses(canceled) == ["available"] * 3
    status, body = await shop.start_payment(enrollment)
    assert status == 400 and body["message"] == "errMsg_orderIsCanceled"


async def test_cancelling_a_paid_enrollment_refunds_it(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    _, body = await shop.call("PATCH", f"/cancelenrollment/{enrollment['id']}", ADMIN, json={})
    canceled = body["enrollment"]
    assert (canceled["enrollmentStatus"], canceled["paymentStatus"], canceled["refundStatus"]) == \
        ("canceled", "refunded", "processed")
    assert len(await shop.refunds_at_stripe(enrollment)) == 1


async def test_a_canceled_enrollment_cannot_be_canceled_again(shop: Shop):
    enrollment = await shop.enroll()
    await shop.call("PATCH", f"/cancelenrollment/{enrollment['id']}", ADMIN, json={})
    status, body = await shop.call("PATCH", f"/cancelenrollment/{enrollment['id']}", ADMIN, json={})
    assert status == 400 and body["message"] == "errMsg_enrollmentIsCanceled"


async def test_an_admin_refund_skips_the_lesson_window_and_is_recorded(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    status, body = await shop.call("POST", "/adminrefundenrollment", ADMIN,
                                   json={"enrollmentId": enrollment["id"], "reason": "tutor banned"})
    request = body["refundRequest"]
    assert status == 201
    assert (request["status"], request["requestedBy"], request["reason"]) == ("autoApproved", shop.user(ADMIN), "tutor banned")
    after = await shop.enrollment(enrollment["id"])
    assert (after["enrollmentStatus"], after["paymentStatus"], after["refundStatus"]) == ("canceled", "refunded", "processed")
    assert len(await shop.refunds_at_stripe(enrollment)) == 1
    status, _ = await shop.call("GET", f"/refundrequests/{request['id']}", STUDENT1)
    assert status == 200


@pytest.mark.parametrize(("case", "code", "message"), [
    ("twice", 400, "errMsg_refundAlreadyRequested"),
    ("unpaid", 400, "errMsg_enrollmentIsNotPaid"),
    ("missing", 404, "errMsg_enrollmentNotFound"),
    ("unknown", 404, "errMsg_enrollmentNotFound"),
])
async def test_an_admin_refund_needs_a_paid_unrefunded_enrollment(shop: Shop, case: str, code: int, message: str):
    if case == "unpaid":
        body: dict[str, Any] = {"enrollmentId": (await shop.enroll())["id"]}
    elif case == "twice":
        body = {"enrollmentId": (await shop.enroll_and_pay())["id"]}
        await shop.call("POST", "/adminrefundenrollment", ADMIN, json=body)
    else:
        body = {} if case == "missing" else {"enrollmentId": str(uuid.uuid4())}
    status, answer = await shop.call("POST", "/adminrefundenrollment", ADMIN, json=body)
    assert status == code and answer["message"] == message


async def test_a_tutor_ban_cancels_that_tutors_open_enrollments_only(shop: Shop):
    pending = await shop.enroll(STUDENT1, tutor="tutor1", positions=(0,))
    paid = await shop.enroll_and_pay(STUDENT2, tutor="tutor1", number=1, positions=(0,))
    other = await shop.enroll(STUDENT3, tutor="tutor2", positions=(0,))
    status, body = await shop.call("POST", "/cascadetutorban", ADMIN,
                                   json={"tutorProfileId": shop.profiles["tutor1"]["id"], "reason": "banned"})
    assert status == 200
    assert sorted(e["id"] for e in body["enrollments"]) == sorted([pending["id"], paid["id"]])
    assert all(e["enrollmentStatus"] == "canceled" for e in body["enrollments"])
    assert (await shop.enrollment(paid["id"]))["paymentStatus"] == "refunded"
    assert await shop.slot_statuses(pending) == ["available"]
    assert (await shop.enrollment(other["id"]))["enrollmentStatus"] == "pending"


async def test_a_course_removal_cancels_that_packs_open_enrollments_only(shop: Shop):
    removed = await shop.enroll(STUDENT1, number=0, positions=(0,))
    kept = await shop.enroll(STUDENT1, number=1, positions=(0,))
    status, body = await shop.call("POST", "/cascadecourseremoval", ADMIN,
                                   json={"coursePackId": shop.pack(number=0)["id"], "reason": "removed"})
    assert status == 200 and [e["id"] for e in body["enrollments"]] == [removed["id"]]
    assert (await shop.enrollment(kept["id"]))["enrollmentStatus"] == "pending"


@pytest.mark.parametrize("body", [{}, {"tutorProfileId": str(uuid.uuid4())}], ids=["none", "unknown"])
async def test_a_tutor_ban_needs_an_existing_tutor_profile(shop: Shop, body: dict[str, str]):
    status, answer = await shop.call("POST", "/cascadetutorban", ADMIN, json=body)
    assert status == 404 and answer["message"] == "errMsg_tutorProfileNotFound"


async def test_a_users_payment_callback_must_name_the_enrollment(shop: Shop):
    status, body = await shop.call("POST", "/callbackenrollmentpayment", STUDENT1, json={"enrollmentId": None})
    assert status == 404 and body["message"] == "errMsg_enrollmentNotFound"


async def seed_pending_request(shop: Shop, enrollment: dict[str, Any]) -> dict[str, Any]:
    """A refund request still waiting for an admin (the API itself only files auto-approved ones)."""
    record = {"enrollmentId": enrollment["id"], "requestedBy": shop.user(STUDENT1), "requestedAt": "2027-01-01T00:00:00Z",
              "status": "pending", "reason": "please", "firstLessonCompleted": True}
    status, body = await shop.twin.call("POST", "/__twin/records/tutorhub-enrollmentmanagement/refundRequest",
                                        json={"records": [record]})
    assert status == 200, body
    return (await shop.refund_requests())[-1]


async def test_an_admin_approves_a_pending_refund_request_and_it_is_paid_back(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    request = await seed_pending_request(shop, enrollment)
    status, body = await shop.call("PATCH", f"/refundrequests/{request['id']}", ADMIN,
                                   json={"status": "approved", "adminNote": "ok", "processedAt": "2020-01-01T00:00:00Z"})
    decided = body["refundRequest"]
    assert status == 200 and (decided["status"], decided["adminNote"]) == ("approved", "ok")
    assert decided["processedAt"] is not None and not decided["processedAt"].startswith("2020")
    after = await shop.enrollment(enrollment["id"])
    assert (after["enrollmentStatus"], after["paymentStatus"]) == ("canceled", "refunded")


async def test_an_admin_rejects_a_pending_refund_request(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    request = await seed_pending_request(shop, enrollment)
    _, body = await shop.call("PATCH", f"/refundrequests/{request['id']}", ADMIN, json={"status": "rejected"})
    assert body["refundRequest"]["status"] == "rejected" and body["refundRequest"]["processedAt"] is not None
    after = await shop.enrollment(enrollment["id"])
    assert (after["enrollmentStatus"], after["paymentStatus"], after["refundStatus"]) == ("active", "paid", "ineligible")


async def test_a_decided_refund_request_only_takes_a_note(shop: Shop):
    enrollment = await shop.enroll_and_pay()
    await shop.complete_lesson(enrollment["lessonSlotIds"][0])
    request = (await shop.request_refund(enrollment))[1]["refundRequest"]
    status, body = await shop.call("PATCH", f"/refundrequests/{request['id']}", ADMIN, json={"status": "rejected"})
    assert status == 400 and body["message"] == "errMsg_refundRequestAlreadyDecided"
    status, body = await shop.call("PATCH", f"/refundrequests/{request['id']}", ADMIN, json={"adminNote": "audited"})
    assert status == 200 and (body["refundRequest"]["status"], body["refundRequest"]["adminNote"]) == ("autoApproved", "audited")


async def test_an_admin_decision_is_approved_or_rejected(shop: Shop):
    request = await seed_pending_request(shop, await shop.enroll())
    status, body = await shop.call("PATCH", f"/refundrequests/{request['id']}", ADMIN, json={"status": "autoApproved"})
    assert status == 400 and body["message"] == "errMsg_statusIsNotADecision"


# -- housekeeping --------------------------------------------------------------------------------
async def test_cleanup_cancels_pending_enrollments_older_than_an_hour(shop: Shop):
    stale = await shop.enroll(STUDENT1, positions=(0,))
    paid = await shop.enroll_and_pay(STUDENT2, positions=(1,))
    await shop.twin.call("POST", "/__twin/clock", json={"advanceSeconds": 30 * 60})
    fresh = await shop.enroll(STUDENT3, positions=(2,))
    _, early = await shop.call("POST", "/cleanuppendingenrollments", ADMIN, json={})
    assert early["enrollments"] == []
    await shop.twin.call("POST", "/__twin/clock", json={"advanceSeconds": 31 * 60})
    status, body = await shop.call("POST", "/cleanuppendingenrollments", ADMIN, json={})
    assert status == 200 and [e["id"] for e in body["enrollments"]] == [stale["id"]]
    assert body["enrollments"][0]["enrollmentStatus"] == "canceled"
    assert await shop.slot_statuses(stale) == ["available"]
    assert (await shop.enrollment(fresh["id"]))["enrollmentStatus"] == "pending"
    assert (await shop.enrollment(paid["id"]))["enrollmentStatus"] == "active"


async def test_cleanup_takes_a_custom_age(shop: Shop):
    stale = await shop.enroll()
    await shop.twin.call("POST", "/__twin/clock", json={"advanceSeconds": 6 * 60})
    _, body = await shop.call("POST", "/cleanuppendingenrollments", ADMIN, json={"maxAgeMinutes": 5})
    assert [e["id"] for e in body["enrollments"]] == [stale["id"]]


async def test_cleanup_reads_a_negative_age_as_zero(shop: Shop):
    pending = await shop.enroll()
    status, body = await shop.call("POST", "/cleanuppendingenrollments", ADMIN, json={"maxAgeMinutes": -2147483648})
    assert status == 200 and [e["id"] for e in body["enrollments"]] == [pending["id"]]


async def test_a_student_running_cleanup_sees_only_their_own_canceled_enrollments(shop: Shop):
    mine = await shop.enroll(STUDENT1, positions=(0,))
    theirs = await shop.enroll(STUDENT2, positions=(1,))
    await shop.twin.call("POST", "/__twin/clock", json={"advanceSeconds": 2 * 3600})
    _, body = await shop.call("POST", "/cleanuppendingenrollments", STUDENT1, json={})
    assert [e["id"] for e in body["enrollments"]] == [mine["id"]]
    assert (await shop.enrollment(theirs["id"]))["enrollmentStatus"] == "canceled"


async def test_a_cleaned_up_enrollment_can_no_longer_be_paid(shop: Shop):
    enrollment = await shop.enroll()
    await shop.twin.call("POST", "/__twin/clock", json={"advanceSeconds": 2 * 3600})
    await shop.call("POST", "/cleanuppendingenrollments", ADMIN, json={})
    status, body = await shop.start_payment(enrollment)
    assert status == 400 and body["message"] == "errMsg_orderIsCanceled"


async def test_an_enrollment_completes_when_all_its_lessons_are_completed(shop: Shop):
    enrollment = await shop.enroll_and_pay(positions=(0, 1))
    await shop.complete_lesson(enrollment["lessonSlotIds"][0])
    status, body = await shop.call("POST", "/checkenrollmentcompletion", TUTOR1, json={"enrollmentId": enrollment["id"]})
    assert status == 200
    assert [(e["enrollmentStatus"], e["refundStatus"]) for e in body["enrollments"]] == [("active", "eligible")]
    await shop.complete_lesson(enrollment["lessonSlotIds"][1])
    _, body = await shop.call("POST", "/checkenrollmentcompletion", STUDENT1, json={"enrollmentId": enrollment["id"]})
    assert [(e["enrollmentStatus"], e["refundStatus"]) for e in body["enrollments"]] == [("completed", "ineligible")]


async def test_completion_is_checked_only_on_an_enrollment_the_caller_may_see(shop: Shop):
    enrollment = await shop.enroll_and_pay(STUDENT1)
    status, _ = await shop.call("POST", "/checkenrollmentcompletion", STUDENT2, json={"enrollmentId": enrollment["id"]})
    assert status == 403


async def test_without_an_id_completion_checks_every_visible_active_enrollment(shop: Shop):
    done = await shop.enroll_and_pay(STUDENT1, positions=(0,))
    ongoing = await shop.enroll_and_pay(STUDENT1, positions=(1, 2))
    await shop.complete_lesson(done["lessonSlotIds"][0])
    _, body = await shop.call("POST", "/checkenrollmentcompletion", ADMIN, json={})
    assert [e["id"] for e in body["enrollments"]] == [done["id"]]
    assert (await shop.enrollment(ongoing["id"]))["enrollmentStatus"] == "active"
