"""Every operation of the three guides answers through the twin, over HTTP, as its spec says.

For each service a recipe calls every operation of its spec on its happy path, in the order a
frontend would, as a persona the guide allows, creating what each call needs through the API first
and letting the fake Stripe deliver its webhooks after every call. Every answer must carry the
operation's success status (`x-twin-status`) and envelope (`status` "OK", `statusCode`, `dataName`
= `x-twin-data-name`, `method`, `action` = `x-twin-action`, `rowCount`, `paging` for lists), and
the whole body must validate against the operation's response schema in the spec. Finally the
recipe must have called exactly the spec's operations, so an operation added to a guide fails this
test until a recipe covers it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from twin_testing import AIRBNB, TUTORHUB, WORKFORCEOS, Twin

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
CARD = {"paymentUserParams": {"paymentMethodId": "pm_card_visa"}}


# -- the spec: operations and their response schemas --------------------------------------------
@dataclass(frozen=True)
class Operation:
    """What the spec promises about one operation's success answer."""

    api: str
    method: str  # upper case, as the envelope's `method`
    path: str  # relative to the base path, with `{param}` placeholders
    status: int
    data_name: str
    action: str
    is_list: bool


def load_spec(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


def spec_operations(spec: dict[str, Any]) -> dict[str, Operation]:
    """Every operation of the spec, by its API name (the operationId)."""
    return {op["operationId"]: Operation(op["operationId"], method.upper(), path, op["x-twin-status"],
                                         op["x-twin-data-name"], op["x-twin-action"], bool(op.get("x-twin-list")))
            for path, item in spec["paths"].items() for method, op in item.items() if method in HTTP_METHODS}


def json_pointer_token(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


def response_validator(registry: Registry, op: Operation) -> Draft202012Validator:
    """A validator for the operation's success body, the schema referenced inside the spec document."""
    pointer = (f"/paths/{json_pointer_token(op.path)}/{op.method.lower()}/responses/{op.status}"
               "/content/application~1json/schema")
    return Draft202012Validator({"$ref": f"urn:spec#{pointer}"}, registry=registry)


def assert_answers_as_specified(op: Operation, validator: Draft202012Validator, status: int,
                                body: dict[str, Any]) -> None:
    assert status == op.status, f"{op.api}: HTTP {status}, the spec says {op.status}: {body}"
    envelope = {key: body.get(key) for key in ("status", "statusCode", "dataName", "method", "action")}
    assert envelope == {"status": "OK", "statusCode": op.status, "dataName": op.data_name, "method": op.method,
                        "action": op.action}, f"{op.api}: {envelope}"
    resource = body[op.data_name]
    if op.is_list:
        assert isinstance(resource, list) and resource, f"{op.api}: the recipe expects rows: {resource!r}"
        assert body["rowCount"] == len(resource), f"{op.api}: rowCount {body['rowCount']} for {len(resource)} rows"
        assert isinstance(body.get("paging"), dict), f"{op.api}: no paging: {body}"
    else:
        assert isinstance(resource, dict) and body["rowCount"] == 1, f"{op.api}: {body}"
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(body)]
    assert not errors, f"{op.api}: the answer does not match the spec's response schema:\n" + "\n".join(errors)


# -- the recipe runner ---------------------------------------------------------------------------
@dataclass
class Recipe:
    """Calls a service's operations by API name as a persona, and checks every answer against the spec."""

    twin: Twin
    project: str
    spec: dict[str, Any]
    tenant: str | None = None  # workforceos: the company every call names
    called: list[str] = field(default_factory=list)
    operations: dict[str, Operation] = field(init=False)
    validators: dict[str, Draft202012Validator] = field(init=False)
    base: str = field(init=False)

    def __post_init__(self) -> None:
        self.operations = spec_operations(self.spec)
        self.base = self.spec["x-twin-base-path"]
        registry = Registry().with_resource("urn:spec", Resource.from_contents(self.spec, DRAFT202012))
        self.validators = {api: response_validator(registry, op) for api, op in self.operations.items()}

    def user(self, persona: str) -> str:
        return self.twin.persona(self.project, persona)["userId"]

    async def call(self, api: str, persona: str, *, json: dict[str, Any] | None = None,
                   **path: str) -> dict[str, Any]:
        """Call `api` as `persona`, let Stripe's webhooks land, check the answer; return its resource."""
        assert api in self.operations, f"{api} is not an operation of the {self.project} spec"
        op = self.operations[api]
        status, body = await self.twin.call(op.method, self.base + op.path.format(**path), json=json,
                                            as_=(self.project, persona), tenant=self.tenant)
        await self.twin.stripe.drain()
        self.called.append(api)
        assert_answers_as_specified(op, self.validators[api], status, body)
        return body[op.data_name]

    async def fixtures(self, name: str) -> list[dict[str, Any]]:
        status, body = await self.twin.call("GET", f"/__twin/fixtures/{self.project}/{name}")
        assert status == 200, body
        return body["records"]

    async def control(self, method: str, path: str, body: dict[str, Any]) -> None:
        status, answer = await self.twin.call(method, f"/__twin/{path}", json=body)
        assert status == 200, answer


# -- tutorhub · enrollmentManagement -------------------------------------------------------------
def enrollment_body(pack: dict[str, Any], slots: list[dict[str, Any]]) -> dict[str, Any]:
    return {"coursePackId": pack["id"], "tutorProfileId": pack["tutorProfileId"],
            "lessonSlotIds": [slot["id"] for slot in slots], "totalAmount": pack["price"], "currency": "USD",
            "refundStatus": "notRequested"}


async def tutorhub(r: Recipe) -> None:
    packs, slots = await r.fixtures("coursePack"), await r.fixtures("lessonSlot")
    lessons = {pack["id"]: sorted((s for s in slots if s["coursePackId"] == pack["id"]),
                                  key=lambda s: (s["scheduledDate"], s["scheduledTime"])) for pack in packs}
    profile = next(p["id"] for p in await r.fixtures("tutorProfile") if p["tutorId"] == r.user("tutor1"))
    pack_a, pack_b = (p for p in packs if p["tutorProfileId"] == profile)  # tutor1's two packs
    pack_c = next(p for p in packs if p["tutorProfileId"] != profile)  # one of tutor2's

    async def enroll(student: str, pack: dict[str, Any], positions: slice) -> dict[str, Any]:
        return await r.call("createEnrollment", student, json=enrollment_body(pack, lessons[pack["id"]][positions]))

    async def complete_lesson(slot: dict[str, Any]) -> None:
        await r.control("PATCH", f"fixtures/tutorhub/lessonSlot/{slot['id']}", {"status": "completed"})

    # A student books three lessons of a pack and pays by card; Stripe's webhook activates the enrollment.
    enrollment = await enroll("student1", pack_a, slice(0, 3))
    await r.call("getEnrollment", "student1", enrollmentId=enrollment["id"])
    await r.call("listEnrollments", "tutor1")
    await r.call("startEnrollmentPayment", "student1", enrollmentId=enrollment["id"], json=CARD)
    await r.call("refreshEnrollmentPayment", "student1", enrollmentId=enrollment["id"], json={})
    paid = await r.call("callbackEnrollmentPayment", "student1", json={"enrollmentId": enrollment["id"]})
    assert (paid["enrollmentStatus"], paid["paymentStatus"]) == ("active", "paid")

    # The Stripe bookkeeping the payment left, as the student reads it.
    payment = await r.call("getEnrollmentPaymentByOrderId", "student1", orderId=enrollment["id"])
    await r.call("getEnrollmentPaymentByPaymentId", "student1", paymentId=payment["paymentId"])
    await r.call("getEnrollmentPayment", "student1", sys_enrollmentPaymentId=payment["id"])
    await r.call("listEnrollmentPayments", "student1")
    await r.call("getPaymentCustomerByUserId", "student1", userId=r.user("student1"))
    await r.call("listPaymentCustomers", "student1")
    await r.call("listPaymentCustomerMethods", "student1", userId=r.user("student1"))

    # After the first lesson the student asks for a refund (auto-approved); the admin annotates it.
    await complete_lesson(lessons[pack_a["id"]][0])
    refund = await r.call("createRefundRequest", "student1", json={
        "enrollmentId": enrollment["id"], "requestedAt": "2027-01-05T10:00:00.000Z", "status": "pending",
        "reason": "the course is not for me", "firstLessonCompleted": True})
    assert refund["status"] == "autoApproved"
    await r.call("getRefundRequest", "student1", refundRequestId=refund["id"])
    await r.call("listRefundRequests", "student1")
    await r.call("updateRefundRequest", "admin", refundRequestId=refund["id"], json={"adminNote": "refunded in full"})

    # Another student takes every lesson they booked: the completion check closes the enrollment.
    finished = await enroll("student2", pack_a, slice(3, 6))
    await r.call("startEnrollmentPayment", "student2", enrollmentId=finished["id"], json=CARD)
    for slot in lessons[pack_a["id"]][3:6]:
        await complete_lesson(slot)
    completed = await r.call("checkEnrollmentCompletion", "student2", json={"enrollmentId": finished["id"]})
    assert [e["enrollmentStatus"] for e in completed] == ["completed"]

    # The admin refunds a paid enrollment outside the lesson window.
    refunded = await enroll("student3", pack_b, slice(0, 2))
    await r.call("startEnrollmentPayment", "student3", enrollmentId=refunded["id"], json=CARD)
    await r.call("adminRefundEnrollment", "admin", json={"enrollmentId": refunded["id"], "reason": "tutor unavailable"})

    # The admin cancels one pending enrollment; housekeeping cancels the stale ones.
    canceled = await enroll("student1", pack_b, slice(2, 3))
    await r.call("cancelEnrollment", "admin", enrollmentId=canceled["id"], json={"cancelReason": "duplicate booking"})
    await enroll("student2", pack_b, slice(3, 4))
    await r.call("cleanupPendingEnrollments", "admin", json={"maxAgeMinutes": 0})

    # Cascades: a course pack withdrawn, a tutor banned; each cancels its live enrollments.
    await enroll("student3", pack_b, slice(4, 5))
    await r.call("cascadeCourseRemoval", "admin", json={"coursePackId": pack_b["id"], "reason": "pack withdrawn"})
    await enroll("student1", pack_c, slice(0, 2))
    await r.call("cascadeTutorBan", "admin", json={"tutorProfileId": pack_c["tutorProfileId"], "reason": "banned"})

    # The admin's hand-written payment record, corrected and deleted.
    record = await r.call("createEnrollmentPayment", "admin", json={
        "orderId": enrollment["id"], "paymentId": "pi_logged_by_hand", "paymentStatus": "succeeded",
        "statusLiteral": "paid"})
    await r.call("updateEnrollmentPayment", "admin", sys_enrollmentPaymentId=record["id"],
                 json={"redirectUrl": "https://tutorhub.test/payments/done"})
    await r.call("deleteEnrollmentPayment", "admin", sys_enrollmentPaymentId=record["id"])


# -- workforceos · subscriptionManagement (every call names the company babil) -------------------
async def workforceos(r: Recipe) -> None:
    # The company's owner subscribes (pending, with a Stripe checkout) and pays by card instead.
    subscription = await r.call("createCompanySubscription", "babil-owner", json={
        "activationDate": "2027-01-01T00:00:00.000Z", "expiryDate": "2027-02-01T00:00:00.000Z",
        "status": "pending", "ownerId": r.user("babil-owner")})
    assert subscription["status"] == "pending"
    await r.call("getCompanySubscription", "babil-user", companySubscriptionId=subscription["id"])
    await r.call("listCompanySubscriptions", "babil-admin")
    await r.call("refreshCompanySubscriptionPayment", "babil-owner", companySubscriptionId=subscription["id"], json={})
    await r.call("startCompanySubscriptionPayment", "babil-owner", companySubscriptionId=subscription["id"], json=CARD)
    active = await r.call("callbackCompanySubscriptionPayment", "babil-owner",
                          json={"companySubscriptionId": subscription["id"]})
    assert active["status"] == "active"

    # The Stripe bookkeeping of the payment, as the owner reads it.
    ticket = await r.call("getCompanySubscriptionPaymentByOrderId", "babil-owner", orderId=subscription["id"])
    await r.call("getCompanySubscriptionPaymentByPaymentId", "babil-owner", paymentId=ticket["paymentId"])
    await r.call("getCompanySubscriptionPayment", "babil-owner", sys_companySubscriptionPaymentId=ticket["id"])
    await r.call("listCompanySubscriptionPayments", "babil-owner")
    await r.call("getPaymentCustomerByUserId", "babil-owner", userId=r.user("babil-owner"))
    await r.call("listPaymentCustomers", "babil-owner")
    await r.call("listPaymentCustomerMethods", "babil-owner", userId=r.user("babil-owner"))

    # Platform support: a hand-written payment record, corrected and deleted; a subscription corrected.
    record = await r.call("createCompanySubscriptionPayment", "superadmin", json={
        "orderId": subscription["id"], "paymentId": "pi_logged_by_hand", "paymentStatus": "succeeded"})
    await r.call("updateCompanySubscriptionPayment", "superadmin", sys_companySubscriptionPaymentId=record["id"],
                 json={"redirectUrl": "https://workforceos.test/billing/done"})
    await r.call("deleteCompanySubscriptionPayment", "superadmin", sys_companySubscriptionPaymentId=record["id"])
    await r.call("updateCompanySubscription", "superadmin", companySubscriptionId=subscription["id"],
                 json={"subscribedFeatures": ["aiAnalytics", "reporting"]})

    # The owner cancels; the platform removes the closed subscription.
    canceled = await r.call("cancelCompanySubscription", "babil-owner", companySubscriptionId=subscription["id"],
                            json={})
    assert canceled["status"] == "inactive"
    await r.call("deleteCompanySubscription", "saasadmin", companySubscriptionId=subscription["id"])


# -- airbnb · bookingManagement (the twin's clock frozen on 2027-03-01) --------------------------
def reservation_body(listing: dict[str, Any], check_in: str, check_out: str) -> dict[str, Any]:
    return {"listingId": listing["id"], "hostId": listing["hostId"], "approvalType": listing["approvalType"],
            "bookingStatus": "pending", "checkIn": check_in, "checkOut": check_out, "currency": "USD",
            "guestCount": 2, "totalPrice": 3 * listing["pricePerNight"], "disputeStatus": "none",
            "bookingPoliciesSnapshot": {"houseRules": "no parties"}, "cancellationPolicySnapshot": {"policy": "flexible"}}


async def airbnb(r: Recipe) -> None:
    await r.control("POST", "clock", {"set": "2027-03-01T12:00:00Z"})
    listings = {(row["hostId"], row["approvalType"]): row for row in await r.fixtures("listing")}
    instant, manual = listings[(r.user("host1"), "instant")], listings[(r.user("host1"), "manual")]

    # A guest books an instant listing and pays by card; Stripe's webhook confirms the stay.
    reservation = await r.call("createReservation", "guest1", json=reservation_body(
        instant, "2027-03-10T15:00:00.000Z", "2027-03-13T11:00:00.000Z"))
    await r.call("getReservation", "guest1", reservationId=reservation["id"])
    await r.call("listReservations", "host1")
    await r.call("startReservationPayment", "guest1", reservationId=reservation["id"], json=CARD)
    await r.call("refreshReservationPayment", "guest1", reservationId=reservation["id"], json={})
    confirmed = await r.call("callbackReservationPayment", "guest1", json={"reservationId": reservation["id"]})
    assert confirmed["bookingStatus"] == "confirmed"

    # The Stripe bookkeeping and the payment record the payment left, as the guest reads them.
    payment = await r.call("getReservationPaymentByOrderId", "guest1", orderId=reservation["id"])
    await r.call("getReservationPaymentByPaymentId", "guest1", paymentId=payment["paymentId"])
    await r.call("getReservationPayment", "guest1", sys_reservationPaymentId=payment["id"])
    await r.call("listReservationPayments", "guest1")
    await r.call("getPaymentCustomerByUserId", "guest1", userId=r.user("guest1"))
    await r.call("listPaymentCustomers", "guest1")
    await r.call("listPaymentCustomerMethods", "guest1", userId=r.user("guest1"))
    records = await r.call("listPaymentRecords", "guest1")
    await r.call("getPaymentRecord", "guest1", paymentRecordId=records[0]["id"])

    # The guest opens a dispute; the host reads it; the admin resolves it with a refund.
    dispute = await r.call("createDispute", "guest1", json={
        "reportedAt": "2027-03-01T12:00:00.000Z", "reservationId": reservation["id"], "raisedBy": r.user("guest1"),
        "issueType": "cleanliness", "description": "the flat was dirty", "resolutionStatus": "pending"})
    await r.call("getDispute", "host1", disputeId=dispute["id"])
    await r.call("listDisputes", "guest1")
    resolved = await r.call("updateDispute", "admin", disputeId=dispute["id"],
                            json={"resolutionStatus": "resolved", "refundApproved": True})
    assert resolved["resolutionStatus"] == "resolved"

    # Another guest requests a manual listing and pays; the host accepts; the guest then cancels.
    request = await r.call("createReservation", "guest2", json=reservation_body(
        manual, "2027-03-20T15:00:00.000Z", "2027-03-23T11:00:00.000Z"))
    await r.call("startReservationPayment", "guest2", reservationId=request["id"], json=CARD)
    accepted = await r.call("updateReservation", "host1", reservationId=request["id"],
                            json={"bookingStatus": "confirmed"})
    assert accepted["bookingStatus"] == "confirmed"
    await r.call("deleteReservation", "guest2", reservationId=request["id"])

    # The admin logs a payment made outside the flow, and hand-writes Stripe bookkeeping.
    await r.call("createPaymentRecord", "admin", json={
        "reservationId": reservation["id"], "paymentIntentId": "pi_logged_by_hand", "currency": "USD",
        "amountPaid": 100.0, "paymentStatus": "paid"})
    ticket = await r.call("createReservationPayment", "admin", json={
        "orderId": reservation["id"], "paymentId": "pi_logged_by_hand", "paymentStatus": "succeeded",
        "statusLiteral": "paid"})
    await r.call("updateReservationPayment", "admin", sys_reservationPaymentId=ticket["id"],
                 json={"redirectUrl": "https://airbnb.test/payments/done"})
    await r.call("deleteReservationPayment", "admin", sys_reservationPaymentId=ticket["id"])


# -- the test ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    spec: Path
    project: str
    recipe: Callable[[Recipe], Awaitable[None]]
    tenant: str | None = None


SERVICES = [
    Service(TUTORHUB, "tutorhub", tutorhub),
    Service(WORKFORCEOS, "workforceos", workforceos, tenant="babil"),
    Service(AIRBNB, "airbnb", airbnb),
]


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.project)
async def test_every_operation_answers_with_its_guides_status_envelope_and_schema(make_twin: Any, service: Service):
    spec = load_spec(service.spec)
    recipe = Recipe(await make_twin(service.spec), service.project, spec, tenant=service.tenant)
    await service.recipe(recipe)
    missing = sorted(set(recipe.operations) - set(recipe.called))
    assert set(recipe.called) == set(recipe.operations), f"operations the recipe never calls: {missing}"
