"""The specs as a Python team uses them: openapi-python-client generates a client per service with
no warning, every operation gets a typed answer, and the generated client drives a running twin
through create, list with a filter, get, update, delete and a card payment, each answer parsed
into the generated models with no key left undeclared."""

from __future__ import annotations

import asyncio
import enum
import importlib
import inspect
import os
import re
import subprocess
import sys
import threading
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import unused_port
from codegen_testing import ROOT, SHARED_MD, spec_paths

from mockserver.app import create_app
from mockserver.settings import Settings

SPECS = sorted((ROOT / "specs" / "openapi").glob("*.yaml"))

pytestmark = pytest.mark.slow


def package_name(spec: Path) -> str:
    return spec.stem.replace("-", "_") + "_client"


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Each committed spec's generated client package (its directory) and the generator's output."""
    out = tmp_path_factory.mktemp("clients")
    specs = spec_paths(tmp_path_factory.mktemp("specs"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    made = {}
    for spec in specs:
        target = out / package_name(spec)
        result = subprocess.run(
            [str(Path(sys.executable).parent / "openapi-python-client"), "generate", "--path", str(spec),
             "--output-path", str(target), "--meta", "none"], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        made[spec.stem] = (target, result.stdout + result.stderr, spec)
    sys.path.insert(0, str(out))
    yield made
    sys.path.remove(str(out))


def operations(spec: Path) -> list[dict[str, Any]]:
    doc = yaml.safe_load(spec.read_text(encoding="utf-8"))
    return [op for item in doc["paths"].values() for op in item.values()]


def squash(name: str) -> str:
    """A name with case and separators dropped: how an operationId and its module name compare
    (the generator prefixes `field_` to a name starting with `_`)."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"^field_", "", name).lower())


def test_the_generator_reports_no_warning(clients: dict[str, tuple[Path, str, Path]]) -> None:
    for slug, (_, output, _) in clients.items():
        assert "warning" not in output.lower(), f"{slug}:\n{output}"


def test_every_operation_gets_a_typed_answer(clients: dict[str, tuple[Path, str, Path]]) -> None:
    typed = total = 0
    for spec in SPECS:
        package, _, _ = clients[spec.stem]
        modules = {squash(p.stem): p for p in package.glob("api/*/*.py") if p.stem != "__init__"}
        for op in operations(spec):
            total += 1
            source = modules[squash(op["operationId"])].read_text(encoding="utf-8")
            if typed_answer(source, op):
                typed += 1
    assert (typed, total) == (70, 70)


def test_other_projects_operations_get_typed_answers(clients: dict[str, tuple[Path, str, Path]]) -> None:
    if not SHARED_MD.is_dir():
        pytest.skip(f"{SHARED_MD} is absent: no other project's guides to build")
    others = {slug: made for slug, made in clients.items() if made[2].parent != SPECS[0].parent}
    assert others
    for slug, (package, _, spec) in others.items():
        modules = {squash(p.stem): p for p in package.glob("api/*/*.py") if p.stem != "__init__"}
        ops = operations(spec)
        typed = [op["operationId"] for op in ops
                 if typed_answer(modules[squash(op["operationId"])].read_text(encoding="utf-8"), op)]
        assert len(typed) == len(ops), f"{slug}: untyped {sorted({o['operationId'] for o in ops} - set(typed))}"


def typed_answer(source: str, op: dict[str, Any]) -> bool:
    """Whether a generated operation module parses the success status into its own answer model."""
    status = op["x-twin-status"]
    model = squash(op["operationId"]) + f"response{status}"
    parsed = re.search(rf"if response\.status_code == {status}:\s+response_{status} = (\w+)\.from_dict\(", source)
    return bool(parsed) and squash(parsed.group(1)).removeprefix("field") == model.removeprefix("field")


# -- the flow against a running twin ---------------------------------------------------------
@pytest.fixture(scope="module")
def twin_url() -> Iterator[str]:
    """All committed specs served on a free port, in a thread with its own event loop."""
    port = unused_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(None, settings=Settings(public_url=url))
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(60)
    yield url
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


