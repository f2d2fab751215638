"""The suite on a guide it has never seen: no recipe, no scenario of its own, no hook but a twin's
fixtures. It prepares the rows its rules need from the spec alone, reaches every operation it
safely can, and leaves the records as it found them (apart from those it lists as left behind)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from contracts_testing import AIRBNB, get, post
from twin_process import twin_serve

from contracts.runner import verify
from contracts.target import build_target

GENERIC = ("filters.", "paging.", "records.", "coverage.", "tenancy.", "crud.", "auth.")


@pytest.fixture(scope="module")
def unseen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The airbnb guide's spec under a project name nothing in the suite or the twin knows."""
    doc = yaml.safe_load(AIRBNB.read_text())
    doc["info"]["x-twin-project"] = "unseenco"
    doc["info"]["x-twin-guide"] = "unseenco-bookings.md"
    path = tmp_path_factory.mktemp("unseen") / "unseenco-bookings.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with twin_serve("--spec", str(path)) as twin:
        yield twin.url, path


def _active(url: str) -> Counter[str]:
    return Counter({name: n for s in get(f"{url}/__twin/services")["services"] for name, n in s["objects"].items()})


def test_an_unseen_guide_gets_its_rows_prepared_and_its_records_cleaned_up(unseen: tuple[str, Path]) -> None:
    url, path = unseen
    post(f"{url}/__twin/reset", {})
    before = _active(url)
    report = verify(build_target(base_url=url, specs=[str(path)], environ={},
                                 settings={"layers": ["probes", "scenarios"], "payment_wait": 2.0}))
    (service,) = report.services
    results = [r for r in report.results if r.layer == "scenario"]
    by_rule = {r.rule: r for r in results}
    # rows made from the spec alone (a listing borrowed from the twin's fixtures, dates far ahead):
    # every documented form of every reservation filter is judged, none skipped
    forms = [r for name, r in by_rule.items() if name.startswith("filters.exact/") and "[listReservations." in name]
    assert len(forms) >= 20 and all(r.status == "pass" for r in forms), [(r.rule, r.message) for r in forms if r.status != "pass"]
    assert by_rule["paging.consistent/pages-partition-the-list[listReservations]"].status == "pass"
    # every create, get, update and delete of the guide's own objects answered a success
    gaps = set(report.coverage_gaps.get(service, []))
    assert not gaps & {"createReservation", "getReservation", "updateReservation", "deleteReservation", "createDispute",
                       "getDispute", "updateDispute", "createPaymentRecord", "getPaymentRecord"}, gaps
    # no generic rule fails on a twin that follows the guide
    assert not [r.rule for r in report.failed if r.rule.startswith(GENERIC)]
    # what the run made is gone, apart from what the guide offers no way to delete — and that is listed
    left = Counter(item["object"] for item in report.left_behind.get(service, []))
    grown = {name: n - before[name] for name, n in _active(url).items() if n != before[name]}
    assert grown == dict(left) and set(left) <= {"paymentRecord", "dispute", "sys_paymentCustomer", "sys_paymentMethod"}
