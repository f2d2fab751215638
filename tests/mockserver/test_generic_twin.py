"""The generic twin on guides it has never seen (a made-up `vetclinic` project of two services,
written as page text): it refuses what the suite would reject, keeps Integer fields integral,
answers every key of a response example in its shape, has personas for the guide's roles in
the guide's tenants, and resolves references to objects of other services — all through HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from twin_testing import Twin, spec_from_guide, synthetic_guides

from specs.values import is_datetime

st = synthetic_guides()
TENANT = "x-clinic-code"
BASE = "/appointmentmanagement-api"
BILLING = "/billing-api"
NIL = "00000000-0000-4000-8000-000000000000"
PET_RECORD = {
    "id": "ID", "name": "String", "species": "String", "ownerId": "ID", "ageMonths": "Integer", "bornAt": "Date",
    "clinicId": "ID", "isActive": True, "recordVersion": "Integer", "createdAt": "Date", "updatedAt": "Date", "_owner": "ID",
}
VACCINATION_RECORD = {
    "id": "ID", "petId": "ID", "vaccine": "String", "givenAt": "Date", "clinicId": "ID", "isActive": True,
    "recordVersion": "Integer", "createdAt": "Date", "updatedAt": "Date", "_owner": "ID",
}
ANALYTICS = {"visitCount": "Integer", "averageWeightKg": "Double", "lastVisit": "Date",
             "days": [{"day": "Date", "visits": "Integer"}, {}, {}]}


def with_extra_keys(example: str, extra: dict[str, Any]) -> str:
    """A response example with more top-level keys after the resource."""
    body = json.loads(example)
    body.update(extra)
    return json.dumps(body, indent=0)


def clinic_guide(*, roles: str = "Only users with the vet or receptionist roles may edit a pet.",
                 tenant: str | None = TENANT) -> str:
    """appointmentManagement: the synthetic appointments, plus pets (tenant-scoped, with an Integer and
    a Date), a pet's visits under its path, a pet answer with an analytics summary, clinic stats."""
    guide = st.SyntheticGuide(tenant_header=tenant)
    guide.objects["pet"] = st.data_object(
        "pet", "An animal registered with the clinic.",
        st.property_rows([
            ("name", "String", "false", "Yes", "No", "The pet's name."),
            ("species", "String", "false", "Yes", "No", "Dog, cat, …"),
            ("ownerId", "ID", "false", "Yes", "No", "The owner (auth:user)."),
            ("ageMonths", "Integer", "false", "No", "No", "Age in months."),
            ("bornAt", "Date", "false", "No", "No", "Birthday."),
            ("clinicId", "ID", "false", "Yes", "No", "An ID value to represent the tenant id of the clinic"),
        ]),
        relations=[st.relation("ownerId", "user", kind="sibling")],
    ) + "\n" + roles
    guide.objects["vaccination"] = st.data_object(
        "vaccination", "A vaccine given; the clinic's stock system records it, no API creates it.",
        st.property_rows([
            ("petId", "ID", "false", "Yes", "No", "The pet vaccinated."),
            ("vaccine", "String", "false", "Yes", "No", "The vaccine."),
            ("givenAt", "Date", "false", "Yes", "No", "When."),
            ("clinicId", "ID", "false", "Yes", "No", "An ID value to represent the tenant id of the clinic"),
        ]),
        relations=[st.relation("petId", "pet")],
    )
    guide.defaults["pet"] = {"create": "createPet", "get": "getPet", "delete": "deletePet"}
    guide.defaults["vaccination"] = {"get": "getVaccination", "list": "listVaccinations"}
    guide.apis.update({
        "createPet": st.api_section(
            "Create Pet", "createPet", "POST", "/v1/pets", default="create",
            params=[("name", "String", "true", "body"), ("species", "String", "true", "body"),
                    ("ownerId", "ID", "true", "body"), ("ageMonths", "Integer", "false", "body"),
                    ("bornAt", "Date", "false", "body")],
            response=st.envelope("pet", "POST", "create", PET_RECORD, status=201)),
        "getPet": st.api_section(
            "Get Pet", "getPet", "GET", "/v1/pets/:petId", default="get", params=[("petId", "ID", "true", "path")],
            response=with_extra_keys(st.envelope("pet", "GET", "get", PET_RECORD),
                                     {"weeklyAnalytics": ANALYTICS, "tags": ["String"]})),
        "addPetVisit": st.api_section(
            "Add Petvisit", "addPetVisit", "POST", "/v1/pets/:petId/appointments",
            params=[("petId", "ID", "true", "path"), ("scheduledAt", "Date", "true", "body"),
                    ("reason", "String", "true", "body"), ("visitStatus", "Enum", "true", "body")],
            response=st.envelope("appointment", "POST", "create", st.APPOINTMENT_RECORD, status=201)),
        "listPetVisits": st.api_section(
            "List Petvisits", "listPetVisits", "GET", "/v1/pets/:petId/appointments",
            params=[("petId", "ID", "true", "path")],
            response=st.envelope("appointments", "GET", "list", [st.APPOINTMENT_RECORD, {}, {}], paging=True)),
        "listPets": st.api_section(
            "List Pets", "listPets", "GET", "/v1/pets",
            filters=[("ageMonths", "ID", "Age in months.")],
            response=st.envelope("pets", "GET", "list", [PET_RECORD, {}, {}], paging=True),
        ).replace("ageMonths (ID):", "ageMonths (Integer):"),
        "getMyPet": st.api_section(
            "Get Mypet", "getMyPet", "GET", "/v1/mypet", response=st.envelope("pet", "GET", "get", PET_RECORD)),
        "removePetVisit": st.api_section(
            "Remove Petvisit", "removePetVisit", "DELETE", "/v1/pets/:petId/appointments/:appointmentId",
            params=[("petId", "ID", "true", "path"), ("appointmentId", "ID", "true", "path")],
            response=st.envelope("appointment", "DELETE", "delete", st.APPOINTMENT_RECORD)),
        "getVaccination": st.api_section(
            "Get Vaccination", "getVaccination", "GET", "/v1/vaccinations/:vaccinationId", default="get",
            params=[("vaccinationId", "ID", "true", "path")],
            response=st.envelope("vaccination", "GET", "get", VACCINATION_RECORD)),
        "listVaccinations": st.api_section(
            "List Vaccinations", "listVaccinations", "GET", "/v1/vaccinations", default="list",
            response=st.envelope("vaccinations", "GET", "list", [VACCINATION_RECORD, {}, {}], paging=True)),
        "getClinicStats": st.api_section(
            "Get Clinicstats", "getClinicStats", "GET", "/v1/clinicstats",
            response=st.envelope("clinicStats", "GET", "get", {"visits": "Integer", "busiestDay": "Date", "open": True})),
    })
    return guide.text()


