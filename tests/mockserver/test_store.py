"""The record store and list filters: what a table promises its callers.

A table keeps records in creation order, hands out copies, keeps soft-deleted records reachable
by id but out of lists, and answers filters — through its indexes, its columns or record by
record — with the same results whatever the history of writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from mockserver.filters import Condition, condition_for, dates, exact, partial, select
from mockserver.store import Table

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


def payment(rid: str, status: str, owner: str = "u1", **more: Any) -> dict[str, Any]:
    return {"id": rid, "ownerId": owner, "paymentStatus": status, "isActive": True, **more}


def ids(found: tuple[int, list[dict[str, Any]]]) -> list[str]:
    return [r["id"] for r in found[1]]


@pytest.fixture(params=["columns declared up front", "columns built on first use"])
def table(request: pytest.FixtureRequest) -> Table:
    """A payments table indexed on ownerId; both ways of getting columns must answer alike."""
    if request.param == "columns declared up front":
        return Table("payment", ["ownerId"], columns=[("paymentStatus", "text"), ("paidAt", "value")])
    return Table("payment", ["ownerId"])


# -- records are values, not shared objects --------------------------------------------------------
def test_changing_a_record_read_from_the_table_changes_nothing_until_it_is_replaced(table: Table) -> None:
    table.insert(payment("p1", "pending"))
    record = table.get("p1")
    assert record is not None
    record["paymentStatus"] = "succeeded"
    _, listed = select(table, [])
    listed[0]["ownerId"] = "someone else"

    assert table.get("p1") == payment("p1", "pending")
    assert select(table, [partial("paymentStatus", ["succ"])]) == (0, [])

    table.replace(record)
    assert table.get("p1") == {**payment("p1", "pending"), "paymentStatus": "succeeded"}
    assert ids(select(table, [partial("paymentStatus", ["succ"])])) == ["p1"]


def test_changing_a_record_after_inserting_it_does_not_change_the_stored_one(table: Table) -> None:
    record = payment("p1", "pending")
    table.insert(record)
    record["paymentStatus"] = "succeeded"
    assert table.get("p1") == payment("p1", "pending")


def test_records_keep_their_values_and_key_order_through_the_store(table: Table) -> None:
    record = {"id": "p1", "amount": 12.5, "tags": ["a", "b"], "card": {"last4": "4242"}, "isActive": True,
              "note": None, "count": 3, "paid": False}
    table.insert(record)
    stored = table.get("p1")
    assert stored == record
    assert list(stored or {}) == list(record)


def test_a_record_is_handed_out_raw_as_exactly_its_compact_json(table: Table) -> None:
    record = {"id": "p1", "note": "line\nbreak", "tags": [], "isActive": True}
    table.insert(record)
    # What a list splices into its answer: no trailing byte, nothing re-encoded.
    assert [raw.json for raw in table.raw([0])] == [orjson.dumps(record)]


# -- order, soft delete, re-activation -------------------------------------------------------------
def test_lists_keep_creation_order_through_updates_soft_deletes_and_reactivation(table: Table) -> None:
    for n in range(1, 5):
        table.insert(payment(f"p{n}", "pending"))
    table.replace(payment("p1", "succeeded"))
    table.replace(payment("p2", "pending", isActive=False))
    assert ids(select(table, [])) == ["p1", "p3", "p4"]
    assert len(table) == 3

    table.replace(payment("p2", "succeeded"))
    assert ids(select(table, [])) == ["p1", "p2", "p3", "p4"]
    assert ids(select(table, [partial("paymentStatus", ["SUCC"])])) == ["p1", "p2"]


def test_a_soft_deleted_record_is_found_by_id_only_when_asked_for_and_leaves_every_list(table: Table) -> None:
    table.insert(payment("p1", "succeeded", owner="u1"))
    table.insert(payment("p2", "succeeded", owner="u1"))
    table.replace(payment("p1", "succeeded", owner="u1", isActive=False))

    assert table.get("p1") is None
    assert (table.get("p1", include_inactive=True) or {})["isActive"] is False
    assert ids(select(table, [exact("ownerId", ["u1"])])) == ["p2"]
    assert ids(select(table, [partial("paymentStatus", ["succ"])])) == ["p2"]
    assert ids(select(table, [exact("ownerId", ["u1"]), partial("paymentStatus", ["succ"])])) == ["p2"]
    assert [r["id"] for r in table.scan()] == ["p2"]


def test_dumps_hold_every_record_in_creation_order_soft_deleted_ones_included(table: Table) -> None:
    for n in range(1, 4):
        table.insert(payment(f"p{n}", "pending"))
    table.replace(payment("p2", "pending", isActive=False))

    assert [r["id"] for r in table.records()] == ["p1", "p2", "p3"]
    assert [r["id"] for r in table.records(include_inactive=False)] == ["p1", "p3"]
    assert [r["id"] for r in table.rows.values()] == ["p1", "p2", "p3"]
    assert len(table.rows) == 3
    assert table.rows["p2"]["isActive"] is False


def test_inserting_an_id_that_exists_replaces_that_record_in_its_place(table: Table) -> None:
    table.insert(payment("p1", "pending", owner="u1"))
    table.insert(payment("p2", "pending", owner="u1"))
    table.insert(payment("p1", "succeeded", owner="u2"))

    assert ids(select(table, [])) == ["p1", "p2"]
    assert ids(select(table, [exact("ownerId", ["u1"])])) == ["p2"]
    assert ids(select(table, [exact("ownerId", ["u2"])])) == ["p1"]


def test_clear_empties_the_table_and_its_indexes_and_columns(table: Table) -> None:
    table.insert(payment("p1", "succeeded"))
    select(table, [partial("paymentStatus", ["succ"])])
    table.clear()
    table.insert(payment("p9", "pending"))

    assert ids(select(table, [])) == ["p9"]
    assert select(table, [partial("paymentStatus", ["succ"])]) == (0, [])
    assert ids(select(table, [exact("ownerId", ["u1"])])) == ["p9"]


# -- filters ---------------------------------------------------------------------------------------
def test_a_partial_filter_matches_a_substring_case_insensitively(table: Table) -> None:
    table.insert(payment("p1", "Succeeded"))
    table.insert(payment("p2", "requires_action"))
    table.insert(payment("p3", None))  # type: ignore[arg-type]

    assert ids(select(table, [partial("paymentStatus", ["sUCC"])])) == ["p1"]
    assert ids(select(table, [partial("paymentStatus", ["ACTION", "ceed"])])) == ["p1", "p2"]
    assert ids(select(table, [partial("paymentStatus", ["null"])])) == ["p3"]
    assert ids(select(table, [partial("paymentStatus", ["null", "succ"])])) == ["p1", "p3"]
    assert ids(select(table, [partial("paymentStatus", [""])])) == ["p1", "p2"]


def test_a_partial_filter_follows_updates_of_the_field(table: Table) -> None:
    table.insert(payment("p1", "pending"))
    assert select(table, [partial("paymentStatus", ["succ"])]) == (0, [])
    table.replace(payment("p1", "succeeded"))
    assert ids(select(table, [partial("paymentStatus", ["succ"])])) == ["p1"]
    table.replace(payment("p1", "canceled"))
    assert select(table, [partial("paymentStatus", ["succ"])]) == (0, [])


def test_a_partial_filter_reads_objects_and_arrays_as_their_json(table: Table) -> None:
    table.insert(payment("p1", "x", card={"brand": "Visa", "last4": "4242"}))
    table.insert(payment("p2", "x", card={"brand": "Amex"}))
    assert ids(select(table, [condition_for("any", "card", ["VISA"], NOW)])) == ["p1"]
    assert ids(select(table, [condition_for("any", "card", ['"last4":"4242"'], NOW)])) == ["p1"]


def test_exact_filters_on_indexed_and_other_fields_agree_with_their_record_predicates(table: Table) -> None:
    table.insert(payment("p1", "pending", owner="U1", currency="USD", lessonIds=["a", "b"]))
    table.insert(payment("p2", "pending", owner="u2", currency="eur", lessonIds=[]))
    table.insert(payment("p3", "pending", owner="u1", currency=None, lessonIds=["b"]))
    cases = [
        exact("ownerId", ["u1"]),  # indexed, case-insensitive
        exact("ownerId", ["u1", "U2"]),
        exact("currency", ["usd"]),  # no index: a column
        exact("currency", ["null"]),
        exact("lessonIds", ["B"]),
        exact("lessonIds", [None]),
    ]
    for condition in cases:
        expected = [r["id"] for r in table.scan() if condition.predicate(r)]
        assert ids(select(table, [condition])) == expected, condition.keys
    assert ids(select(table, [exact("ownerId", ["u1"])])) == ["p1", "p3"]
    assert ids(select(table, [exact("lessonIds", ["b"])])) == ["p1", "p3"]
    assert ids(select(table, [exact("lessonIds", ["null"])])) == ["p2"]


def test_a_record_in_several_index_buckets_is_listed_once() -> None:
    indexed = Table("enrollment", ["lessonIds"])
    indexed.insert({"id": "e1", "lessonIds": ["a", "b"], "isActive": True})
    indexed.insert({"id": "e2", "lessonIds": ["b"], "isActive": True})
    assert ids(select(indexed, [exact("lessonIds", ["a", "b"])])) == ["e1", "e2"]


def test_an_index_follows_a_field_moving_between_values(table: Table) -> None:
    for n in range(1, 5):
        table.insert(payment(f"p{n}", "pending", owner="u1"))
    table.replace(payment("p2", "pending", owner="u2"))
    table.replace(payment("p4", "pending", owner="u2"))
    table.replace(payment("p2", "pending", owner="u1"))

    assert ids(select(table, [exact("ownerId", ["u1"])])) == ["p1", "p2", "p3"]
    assert ids(select(table, [exact("ownerId", ["u2"])])) == ["p4"]


def test_a_date_filter_selects_the_records_of_its_range(table: Table) -> None:
    table.insert(payment("p1", "x", paidAt="2025-03-14T09:00:00.000Z"))
    table.insert(payment("p2", "x", paidAt="2025-03-13T23:59:59.999Z"))
    table.insert(payment("p3", "x", paidAt=None))
    assert ids(select(table, [dates("paidAt", ["$today"], NOW)])) == ["p1"]
    assert ids(select(table, [dates("paidAt", ["$ltoday", "null"], NOW)])) == ["p2", "p3"]
    table.replace(payment("p2", "x", paidAt="2025-03-14T00:00:00.000Z"))
    assert ids(select(table, [dates("paidAt", ["2025-03-14"], NOW)])) == ["p1", "p2"]


def test_filters_combine_with_record_level_conditions_and_page_the_result(table: Table) -> None:
    for n in range(1, 11):
        table.insert(payment(f"p{n}", "succeeded" if n % 2 else "pending", owner="u1" if n <= 6 else "u2", n=n))
    not_three: Condition = Condition("n", lambda r: r.get("n") != 3)
    conditions = [exact("ownerId", ["u1"]), partial("paymentStatus", ["SUCC"]), not_three]

    assert select(table, conditions) == (2, [table.get("p1"), table.get("p5")])
    assert ids(select(table, conditions, offset=1, limit=5)) == ["p5"]
    assert select(table, conditions, offset=4, limit=5) == (2, [])
    total, page = select(table, [partial("paymentStatus", ["succ"])], offset=2, limit=2)
    assert (total, [r["id"] for r in page]) == (5, ["p5", "p7"])
