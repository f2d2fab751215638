"""`twin serve --state-file`: an acknowledged write survives the twin being killed, and a file that
is not a twin state is refused at start, named, and left as it was.

The crash tests run the real `twin serve` in a subprocess and kill it with SIGKILL (or stop it with
SIGTERM); the finer points run the app in-process and restart it on the same file.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from twin_process import ROOT, TWIN, free_port, twin_serve
from twin_testing import TUTORHUB

from mockserver.persistence import StateWriteError

BASE = "/enrollmentmanagement-api/v1"
ADMIN = ("tutorhub", "admin")
STRIPE_KEY = "sk_test_durable"


def payment(n: int) -> dict[str, Any]:
    return {"orderId": f"5d8a1f5c-8f0e-4c5a-9f43-{n:012d}", "paymentId": f"pi_durable{n}",
            "paymentStatus": "succeeded", "statusLiteral": "paid"}


class Served:
    """A `twin serve` subprocess and a small JSON client for it."""

    def __init__(self, process: subprocess.Popen[bytes], url: str) -> None:
        self.process = process
        self.url = url
        self.tokens: dict[tuple[str, str], str] = {}

    def call(self, method: str, path: str, body: Any = None, *, as_: tuple[str, str] | None = None,
             form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        all_headers = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        if as_ is not None:
            all_headers["Authorization"] = f"Bearer {self.token(*as_)}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def token(self, project: str, persona: str) -> str:
        if (project, persona) not in self.tokens:
            _, body = self.call("POST", "/__twin/login", {"project": project, "persona": persona})
            self.tokens[(project, persona)] = body["token"]
        return self.tokens[(project, persona)]

    def stripe(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, Any]:
        return self.call(method, "/stripe" + path, form=form, headers={"Authorization": f"Bearer {STRIPE_KEY}"})


@contextmanager
def serve(state_file: Path, *extra: str, stop: signal.Signals = signal.SIGTERM) -> Iterator[Served]:
    """`twin serve --state-file` on the tutorhub spec until the block ends, then `stop` it."""
    with twin_serve("--spec", str(TUTORHUB), "--state-file", str(state_file), *extra, stop=stop) as twin:
        yield Served(twin.process, twin.url)


def refused(state_file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `twin serve` on a state file expected to be refused: it must exit at once."""
    return subprocess.run([str(TWIN), "serve", "--port", str(free_port()), "--spec", str(TUTORHUB),
                           "--state-file", str(state_file), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def create(twin: Served, n: int) -> dict[str, Any]:
    status, body = twin.call("POST", f"{BASE}/enrollmentpayment", payment(n), as_=ADMIN)
    assert status == 201, body
    return dict(body["sys_enrollmentPayment"])


def create_thirty(twin: Served) -> list[dict[str, Any]]:
    return [create(twin, n) for n in range(30)]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 300) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` s. A busy machine may be
    slow to get there, never wrong: so the deadline is generous and the wait ends as soon as it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.05)


def wal_generation(wal: Path) -> bytes:
    """The WAL header's checkpoint sequence number and salts (bytes 12-23, SQLite's file format,
    "WAL file format"): SQLite changes them when it starts the WAL afresh, which it does with the
    first commit after a checkpoint has copied every frame into the database."""
    with wal.open("rb") as handle:
        return handle.read(24)[12:]


def assert_all_there(twin: Served, created: list[dict[str, Any]]) -> None:
    found = [twin.call("GET", f"{BASE}/enrollmentpayment/{record['id']}", as_=ADMIN) for record in created]
    assert [status for status, _ in found].count(200) == len(created)
    assert [body["sys_enrollmentPayment"] for _, body in found] == created


# -- crashes ----------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
async def test_thirty_acknowledged_creates_survive_the_twin_being_stopped(tmp_path: Path, stop: signal.Signals,
                                                                          make_twin: Any) -> None:
    state = tmp_path / "twin.db"
    with serve(state, stop=stop) as twin:
        created = create_thirty(twin)
    assert twin.process.returncode == (-signal.SIGKILL if stop == signal.SIGKILL else 0)
    with serve(state) as again:
        assert_all_there(again, created)
        # The id sequence and record versions go on where they were.
        status, body = again.call("POST", f"{BASE}/enrollmentpayment", payment(30), as_=ADMIN)
        assert status == 201
        next_id = body["sys_enrollmentPayment"]["id"]
        status, updated = again.call("PATCH", f"{BASE}/enrollmentpayment/{created[0]['id']}",
                                     {"paymentStatus": "failed"}, as_=ADMIN)
        assert status == 200 and updated["sys_enrollmentPayment"]["recordVersion"] == created[0]["recordVersion"] + 1
    # A twin of the same seed that never stopped hands out the same 31 ids.
    unstopped = await make_twin(TUTORHUB)
    ids = [(await unstopped.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment(n)))[1]
           ["sys_enrollmentPayment"]["id"] for n in range(31)]
    assert ids == [r["id"] for r in created] + [next_id]


@pytest.mark.slow
def test_a_kill_in_the_middle_of_concurrent_writes_loses_no_acknowledged_one(tmp_path: Path) -> None:
    import threading

    state = tmp_path / "twin.db"
    acknowledged: list[str] = []
    with serve(state, stop=signal.SIGKILL) as twin:
        twin.token(*ADMIN)
        stop = threading.Event()

        def write(worker: int) -> None:
            n = 0
            while not stop.is_set():
                try:
                    status, body = twin.call("POST", f"{BASE}/enrollmentpayment", payment(worker * 100_000 + n),
                                             as_=ADMIN)
                except OSError:  # the twin was killed under this request: not acknowledged
                    return
                if status == 201:
                    acknowledged.append(body["sys_enrollmentPayment"]["id"])
                n += 1

        writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for writer in writers:
            writer.start()
        wait_for(lambda: len(acknowledged) >= 100, "100 acknowledged creates")
        twin.process.kill()  # while the writers keep sending
        twin.process.wait()
        stop.set()
        for writer in writers:
            writer.join()
    with serve(state) as again:
        _, exported = again.call("GET", "/__twin/state")
        objects = exported["services"]["tutorhub-enrollmentmanagement"]["objects"]
        assert set(acknowledged) <= {r["id"] for r in objects["sys_enrollmentPayment"]}


@pytest.mark.slow
def test_writes_survive_kill_9_after_the_wal_was_checkpointed_while_serving(tmp_path: Path) -> None:
    state = tmp_path / "twin.db"
    wal = tmp_path / "twin.db-wal"
    with serve(state, stop=signal.SIGKILL) as twin:
        generation, size = wal_generation(wal), state.stat().st_size
        # Past the WAL size at which the twin checkpoints in the background (the import commits in
        # a few steps: it lets other requests in every 2000 records).
        rows = [{**payment(n), "paymentId": f"pi_bulk{n}-" + "x" * 200} for n in range(12000)]
        status, _ = twin.call("POST", "/__twin/records/tutorhub-enrollmentmanagement/sys_enrollmentPayment",
                              {"records": rows})
        assert status == 200
        # The checkpoint runs when the twin gets to it (at once on a quiet machine, later on a busy
        # one); the first commit after it has finished starts the WAL afresh. Write until one has:
        # every write is acknowledged, so every one must survive.
        created: list[dict[str, Any]] = []
        deadline = time.monotonic() + 300
        while wal_generation(wal) == generation:
            assert time.monotonic() < deadline, "waited 300 s for the twin to checkpoint its WAL"
            created.append(create(twin, 100_000 + len(created)))
            time.sleep(0.05)
        assert state.stat().st_size > size  # the checkpoint copied the WAL into the database file
        created += create_thirty(twin)  # written into the restarted WAL, over its old frames
    with serve(state) as again:
        assert_all_there(again, created)
        _, services = again.call("GET", "/__twin/services")
        assert services["services"][0]["objects"]["sys_enrollmentPayment"] == 12000 + len(created)


@pytest.mark.slow
def test_clock_endpoints_stripe_objects_and_fixture_changes_survive_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "twin.db"
    with serve(state, stop=signal.SIGKILL) as twin:
        _, clock = twin.call("POST", "/__twin/clock", {"set": "2031-05-06T07:08:09.123Z"})
        _, endpoint = twin.call("POST", "/__twin/stripe/webhook_endpoints",
                                {"url": "http://127.0.0.1:9/hooks", "events": ["customer.created"]})
        _, customer = twin.stripe("POST", "/v1/customers", {"email": "ada@example.com", "name": "Ada"})
        status, intent = twin.stripe("POST", "/v1/payment_intents", {
            "amount": "4200", "currency": "usd", "customer": customer["id"], "payment_method": "pm_card_visa",
            "confirm": "true"})
        assert status == 200 and intent["status"] == "succeeded"
        _, slots = twin.call("GET", "/__twin/fixtures/tutorhub/lessonSlot")
        slot = slots["records"][0]
        status, _ = twin.call("PATCH", f"/__twin/fixtures/tutorhub/lessonSlot/{slot['id']}", {"status": "completed"})
        assert status == 200
        _, events = twin.call("GET", "/__twin/stripe/events")
    with serve(state) as again:
        assert again.call("GET", "/__twin/clock")[1] == clock == {"now": "2031-05-06T07:08:09.123Z", "frozen": True}
        _, endpoints = again.call("GET", "/__twin/stripe/webhook_endpoints")
        assert endpoint in endpoints["endpoints"]
        assert again.stripe("GET", f"/v1/customers/{customer['id']}")[1] == customer
        status, kept = again.stripe("GET", f"/v1/payment_intents/{intent['id']}")
        assert status == 200 and kept["status"] == "succeeded" and kept["latest_charge"] == intent["latest_charge"]
        # The events are kept (their delivery log is not: it records one run's HTTP attempts).
        assert without_deliveries(again.call("GET", "/__twin/stripe/events")[1]) == without_deliveries(events)
        _, slots = again.call("GET", "/__twin/fixtures/tutorhub/lessonSlot")
        assert next(s for s in slots["records"] if s["id"] == slot["id"])["status"] == "completed"
        # New Stripe ids go on from where the sequence was, so none repeats.
        _, second = again.stripe("POST", "/v1/customers", {"email": "grace@example.com"})
        assert second["id"] != customer["id"]


def without_deliveries(listed: dict[str, Any]) -> list[dict[str, Any]]:
    # What is being delivered belongs to one run's HTTP attempts, not to the kept state.
    return [{k: v for k, v in event.items() if k not in ("deliveries", "pending_webhooks")} for event in listed["events"]]


# -- refusals -----------------------------------------------------------------------------------------
def assert_one_line_naming(result: subprocess.CompletedProcess[str], path: Path, problem: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(path) in lines[0] and problem in lines[0], lines[0]
    assert "serving" not in result.stdout


@pytest.mark.parametrize(("content", "problem"), [
    (b"{}", "is a JSON document, not a twin state database"),
    (b'{"clock": {}, "services": {}, "fixtures": {}}', "is a JSON state export"),
    (b"hello, world\n", "not an SQLite file"),
    (b"", "is empty"),
], ids=["empty-object", "json-export", "text", "zero-bytes"])
def test_a_file_that_is_not_a_twin_state_is_refused_and_left_as_it_was(tmp_path: Path, content: bytes,
                                                                          problem: str) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(content)
    result = refused(state)
    assert_one_line_naming(result, state, problem)
    assert state.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_an_unwritable_path_is_refused_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "twin.db"
    assert_one_line_naming(refused(missing), missing, "does not exist")
    under_a_file = tmp_path / "plain-file"
    under_a_file.write_text("x")
    assert_one_line_naming(refused(under_a_file / "twin.db"), under_a_file / "twin.db", "does not exist")
    assert_one_line_naming(refused(tmp_path), tmp_path, "is a folder")


def make_state(path: Path, records: int = 200) -> None:
    """A real state file with some records in it, written by the app in-process."""
    import asyncio

    from aiohttp.test_utils import TestClient, TestServer

    from mockserver.app import create_app

    async def fill() -> None:
        client = TestClient(TestServer(create_app([TUTORHUB], state_file=path)))
        await client.start_server()
        rows = [payment(n) for n in range(records)]
        response = await client.post("/__twin/records/tutorhub-enrollmentmanagement/sys_enrollmentPayment",
                                     json={"records": rows})
        assert response.status == 200
        await client.close()

    asyncio.run(fill())


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda data: data[: len(data) // 2], "is damaged"),
    (lambda data: data[:60], "is damaged"),
    (lambda data: data[:4096] + b"\xff" * 4096 + data[8192:], "is damaged"),
], ids=["truncated-half", "truncated-header", "overwritten-page"])
def test_a_damaged_state_database_is_refused_by_name(tmp_path: Path, damage: Any, problem: str) -> None:
    state = tmp_path / "twin.db"
    make_state(state)
    broken = damage(state.read_bytes())
    state.write_bytes(broken)
    assert_one_line_naming(refused(state), state, problem)
    assert state.read_bytes() == broken


def test_other_databases_newer_schemas_other_seeds_and_other_services_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text)")
    db.close()
    assert_one_line_naming(refused(other), other, "is an SQLite database but not a twin state")
    state = tmp_path / "twin.db"
    make_state(state, records=3)
    assert_one_line_naming(refused(state, "--seed", "7"), state, "was written with --seed 0, not 7")
    with sqlite3.connect(state) as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('services', ?)",
                   (b'{"acme-billing": {"project": "acme", "service": "billing"}}',))
    db.close()
    assert_one_line_naming(refused(state), state, "holds services this twin does not serve: acme-billing")
    with sqlite3.connect(state) as db:
        db.execute("PRAGMA user_version = 9")
    db.close()
    assert_one_line_naming(refused(state), state, "was written by a newer twin (state schema 9")


@pytest.mark.slow
def test_a_second_twin_on_the_same_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "twin.db"
    with serve(state) as twin:
        create_thirty(twin)
        assert_one_line_naming(refused(state), state, "is in use by another twin")


# -- in-process: what else is kept ------------------------------------------------------------------------
async def restart(make_twin: Any, twin: Any, state: Path) -> Any:
    await twin.client.close()
    return await make_twin(TUTORHUB, state_file=state)


async def test_put_state_and_reset_are_durable(tmp_path: Path, make_twin: Any) -> None:
    state = tmp_path / "twin.db"
    twin = await make_twin(TUTORHUB, state_file=state)
    for n in range(3):
        assert (await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment(n)))[0] == 201
    _, exported = await twin.call("GET", "/__twin/state")
    assert (await twin.call("POST", "/__twin/reset", json={}))[0] == 200
    twin = await restart(make_twin, twin, state)
    _, listed = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    assert listed["sys_enrollmentPayments"] == []
    assert (await twin.call("PUT", "/__twin/state", json=exported))[0] == 200
    twin = await restart(make_twin, twin, state)
    _, listed = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    stored = exported["services"]["tutorhub-enrollmentmanagement"]["objects"]["sys_enrollmentPayment"]
    assert sorted(r["id"] for r in listed["sys_enrollmentPayments"]) == sorted(r["id"] for r in stored)


async def test_a_request_that_stops_waiting_for_its_commit_does_not_cancel_the_others(tmp_path: Path,
                                                                                     make_twin: Any) -> None:
    import asyncio

    from mockserver.keys import KEEPER, WORLD

    state = tmp_path / "twin.db"
    twin = await make_twin(TUTORHUB, state_file=state)
    keeper = twin.app[KEEPER]
    table = twin.app[WORLD].services["tutorhub-enrollmentmanagement"].tables["sys_enrollmentPayment"]
    table.insert({"id": "kept-while-one-gave-up", "paymentId": "pi_kept", "isActive": True})
    given_up = asyncio.ensure_future(keeper.saved())
    waiting = asyncio.ensure_future(keeper.saved())
    await asyncio.sleep(0)  # both now wait for the same commit; one client goes away
    given_up.cancel()
    assert await waiting is None
    assert given_up.cancelled() and not keeper.pending()
    twin = await restart(make_twin, twin, state)
    kept = twin.app[WORLD].services["tutorhub-enrollmentmanagement"].tables["sys_enrollmentPayment"]
    assert kept.get("kept-while-one-gave-up") == {"id": "kept-while-one-gave-up", "paymentId": "pi_kept", "isActive": True}


async def test_soft_deletes_and_idempotent_stripe_answers_survive_a_restart(tmp_path: Path, make_twin: Any) -> None:
    state = tmp_path / "twin.db"
    twin = await make_twin(TUTORHUB, state_file=state)
    _, created = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment(1))
    record_id = created["sys_enrollmentPayment"]["id"]
    assert (await twin.call("DELETE", f"{BASE}/enrollmentpayment/{record_id}", as_=ADMIN))[0] == 200
    headers = {"Authorization": f"Bearer {STRIPE_KEY}", "Idempotency-Key": "order-17"}
    first = await twin.client.post("/stripe/v1/customers", data={"email": "a@example.com"}, headers=headers)
    customer = await first.json()
    twin = await restart(make_twin, twin, state)
    assert (await twin.call("GET", f"{BASE}/enrollmentpayment/{record_id}", as_=ADMIN))[0] == 404
    replay = await twin.client.post("/stripe/v1/customers", data={"email": "a@example.com"}, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true" and await replay.json() == customer
    _, listed = await twin.call("GET", "/__twin/stripe/state")
    assert [c["id"] for c in listed["customers"]] == [customer["id"]]


async def test_an_answer_whose_change_could_not_be_saved_is_not_a_success(tmp_path: Path, make_twin: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.keys import KEEPER

    state = tmp_path / "twin.db"
    twin = await make_twin(TUTORHUB, state_file=state)
    backend = twin.app[KEEPER].backend
    real_commit = backend.commit

    def full_disk(changes: Any) -> None:
        raise StateWriteError(f"state file {state}: could not save: database or disk is full")

    monkeypatch.setattr(backend, "commit", full_disk)
    status, body = await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment(1))
    assert status == 503 and body["message"] == "errMsg_stateNotSaved" and "disk is full" in body["detail"]
    monkeypatch.setattr(backend, "commit", real_commit)
    assert (await twin.call("GET", "/__twin/services"))[0] == 200  # the next answer saves what was pending
    twin = await restart(make_twin, twin, state)
    _, listed = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    assert [r["paymentId"] for r in listed["sys_enrollmentPayments"]] == ["pi_durable1"]


async def test_the_wal_is_checkpointed_once_it_passes_4_mib_and_again_only_after_4_mib_more(tmp_path: Path) -> None:
    from mockserver.persistence import Changes
    from mockserver.persistence.sqlite import CHECKPOINT_BYTES, SqliteBackend

    state, wal = tmp_path / "twin.db", tmp_path / "twin.db-wal"
    backend = SqliteBackend(state)

    def fill(table: str) -> None:  # one commit of a little more than CHECKPOINT_BYTES
        backend.commit(Changes(records=[(table, slot, b"x" * 800) for slot in range(CHECKPOINT_BYTES // 800)]))
        assert wal.stat().st_size > CHECKPOINT_BYTES

    try:
        fill("service:a:first")
        before = state.read_bytes()
        await backend.upkeep()
        checkpointed = state.read_bytes()
        assert len(checkpointed) > len(before) + CHECKPOINT_BYTES // 2
        # The next commit starts the WAL afresh; its file is cut back below the mark, so small
        # changes wait in the WAL instead of being copied on every upkeep.
        backend.commit(Changes(meta={"note": b"after the checkpoint"}))
        assert wal.stat().st_size < CHECKPOINT_BYTES
        await backend.upkeep()
        assert state.read_bytes() == checkpointed
        fill("service:a:second")
        await backend.upkeep()
        assert state.read_bytes() != checkpointed
    finally:
        backend.close()
    again = SqliteBackend(state)
    snapshot = again.load()
    again.close()
    assert snapshot is not None and snapshot.meta["note"] == b"after the checkpoint"
    assert [len(snapshot.records[t]) for t in ("service:a:first", "service:a:second")] == [CHECKPOINT_BYTES // 800] * 2


async def test_a_save_failing_for_an_unexpected_reason_answers_503_and_the_twin_goes_on_saving(
        tmp_path: Path, make_twin: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    from mockserver.keys import KEEPER

    state = tmp_path / "twin.db"
    twin = await make_twin(TUTORHUB, state_file=state)

    def broken(changes: Any) -> None:
        raise TypeError("Type is not JSON serializable: Decimal")

    monkeypatch.setattr(twin.app[KEEPER].backend, "commit", broken)
    # Bounded: before, the answer never came (the failed commit left its waiters waiting forever).
    status, body = await asyncio.wait_for(
        twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment(1)), timeout=60)
    assert status == 503 and body["message"] == "errMsg_stateNotSaved" and "TypeError" in body["detail"]
    assert "TypeError: Type is not JSON serializable" in caplog.text
    monkeypatch.undo()
    assert (await twin.call("POST", f"{BASE}/enrollmentpayment", as_=ADMIN, json=payment(2)))[0] == 201
    twin = await restart(make_twin, twin, state)
    _, listed = await twin.call("GET", f"{BASE}/enrollmentpayments", as_=ADMIN)
    assert sorted(r["paymentId"] for r in listed["sys_enrollmentPayments"]) == ["pi_durable1", "pi_durable2"]


async def test_a_checkout_payment_that_could_not_be_saved_does_not_send_the_buyer_to_the_success_url(
        tmp_path: Path, make_twin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.keys import KEEPER

    twin = await make_twin(TUTORHUB, state_file=tmp_path / "twin.db")

    async def new_session() -> str:
        response = await twin.client.post("/stripe/v1/checkout/sessions", headers={
            "Authorization": f"Bearer {STRIPE_KEY}"}, data={
            "mode": "payment", "success_url": "http://shop.test/paid", "cancel_url": "http://shop.test/cancel",
            "line_items[0][price_data][currency]": "usd", "line_items[0][price_data][unit_amount]": "2450",
            "line_items[0][price_data][product_data][name]": "Piano lesson", "line_items[0][quantity]": "1"})
        assert response.status == 200
        return str((await response.json())["id"])

    async def press(session_id: str, button: str) -> Any:
        return await twin.client.post(f"/stripe/checkout/{session_id}/{button}", data={"card": "visa"},
                                      allow_redirects=False)

    paying, declining, later = [await new_session() for _ in range(3)]

    def full_disk(changes: Any) -> None:
        raise StateWriteError("state file twin.db: could not save: database or disk is full")

    monkeypatch.setattr(twin.app[KEEPER].backend, "commit", full_disk)
    for session_id, button in ((paying, "pay"), (declining, "decline")):
        answer = await press(session_id, button)
        assert answer.status == 503 and "Location" not in answer.headers, button
        assert (await answer.json())["message"] == "errMsg_stateNotSaved"
    monkeypatch.undo()
    answer = await press(later, "pay")
    assert answer.status == 303 and answer.headers["Location"] == "http://shop.test/paid"


def test_without_a_state_file_tables_have_no_watcher() -> None:
    from mockserver.app import create_app
    from mockserver.keys import WORLD

    world = create_app([TUTORHUB])[WORLD]
    assert world.watcher is None
    assert all(t.watcher is None for s in world.services.values() for t in s.tables.values())


def test_the_state_file_is_an_ordinary_sqlite_database_in_wal_mode_marked_as_a_twin_state(tmp_path: Path) -> None:
    state = tmp_path / "twin.db"
    make_state(state, records=5)
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA application_id").fetchone()[0] == int.from_bytes(b"twin", "big")
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


async def test_sessions_and_changed_passwords_of_the_auth_api_survive_a_restart(tmp_path: Path, make_twin: Any) -> None:
    state = tmp_path / "twin.db"
    twin = await make_twin(TUTORHUB, state_file=state)
    student = twin.persona("tutorhub", "student1")
    host = {"Host": f"tutorhub.localhost:{twin.client.port}"}

    async def auth(method: str, path: str, body: dict[str, Any] | None = None,
                   token: str | None = None) -> tuple[int, Any]:
        headers = {**host, **({"Authorization": f"Bearer {token}"} if token else {})}
        twin.client.session.cookie_jar.clear()
        response = await twin.client.request(method, f"/auth-api{path}", json=body, headers=headers)
        return response.status, await response.json()

    _, session = await auth("POST", "/login", {"username": student["email"], "password": student["password"]})
    _, started = await auth("POST", "/verification-services/password-reset-by-email/start", {"email": student["email"]})
    status, _ = await auth("POST", "/verification-services/password-reset-by-email/complete",
                           {"email": student["email"], "secretCode": started["secretCode"], "password": "New-secret-2"})
    assert status == 200
    twin = await restart(make_twin, twin, state)
    host["Host"] = f"tutorhub.localhost:{twin.client.port}"
    status, current = await auth("GET", "/currentuser", token=session["accessToken"])
    assert status == 200 and current["sessionId"] == session["sessionId"], current
    assert (await auth("POST", "/login", {"username": student["email"], "password": "New-secret-2"}))[0] == 200
    assert (await auth("POST", "/login", {"username": student["email"], "password": student["password"]}))[0] == 401


async def test_a_login_after_a_restart_gets_a_new_session_id_not_that_of_a_kept_session(tmp_path: Path,
                                                                                     make_twin: Any) -> None:
    state = tmp_path / "twin.db"

    async def auth(twin: Any, method: str, path: str, body: dict[str, Any] | None = None,
                   token: str | None = None) -> tuple[int, Any]:
        headers = {"Host": f"tutorhub.localhost:{twin.client.port}",
                   **({"Authorization": f"Bearer {token}"} if token else {})}
        twin.client.session.cookie_jar.clear()
        response = await twin.client.request(method, f"/auth-api{path}", json=body, headers=headers)
        return response.status, await response.json()

    async def login(twin: Any, persona: str) -> Any:
        who = twin.persona("tutorhub", persona)
        status, session = await auth(twin, "POST", "/login", {"username": who["email"], "password": who["password"]})
        assert status == 200, session
        return session

    twin = await make_twin(TUTORHUB, state_file=state)
    kept = await login(twin, "student1")
    ended = await login(twin, "admin")
    assert (await auth(twin, "POST", "/logout", token=ended["accessToken"]))[0] == 200
    twin = await restart(make_twin, twin, state)
    new = await login(twin, "admin")
    assert new["sessionId"] not in (kept["sessionId"], ended["sessionId"])
    assert (await auth(twin, "POST", "/logout", token=new["accessToken"]))[0] == 200
    status, current = await auth(twin, "GET", "/currentuser", token=kept["accessToken"])
    assert status == 200 and current["sessionId"] == kept["sessionId"] and current["email"] == kept["email"]
    assert (await auth(twin, "GET", "/currentuser", token=ended["accessToken"]))[0] == 401
    # The ids go on as in a twin that never stopped.
    unstopped = await make_twin(TUTORHUB)
    ids = [(await login(unstopped, name))["sessionId"] for name in ("student1", "admin", "admin")]
    assert ids == [kept["sessionId"], ended["sessionId"], new["sessionId"]]