def billing_guide() -> str:
    """billing: invoices that must point at an appointment of the other service."""
    guide = st.SyntheticGuide(service="billing")
    invoice = {"id": "ID", "appointmentId": "ID", "amountCents": "Integer", "isActive": True, "recordVersion": "Integer",
               "createdAt": "Date", "updatedAt": "Date", "_owner": "ID"}
    guide.objects = {"invoice": st.data_object(
        "invoice", "What a visit costs.",
        st.property_rows([("appointmentId", "ID", "false", "Yes", "No", "The visit billed."),
                          ("amountCents", "Integer", "false", "Yes", "No", "The price in cents.")]),
        relations=[st.relation("appointmentId", "appointment")],
    )}
    guide.defaults = {"invoice": {"create": "createInvoice"}}
    guide.apis = {"createInvoice": st.api_section(
        "Create Invoice", "createInvoice", "POST", "/v1/invoices", default="create",
        params=[("appointmentId", "ID", "true", "body"), ("amountCents", "Integer", "true", "body")],
        response=st.envelope("invoice", "POST", "create", invoice, status=201))}
    return guide.text()


@pytest.fixture
async def clinic(make_twin: Callable[..., Any], tmp_path: Path) -> Twin:
    """A twin serving both vetclinic services."""
    return await make_twin(spec_from_guide(tmp_path, clinic_guide(), "clinic.txt"),
                           spec_from_guide(tmp_path, billing_guide(), "billing.txt"))


def as_(twin: Twin, name: str, tenant: str | None = "babil") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {twin.persona('vetclinic', name)['token']}"}
    if tenant:
        headers[TENANT] = tenant
    return headers


