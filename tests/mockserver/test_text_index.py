"""Partial-match filters answered through the trigram text index give exactly the scan's answers.

The reference is the filter's own record-level predicate (the case-insensitive substring test a
scan applies to every record). Data and needles are seeded-random and mix ASCII, Turkish letters
(İ ı I i Ş ş Ğ ğ), other letters whose lowercase changes length or shape (ẞ ß Σ ς), numbers,
booleans, objects, arrays and unset values; every kind of write — insert, update, soft delete,
re-activation, clear, state restore — must keep the index current.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from twin_testing import TUTORHUB

from mockserver.filters import Condition, exact, partial, select
from mockserver.specindex import load_service
from mockserver.store import Table
from mockserver.textindex import TextIndex
from mockserver.world import World

ALPHABET = "abcıiIİşŞğĞçÇöÖüÜßẞΣσςkK_- 0123"
OWNERS = ["o1", "o2", "o3"]


def random_value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.12:
        return rng.randrange(-50, 500)
    if roll < 0.14:
        return rng.choice([True, False])
    if roll < 0.17:
        return {"k": random_text(rng)}
    if roll < 0.20:
        return [random_text(rng) for _ in range(rng.randrange(3))]
    return random_text(rng)


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 9)))


def random_needle(rng: random.Random, values: list[Any]) -> str:
    """Mostly a piece of a stored value, in a random case; sometimes anything."""
    texts = [v for v in values if isinstance(v, str) and v]
    if texts and rng.random() < 0.7:
        text = rng.choice(texts)
        start = rng.randrange(len(text))
        piece = text[start:start + rng.randrange(1, 6)]
        return rng.choice([piece, piece.upper(), piece.lower(), piece.swapcase(), piece.casefold()])
    return random_text(rng)[: rng.randrange(0, 5)]


def record(rng: random.Random, rid: str) -> dict[str, Any]:
    return {"id": rid, "ownerId": rng.choice(OWNERS), "name": random_value(rng), "isActive": True}


def scan(table: Table, conditions: list[Condition]) -> list[str]:
    """The reference: every active record checked with the conditions' record-level predicates."""
    return [r["id"] for r in table.scan() if all(c.predicate(r) for c in conditions)]