class Generated:
    """One generated client package, called by operationId with plain values (converted to its models)."""

    def __init__(self, spec: Path, base_url: str, token: str) -> None:
        self.spec = yaml.safe_load(spec.read_text(encoding="utf-8"))
        self.name = package_name(spec)
        client_module = importlib.import_module(f"{self.name}.client")
        self.client = client_module.AuthenticatedClient(base_url=base_url + self.spec["x-twin-base-path"], token=token)
        root = Path(importlib.import_module(self.name).__file__).parent
        self.modules = {squash(p.stem): f"{self.name}.api.{p.parent.name}.{p.stem}"
                        for p in root.glob("api/*/*.py") if p.stem != "__init__"}
        self.ops = {op["operationId"]: op for item in self.spec["paths"].values() for op in item.values()}

    def call(self, api: str, **values: Any) -> Any:
        """Call `api` (plain values by the spec's names); returns the parsed answer, checked typed."""
        module = importlib.import_module(self.modules[squash(api)])
        hints = typing.get_type_hints(module.sync_detailed)
        names = {squash(name): name for name in inspect.signature(module.sync_detailed).parameters}
        kwargs = {names[squash(k)]: convert(v, hints[names[squash(k)]]) for k, v in values.items()}
        response = module.sync_detailed(client=self.client, **kwargs)
        status = self.ops[api]["x-twin-status"]
        assert response.status_code == status, f"{api}: {response.status_code} {response.content[:300]!r}"
        parsed = response.parsed
        assert type(parsed).__name__ == f"{api[:1].upper()}{api[1:]}Response{status}", type(parsed)
        raw = httpx.Response(status, content=response.content).json()
        # Every key the twin sent is a declared, typed attribute: none is left in additional_properties.
        assert set(parsed.to_dict()) == set(raw) and parsed.additional_properties == {}, \
            set(raw) ^ set(parsed.to_dict())
        resource = getattr(parsed, snake(self.ops[api]["x-twin-data-name"]))
        item = resource[0] if isinstance(resource, list) and resource else resource
        if hasattr(item, "additional_properties"):
            assert item.additional_properties == {}, f"{api}: undeclared keys {sorted(item.additional_properties)}"
        return parsed, raw


def snake(name: str) -> str:
    """openapi-python-client's attribute name for a JSON key."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().lstrip("_")


def convert(value: Any, hint: Any) -> Any:
    """A plain JSON value as the generated signature wants it (models, enums, lists of them)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is type(None) or getattr(arg, "__name__", "") == "Unset":
                continue
            try:
                return convert(value, arg)
            except (TypeError, ValueError, KeyError, AttributeError):
                continue
        return value
    if origin is list:
        (arg,) = typing.get_args(hint) or (Any,)
        return [convert(v, arg) for v in (value if isinstance(value, list) else [value])]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if isinstance(hint, type) and hasattr(hint, "from_dict") and isinstance(value, dict):
        return hint.from_dict(value)
    if hint in (str, int, float, bool) and not isinstance(value, hint):
        raise TypeError(hint)
    return value


def login(base_url: str, project: str, persona: str) -> str:
    answer = httpx.post(f"{base_url}/__twin/login", json={"project": project, "persona": persona}).json()
    return answer["token"]


def fixtures(base_url: str, project: str, name: str) -> list[dict[str, Any]]:
    return httpx.get(f"{base_url}/__twin/fixtures/{project}/{name}").json()["records"]


def crud_flow(client: Generated, data_object: str, **scope: Any) -> None:
    """create → list filtered by the new record's value → get → update → delete, on `data_object`."""
    ops = {op["x-twin-default-api"]: op for op in client.ops.values()
           if op.get("x-twin-data-object") == data_object and op.get("x-twin-default-api")}
    create = ops["create"]
    body = create["requestBody"]["content"]["application/json"]["example"]
    _, raw = client.call(create["operationId"], body=body, **scope)
    record = raw[create["x-twin-data-name"]]
    key = next(p["name"] for p in ops["get"]["parameters"] if p.get("in") == "path")
    listing = ops["list"]
    flt = next(p for p in listing["parameters"] if "x-twin-filter" in p and isinstance(record.get(p["name"]), str))
    _, listed = client.call(listing["operationId"], **{flt["name"]: [record[flt["name"]]]}, **scope)
    assert [r["id"] for r in listed[listing["x-twin-data-name"]]] == [record["id"]]
    assert listed["filters"] == [{"name": flt["name"], "values": [record[flt["name"]]]}]
    _, got = client.call(ops["get"]["operationId"], **{key: record["id"]}, **scope)
    assert got[ops["get"]["x-twin-data-name"]]["id"] == record["id"]
    update = ops["update"]["requestBody"]["content"]["application/json"]["example"]
    _, updated = client.call(ops["update"]["operationId"], **{key: record["id"]}, body=update, **scope)
    # an update raises the version only when it changes a value (the example may repeat the create's)
    changed = any(record.get(name) != value for name, value in update.items())
    assert updated[ops["update"]["x-twin-data-name"]]["recordVersion"] == (2 if changed else 1)
    client.call(ops["delete"]["operationId"], **{key: record["id"]}, **scope)