async def new_pet(twin: Twin, **values: Any) -> tuple[int, dict[str, Any]]:
    owner = twin.persona("vetclinic", "babil-user1")["userId"]
    body = {"name": "Rex", "species": "dog", "ownerId": owner, **values}
    return await twin.call("POST", f"{BASE}/v1/pets", json=body, headers=as_(twin, "babil-vet"))


# -- one rule for a Date -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["0000-01-01T00:00:00Z", "2023-02-29T10:00:00Z", "2024-04-31T00:00:00.000Z"])
async def test_a_date_no_calendar_has_is_refused_naming_the_field(clinic: Twin, value: str) -> None:
    status, body = await new_pet(clinic, bornAt=value)
    assert status == 400
    assert (body["result"], body["status"], body["errCode"], body["message"]) == ("ERR", 400, 400, "errMsg_bornAtisNotAValidDate")
    assert "bornAt" in body["detail"] and "ISO-8601" in body["detail"]
    assert is_datetime(body["date"])


async def test_a_real_date_is_kept_as_the_instant_it_names(clinic: Twin) -> None:
    status, body = await new_pet(clinic, bornAt="2024-02-29T10:00:00+02:00")
    assert status == 201 and body["pet"]["bornAt"] == "2024-02-29T08:00:00.000Z"


# -- Integer fields stay integers ----------------------------------------------------------------------
async def test_an_integral_number_for_an_integer_field_is_stored_as_an_integer(clinic: Twin) -> None:
    status, created = await new_pet(clinic, ageMonths=-519500.0)
    assert status == 201, created
    response = await clinic.client.get(f"{BASE}/v1/pets/{created['pet']['id']}", headers=as_(clinic, "babil-vet"))
    text = await response.text()
    assert '"ageMonths":-519500,' in text
    assert created["pet"]["ageMonths"] == -519500 and isinstance(json.loads(text)["pet"]["ageMonths"], int)


async def test_a_fraction_for_an_integer_field_is_refused(clinic: Twin) -> None:
    status, body = await new_pet(clinic, ageMonths=1.5)
    assert status == 400 and body["message"] == "errMsg_ageMonthsisNotAValidInteger"


async def test_an_integer_field_of_another_service_stays_integral_too(clinic: Twin) -> None:
    appointment = await a_babil_appointment(clinic)
    status, body = await clinic.call("POST", f"{BILLING}/v1/invoices", headers=as_(clinic, "babil-vet"),
                                     json={"appointmentId": appointment, "amountCents": 4999.0})
    assert status == 201 and body["invoice"]["amountCents"] == 4999 and isinstance(body["invoice"]["amountCents"], int)


# -- every key of the example, in its shape ----------------------------------------------------------------
async def test_extra_keys_of_the_example_are_answered_in_its_shape(clinic: Twin) -> None:
    _, created = await new_pet(clinic)
    status, body = await clinic.call("GET", f"{BASE}/v1/pets/{created['pet']['id']}", headers=as_(clinic, "babil-vet"))
    assert status == 200 and body["pet"]["id"] == created["pet"]["id"]
    analytics = body["weeklyAnalytics"]
    assert set(analytics) == {"visitCount", "averageWeightKg", "lastVisit", "days"}
    assert isinstance(analytics["visitCount"], int) and isinstance(analytics["averageWeightKg"], float)
    assert is_datetime(analytics["lastVisit"])
    assert isinstance(analytics["days"], list) and [set(d) for d in analytics["days"]] == [{"day", "visits"}]
    assert isinstance(body["tags"], list)


async def test_an_operation_on_no_data_object_answers_the_examples_shape(clinic: Twin) -> None:
    status, body = await clinic.call("GET", f"{BASE}/v1/clinicstats", headers=as_(clinic, "babil-receptionist"))
    assert status == 200 and (body["dataName"], body["action"], body["rowCount"]) == ("clinicStats", "get", 1)
    stats = body["clinicStats"]
    assert set(stats) == {"visits", "busiestDay", "open"}
    assert isinstance(stats["visits"], int) and is_datetime(stats["busiestDay"]) and isinstance(stats["open"], bool)


