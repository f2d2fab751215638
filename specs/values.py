"""What a value of a guide type is, written once as the patterns the emitted specs carry.

The twin validates requests with the spec's schemas and the suite validates answers with the same
schemas, so a pattern here is the one rule both sides apply. Dates are the case that needs care:
`format: date-time` is only an annotation in JSON Schema 2020-12, and a plain `\\d{4}-\\d{2}-\\d{2}`
admits days no calendar has (year 0000, 2023-02-30) that a backend — and the suite — refuses.
Digits are written `[0-9]`: Python's `\\d` (the twin's and the suite's validators) also takes other
scripts' digits (`٢٠٢٤`), which the backends' ECMAScript `\\d` refuses.
"""

from __future__ import annotations

import re

UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# Years 0001-9999 (ISO-8601 and every datetime library start at year 1).
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
# Years divisible by 4, except centuries not divisible by 400 (0000 is excluded: no year 0).
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
# A real calendar day: 31-day months, 30-day months, February up to 28, the 29th in leap years.
CALENDAR_DAY_PATTERN = (
    rf"(?:{_YEAR}-(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    rf"|{_YEAR}-(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    rf"|{_YEAR}-02-(?:0[1-9]|1[0-9]|2[0-8])"
    rf"|{_LEAP_YEAR}-02-29)"
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
_OFFSET = r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
# A Date value: a calendar day, a time and a zone (what the backends answer: 2024-03-19T12:13:54.124Z).
DATETIME_PATTERN = rf"^{CALENDAR_DAY_PATTERN}T{_TIME}{_OFFSET}$"
# A date a filter names: a day, optionally with a time and zone (`?createdAt=2024-01-15`).
FILTER_DATE_PATTERN = (
    rf"{CALENDAR_DAY_PATTERN}"
    r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?)?"
)

_DATETIME_RE = re.compile(DATETIME_PATTERN)


def is_datetime(value: object) -> bool:
    """True when `value` is a Date as the specs define it (a string matching `DATETIME_PATTERN`)."""
    return isinstance(value, str) and _DATETIME_RE.match(value) is not None