def pay(client: Generated, api: str, order_key: str, order_id: str, **scope: Any) -> dict[str, Any]:
    parsed, raw = client.call(api, **{order_key: order_id}, body={"paymentUserParams": {"paymentMethodId": "pm_card_visa"}},
                              **scope)
    assert parsed.payment_result.success is True and raw["paymentResult"]["paymentStatus"] == "succeeded"
    return raw


def test_tutorhub_flow_with_the_generated_client(clients: Any, twin_url: str) -> None:
    spec = ROOT / "specs" / "openapi" / "tutorhub-enrollmentmanagement.yaml"
    admin = Generated(spec, twin_url, login(twin_url, "tutorhub", "admin"))
    crud_flow(admin, "sys_enrollmentPayment")
    student = Generated(spec, twin_url, login(twin_url, "tutorhub", "student1"))
    pack = fixtures(twin_url, "tutorhub", "coursePack")[0]
    slots = [s["id"] for s in fixtures(twin_url, "tutorhub", "lessonSlot") if s["coursePackId"] == pack["id"]][:2]
    _, created = student.call("createEnrollment", body={
        "coursePackId": pack["id"], "tutorProfileId": pack["tutorProfileId"], "lessonSlotIds": slots,
        "totalAmount": pack["price"], "currency": "USD", "refundStatus": "notRequested"})
    pay(student, "startEnrollmentPayment", "enrollmentId", created["enrollment"]["id"])


def test_airbnb_flow_with_the_generated_client(clients: Any, twin_url: str) -> None:
    spec = ROOT / "specs" / "openapi" / "airbnb-bookingmanagement.yaml"
    admin = Generated(spec, twin_url, login(twin_url, "airbnb", "admin"))
    crud_flow(admin, "sys_reservationPayment")
    guest = Generated(spec, twin_url, login(twin_url, "airbnb", "guest1"))
    listing = next(x for x in fixtures(twin_url, "airbnb", "listing") if x.get("approvalType") == "instant")
    nights = 2
    _, created = guest.call("createReservation", body={
        "listingId": listing["id"], "hostId": listing["hostId"], "approvalType": "instant", "bookingStatus": "pending",
        "checkIn": "2031-03-02T00:00:00.000Z", "checkOut": "2031-03-04T00:00:00.000Z", "currency": "USD",
        "guestCount": 1, "totalPrice": round(float(listing.get("pricePerNight") or 100) * nights, 2),
        "disputeStatus": "none", "bookingPoliciesSnapshot": {"checkInFrom": "15:00"},
        "cancellationPolicySnapshot": {"policy": "flexible"}})
    pay(guest, "startReservationPayment", "reservationId", created["reservation"]["id"])


def test_workforceos_flow_with_the_generated_client(clients: Any, twin_url: str) -> None:
    spec = ROOT / "specs" / "openapi" / "workforceos-subscriptionmanagement.yaml"
    tenant = {"mbx-company-codename": "babil"}
    platform = Generated(spec, twin_url, login(twin_url, "workforceos", "superadmin"))
    crud_flow(platform, "sys_companySubscriptionPayment", **tenant)
    owner = Generated(spec, twin_url, login(twin_url, "workforceos", "babil-owner"))
    example = owner.ops["createCompanySubscription"]["requestBody"]["content"]["application/json"]["example"]
    parsed, created = owner.call("createCompanySubscription", body=example, **tenant)
    # The hosted checkout the frontend redirects to is a typed, declared key of the answer.
    assert parsed.checkout_url == created["checkoutUrl"] and created["checkoutUrl"].startswith("http")
    pay(owner, "startCompanySubscriptionPayment", "companySubscriptionId", created["companySubscription"]["id"], **tenant)