# -- personas and tenants ----------------------------------------------------------------------------------
async def test_personas_are_the_guides_roles_in_two_tenants_and_two_users(clinic: Twin) -> None:
    personas = [p for p in clinic.personas.values() if p["project"] == "vetclinic"]
    assert [(p["name"], p["role"], p["tenant"]) for p in personas] == [
        ("babil-vet", "vet", "babil"), ("babil-receptionist", "receptionist", "babil"),
        ("babil-user1", "user", "babil"), ("babil-user2", "user", "babil"),
        ("acme-vet", "vet", "acme"), ("acme-receptionist", "receptionist", "acme"), ("acme-user", "user", "acme"),
    ]
    tenants = await (await clinic.client.get("/__twin/fixtures/vetclinic/clinic")).json()
    assert [t["codename"] for t in tenants["records"]] == ["babil", "acme"]


async def test_a_guide_naming_no_role_gets_an_admin_and_two_users(make_twin: Callable[..., Any], tmp_path: Path) -> None:
    twin = await make_twin(spec_from_guide(tmp_path, clinic_guide(roles="", tenant=None)))
    assert [(p["name"], p["role"], p["tenant"]) for p in twin.personas.values()] == [
        ("admin", "admin", None), ("user1", "user", None), ("user2", "user", None)]


# -- the role overlay beside the guide ------------------------------------------------------------------
async def test_the_role_overlay_beside_a_guide_is_the_twins_role_table(make_twin: Callable[..., Any], tmp_path: Path) -> None:
    from specs.build import load_specs

    (tmp_path / "clinic.txt").write_text(clinic_guide(), encoding="utf-8")
    (tmp_path / "clinic.roles.yaml").write_text("access:\n  createPet: [vet]\n  deletePet: [vet]\n", encoding="utf-8")
    twin = await make_twin(*load_specs([tmp_path]))
    status, body = await new_pet(twin)  # as babil-vet
    assert status == 201, body
    owner = twin.persona("vetclinic", "babil-user1")["userId"]
    status, body = await twin.call("POST", f"{BASE}/v1/pets", json={"name": "Tom", "species": "cat", "ownerId": owner},
                                   headers=as_(twin, "babil-receptionist"))
    assert (status, body["message"]) == (403, "errMsg_roleNotAllowed") and "receptionist may not call createPet" in body["detail"]
    assert (await twin.call("GET", f"{BASE}/v1/clinicstats", headers=as_(twin, "babil-receptionist")))[0] == 200  # not listed: open
    roles = await (await twin.client.get("/__twin/roles")).json()
    assert roles == {"vetclinic-appointmentmanagement": {"createPet": ["vet"], "deletePet": ["vet"]}}


async def test_the_tenant_header_the_guide_names_is_required(clinic: Twin) -> None:
    status, body = await clinic.call("GET", f"{BASE}/v1/clinicstats", headers=as_(clinic, "babil-vet", tenant=None))
    assert status == 400 and body["message"] == "errMsg_tenantCodenameIsRequired" and TENANT in body["detail"]
    status, body = await clinic.call("GET", f"{BASE}/v1/clinicstats", headers=as_(clinic, "acme-vet", tenant="babil"))
    assert status == 403 and body["message"] == "errMsg_tenantAccessDenied"


async def test_records_stay_in_their_tenant(clinic: Twin) -> None:
    _, created = await new_pet(clinic)
    assert created["pet"]["clinicId"] == clinic.persona("vetclinic", "babil-vet")["companyId"]
    url = f"{BASE}/v1/pets/{created['pet']['id']}"
    assert (await clinic.call("GET", url, headers=as_(clinic, "babil-receptionist")))[0] == 200
    assert (await clinic.call("GET", url, headers=as_(clinic, "acme-vet", tenant="acme")))[0] == 404


# -- references ------------------------------------------------------------------------------------------
async def test_a_required_reference_to_a_user_takes_a_personas_id(clinic: Twin) -> None:
    assert (await new_pet(clinic))[0] == 201
    status, body = await new_pet(clinic, ownerId=NIL)
    assert status == 404 and body["message"] == "errMsg_userNotFound"


async def a_babil_appointment(twin: Twin) -> str:
    return (await a_babil_visit(twin))[0]