def assert_like_scan(table: Table, rng: random.Random, rounds: int = 40) -> None:
    values = [r.get("name") for r in table.records()]
    for _ in range(rounds):
        needles = [random_needle(rng, values) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        if rng.random() < 0.1:
            needles.append("null")
        conditions = [partial("name", needles)]
        if rng.random() < 0.3:
            conditions.append(exact("ownerId", [rng.choice(OWNERS)]))
        expected = scan(table, conditions)
        total, window = select(table, conditions, 0, None)
        assert [r["id"] for r in window] == expected, needles
        assert total == len(expected)
        offset = rng.randrange(0, 5)
        total, page = select(table, conditions, offset, 3)
        assert (total, [r["id"] for r in page]) == (len(expected), expected[offset:offset + 3]), needles


@pytest.fixture(params=["index declared up front", "index built on first search"])
def table(request: pytest.FixtureRequest) -> Table:
    if request.param == "index declared up front":
        return Table("thing", ["ownerId"], searched=["name"])
    return Table("thing", ["ownerId"])


@pytest.mark.parametrize("seed", range(6))
def test_the_index_answers_like_the_scan_on_random_data(table: Table, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(rng.choice([30, 300])):
        table.insert(record(rng, f"r{i}"))
    assert_like_scan(table, rng)


@pytest.mark.parametrize("seed", range(4))
def test_every_kind_of_write_keeps_the_index_current(table: Table, seed: int) -> None:
    rng = random.Random(100 + seed)
    next_id = 0
    for _ in range(8):
        for _ in range(60):
            ids = list(table.rows)
            action = rng.random()
            if action < 0.4 or not ids:
                table.insert(record(rng, f"r{next_id}"))
                next_id += 1
            elif action < 0.7:
                current = table.get(rng.choice(ids), include_inactive=True)
                assert current is not None
                table.replace({**current, "name": random_value(rng)})
            elif action < 0.85:
                current = table.get(rng.choice(ids), include_inactive=True)
                assert current is not None
                table.replace({**current, "isActive": not current["isActive"]})
            else:
                current = table.get(rng.choice(ids), include_inactive=True)
                assert current is not None
                table.insert({**current, "name": random_value(rng)})  # an id already stored replaces
        assert_like_scan(table, rng, rounds=15)
    table.clear()
    assert select(table, [partial("name", ["a"])]) == (0, [])
    table.insert({"id": "again", "ownerId": "o1", "name": "Istanbul"})
    assert [r["id"] for r in select(table, [partial("name", ["tanb"])])[1]] == ["again"]


def test_many_updates_of_unique_values_leave_the_answers_right() -> None:
    """Old texts pile up as values change; the index drops them (compacts) and stays exact."""
    rng = random.Random(7)
    table = Table("thing", searched=["name"])
    for i in range(50):
        table.insert({"id": f"r{i}", "name": f"v{i}"})
    for step in range(3000):
        rid = f"r{rng.randrange(50)}"
        table.replace({"id": rid, "name": f"u{step}x{rid}", "isActive": rng.random() < 0.9})
    index = table._texts["name"]
    assert len(index.strings) <= 2 * index.codes.__len__() + 1024 + 1
    assert_like_scan(table, rng)
    assert select(table, [partial("name", ["U2999X"])])[0] == 1


@pytest.mark.parametrize(
    ("stored", "needle", "matches"),
    [
        ("İstanbul", "İST", True),      # İ lowers to "i̇" (i + combining dot) on both sides
        ("İstanbul", "ist", False),     # … so a plain "ist" is not in "i̇stanbul", as in the scan
        ("ISTANBUL", "ist", True),      # I lowers to i
        ("ıspanak", "ISP", False),      # ı stays ı; I lowers to i: they differ, as in the scan
        ("ıspanak", "ısp", True),
        ("Straße", "STRASSE", False),   # lower(), not casefold(): ß is not ss
        ("ΣΟΦΟΣ", "σοφοσ", False),      # a final Σ lowers to ς (str.lower() knows word ends) …
        ("ΣΟΦΟΣ", "ΣΟΦΟΣ", True),       # … on both sides
        ("ΣΟΦΟΣ", "σοφ", True),
        ("ab", "b", True),              # shorter than a trigram
        ("", "", True),
    ],
)
def test_case_folding_is_str_lower_exactly(stored: str, needle: str, matches: bool) -> None:
    table = Table("thing", searched=["name"])
    table.insert({"id": "r1", "name": stored})
    condition = partial("name", [needle])
    assert condition.predicate({"name": stored}) is matches
    assert select(table, [condition])[0] == int(matches)


def test_a_search_matching_most_values_is_answered_in_one_pass_and_alike() -> None:
    table = Table("thing", searched=["name"])
    for i in range(400):
        table.insert({"id": f"r{i}", "name": f"pi_{i:06x}", "isActive": i % 7 != 0})
    match = table.search("name", ["pi_"])
    assert match.mark is not None  # most values matched: the dense path
    assert match.size == len(scan(table, [partial("name", ["pi_"])])) == 400 - 58
    assert_like_scan(table, random.Random(3))


def test_reset_and_restoring_a_state_dump_keep_the_index_current() -> None:
    world = World([load_service(TUTORHUB)], seed=1)
    slug, state = next(iter(world.services.items()))
    table = state.tables["sys_enrollmentPayment"]
    assert isinstance(table._texts.get("paymentStatus"), TextIndex)  # a declared partial filter
    table.insert({"id": "p1", "paymentStatus": "Succeeded", "isActive": True})
    dump = world.dump()
    world.reset()
    assert select(world.services[slug].tables["sys_enrollmentPayment"], [partial("paymentStatus", ["SUCC"])])[0] == 0
    world.restore(dump)
    found = select(world.services[slug].tables["sys_enrollmentPayment"], [partial("paymentStatus", ["SUCC"])])
    assert [r["id"] for r in found[1]] == ["p1"]
