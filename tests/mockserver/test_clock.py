"""The clock's text form: every stamp the twin writes (createdAt, an error's date) is ISO-8601 in
UTC to the millisecond with a `Z`, whatever the instant's own offset."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from mockserver.clock import Clock, isoformat


def test_isoformat_is_the_instant_in_utc_to_the_millisecond_with_a_z() -> None:
    assert isoformat(datetime(2024, 5, 6, 1, 2, 3, 999_999, tzinfo=UTC)) == "2024-05-06T01:02:03.999Z"
    assert isoformat(datetime(2024, 5, 6, 1, 2, 3, 999_999, tzinfo=timezone(timedelta(hours=5)))) == \
        "2024-05-05T20:02:03.999Z"
    assert isoformat(datetime(987, 1, 2, 0, 0, 0, 500, tzinfo=UTC)) == "0987-01-02T00:00:00.000Z"


def test_isoformat_agrees_with_the_standard_library_across_the_calendar() -> None:
    rng = random.Random(16)
    start, span = datetime(1, 1, 1, tzinfo=UTC), 315_537_897_599_999_999  # microseconds to 9999-12-31
    for _ in range(20_000):
        moment = start + timedelta(microseconds=rng.randrange(span))
        assert isoformat(moment) == moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_instants_within_one_second_keep_their_own_milliseconds() -> None:
    clock = Clock(datetime(2026, 12, 2, 9, 0, 0, tzinfo=UTC))
    stamps = [isoformat(clock.advance(0.25)) for _ in range(8)]
    assert stamps == ["2026-12-02T09:00:00.250Z", "2026-12-02T09:00:00.500Z", "2026-12-02T09:00:00.750Z",
                      "2026-12-02T09:00:01.000Z", "2026-12-02T09:00:01.250Z", "2026-12-02T09:00:01.500Z",
                      "2026-12-02T09:00:01.750Z", "2026-12-02T09:00:02.000Z"]