async def a_babil_visit(twin: Twin) -> tuple[str, str]:
    """A new appointment of a new pet in babil: (appointment id, pet id)."""
    _, pet = await new_pet(twin)
    status, body = await twin.call(
        "POST", f"{BASE}/v1/pets/{pet['pet']['id']}/appointments", headers=as_(twin, "babil-vet"),
        json={"scheduledAt": "2027-01-05T09:00:00Z", "reason": "vaccination", "visitStatus": "scheduled"})
    assert status == 201 and body["appointment"]["petId"] == pet["pet"]["id"], body  # the parent comes from the path
    return str(body["appointment"]["id"]), str(pet["pet"]["id"])


async def test_a_reference_to_an_object_of_another_served_service(clinic: Twin) -> None:
    appointment = await a_babil_appointment(clinic)
    status, body = await clinic.call("POST", f"{BILLING}/v1/invoices", headers=as_(clinic, "babil-vet"),
                                     json={"appointmentId": appointment, "amountCents": 4999})
    assert status == 201 and body["invoice"]["appointmentId"] == appointment
    status, body = await clinic.call("POST", f"{BILLING}/v1/invoices", headers=as_(clinic, "babil-vet"),
                                     json={"appointmentId": NIL, "amountCents": 1})
    assert status == 404 and body["message"] == "errMsg_appointmentNotFound"


async def test_a_reference_to_another_services_object_may_name_a_fixture(clinic: Twin) -> None:
    fixtures = await (await clinic.client.get("/__twin/fixtures/vetclinic/appointment")).json()
    assert len(fixtures["records"]) == 5
    status, body = await clinic.call("POST", f"{BILLING}/v1/invoices", headers=as_(clinic, "babil-vet"),
                                     json={"appointmentId": fixtures["records"][0]["id"], "amountCents": 1})
    assert status == 201, body


async def test_a_list_under_a_parent_answers_404_once_the_parent_is_gone(clinic: Twin) -> None:
    headers = as_(clinic, "babil-vet")
    _, pet = await new_pet(clinic)
    visits = f"{BASE}/v1/pets/{pet['pet']['id']}/appointments"
    status, body = await clinic.call("POST", visits, headers=headers, json={
        "scheduledAt": "2027-01-05T09:00:00Z", "reason": "checkup", "visitStatus": "scheduled"})
    assert status == 201
    status, body = await clinic.call("GET", visits, headers=headers)
    assert status == 200 and [a["petId"] for a in body["appointments"]] == [pet["pet"]["id"]]
    assert (await clinic.call("DELETE", f"{BASE}/v1/pets/{pet['pet']['id']}", headers=headers))[0] == 200
    status, body = await clinic.call("GET", visits, headers=headers)
    assert status == 404 and body["message"] == "errMsg_petNotFound"
    status, body = await clinic.call("GET", f"{BASE}/v1/pets/{NIL}/appointments", headers=headers)
    assert status == 404 and body["message"] == "errMsg_petNotFound"


# -- routes the generic engine reads from their shape -------------------------------------------------------
async def test_an_integer_filter_matches_the_integer_it_names(clinic: Twin) -> None:
    for months in (3, 12, 12):
        assert (await new_pet(clinic, ageMonths=months))[0] == 201
    status, body = await clinic.call("GET", f"{BASE}/v1/pets?ageMonths=12", headers=as_(clinic, "babil-vet"))
    assert status == 200 and [p["ageMonths"] for p in body["pets"]] == [12, 12]
    status, body = await clinic.call("GET", f"{BASE}/v1/pets?ageMonths=3&ageMonths=12.0", headers=as_(clinic, "babil-vet"))
    assert status == 200 and body["paging"]["totalRowCount"] == 3


async def test_a_route_naming_no_record_answers_the_callers_own_latest(clinic: Twin) -> None:
    status, body = await clinic.call("GET", f"{BASE}/v1/mypet", headers=as_(clinic, "babil-vet"))
    assert status == 404 and body["message"] == "errMsg_petNotFound"
    await new_pet(clinic, name="First")
    _, second = await new_pet(clinic, name="Second")
    status, body = await clinic.call("GET", f"{BASE}/v1/mypet", headers=as_(clinic, "babil-vet"))
    assert status == 200 and body["pet"]["id"] == second["pet"]["id"]
    assert (await clinic.call("GET", f"{BASE}/v1/mypet", headers=as_(clinic, "babil-receptionist")))[0] == 404


