"""Small readers for the guide's text fragments: pipe-table rows, type names, yes/no cells."""

from __future__ import annotations

import difflib
import re

from .model import GuideType, Location

KNOWN_TYPES: tuple[GuideType, ...] = (
    "ID", "String", "Text", "Integer", "Double", "Boolean", "Date", "Enum", "Object", "Number",
)
_BY_LOWER = {t.lower(): t for t in KNOWN_TYPES}

POPULATION_RE = re.compile(r"request\.(params|query|body|headers?)\?\.\[[“\"'](?P<name>[^”\"']+)[”\"']\]")
LOCATIONS: dict[str, Location] = {"params": "path", "query": "query", "body": "body", "header": "header", "headers": "header"}


def split_row(line: str) -> list[str]:
    """The cells of a pipe-table row, without the empty cells the outer pipes make."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|"):
        text = text[:-1]
    return [cell.strip() for cell in text.split("|")]


def normalize_type(raw: str) -> tuple[GuideType | None, bool]:
    """Map a type name as written (`ID`, `NUmber`, `"Number"`) to a known type.

    Returns the type and whether it had to be guessed (a typo or an unusual spelling).
    """
    text = raw.strip().strip('"').strip("\\").strip('"')
    if text in KNOWN_TYPES:
        return text, False
    if text.lower() in _BY_LOWER:
        return _BY_LOWER[text.lower()], True
    close = difflib.get_close_matches(text.lower(), list(_BY_LOWER), n=1, cutoff=0.75)
    if close:
        return _BY_LOWER[close[0]], True
    return None, True


def yes_no(cell: str) -> bool | None:
    """`Yes`/`true` → True, `No`/`false` → False, anything else → None."""
    value = cell.strip().lower()
    if value in ("yes", "true"):
        return True
    if value in ("no", "false"):
        return False
    return None