async def test_a_path_naming_a_record_and_its_parent_needs_both_to_match(clinic: Twin) -> None:
    appointment, pet = await a_babil_visit(clinic)
    headers = as_(clinic, "babil-vet")
    _, other = await new_pet(clinic, name="Other")
    status, body = await clinic.call("DELETE", f"{BASE}/v1/pets/{other['pet']['id']}/appointments/{appointment}", headers=headers)
    assert status == 404 and body["message"] == "errMsg_appointmentNotFound"
    status, body = await clinic.call("DELETE", f"{BASE}/v1/pets/{pet}/appointments/{appointment}", headers=headers)
    assert status == 200 and body["appointment"]["id"] == appointment and body["appointment"]["isActive"] is False


async def test_objects_no_api_creates_are_seeded_in_every_tenant(clinic: Twin) -> None:
    status, babil = await clinic.call("GET", f"{BASE}/v1/vaccinations", headers=as_(clinic, "babil-vet"))
    _, acme = await clinic.call("GET", f"{BASE}/v1/vaccinations", headers=as_(clinic, "acme-vet", tenant="acme"))
    assert status == 200 and (len(babil["vaccinations"]), len(acme["vaccinations"])) == (3, 2)
    one = babil["vaccinations"][0]
    assert one["vaccine"] and is_datetime(one["givenAt"]) and one["clinicId"] == clinic.persona("vetclinic", "babil-vet")["companyId"]
    status, body = await clinic.call("GET", f"{BASE}/v1/vaccinations/{one['id']}", headers=as_(clinic, "babil-vet"))
    assert status == 200 and body["vaccination"] == one
    pets = (await (await clinic.client.get("/__twin/state")).json())["services"]["vetclinic-appointmentmanagement"]["objects"]["pet"]
    assert pets == []  # objects an API creates start empty


async def test_a_reset_seeds_the_same_records_again(clinic: Twin) -> None:
    _, before = await clinic.call("GET", f"{BASE}/v1/vaccinations", headers=as_(clinic, "babil-vet"))
    state = await (await clinic.client.get("/__twin/state")).json()
    state["services"]["vetclinic-appointmentmanagement"]["objects"]["vaccination"] = []
    assert (await clinic.client.put("/__twin/state", json=state)).status == 200
    assert (await clinic.call("POST", "/__twin/reset", json={}))[0] == 200
    _, after = await clinic.call("GET", f"{BASE}/v1/vaccinations", headers=as_(clinic, "babil-vet"))
    stamps = ("createdAt", "updatedAt")  # the moment of seeding: the clock has moved on
    assert [{k: v for k, v in r.items() if k not in stamps} for r in after["vaccinations"]] == \
        [{k: v for k, v in r.items() if k not in stamps} for r in before["vaccinations"]]
    assert len(after["vaccinations"]) == 3


@pytest.mark.parametrize("value", ["9999-12-31", "$leq-9999-12-31", "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00+01:00"])
async def test_a_date_filter_at_the_ends_of_the_calendar_is_answered(clinic: Twin, value: str) -> None:
    await a_babil_appointment(clinic)  # scheduled 2027-01-05: inside no range below but $leq-9999-12-31
    status, body = await clinic.call("GET", f"{BASE}/v1/appointments", params={"scheduledAt": value},
                                     headers=as_(clinic, "babil-vet"))
    assert status == 200 and body["paging"]["totalRowCount"] == (1 if value.startswith("$leq") else 0)


async def test_a_saved_state_replaces_the_seeded_records(clinic: Twin) -> None:
    state = await (await clinic.client.get("/__twin/state")).json()
    assert (await clinic.client.put("/__twin/state", json=state)).status == 200
    _, babil = await clinic.call("GET", f"{BASE}/v1/vaccinations", headers=as_(clinic, "babil-vet"))
    assert len(babil["vaccinations"]) == 3  # restored once, not seeded again beside them
    state["services"]["vetclinic-appointmentmanagement"]["objects"]["vaccination"] = []
    assert (await clinic.client.put("/__twin/state", json=state)).status == 200
    _, babil = await clinic.call("GET", f"{BASE}/v1/vaccinations", headers=as_(clinic, "babil-vet"))
    assert babil["vaccinations"] == []
