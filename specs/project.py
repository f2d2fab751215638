"""A project's guides: which part of the project each file is, and the guide files of a folder.

A Mindbricks project's frontend guide comes in parts, one file each: an introduction, the
authentication part, verification, profile, user management, the BFF, and one part per business
service. Only service parts describe a REST service the twin serves; the others are recognised by
their title (`FRONTEND GUIDE FOR AI CODING AGENTS - PART 1 - Authentication Management`) and listed.
A file with no such title is not a guide at all and is refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .markdown import GuideForm, guide_form, markdown_to_text
from .parser import GuideError

# A service's role overlay (`specs/overlay.py`) sits beside its guide; it is no part of the project.
OVERLAY_SUFFIX = ".roles.yaml"

PartKind = Literal["service", "introduction", "authentication", "verification", "profile", "user-management", "bff", "other"]

_TITLE_RE = re.compile(r"^FRONTEND GUIDE FOR .*?(?: - PART (?P<number>\d+))? - (?P<title>[^-].*?)\s*$")
_PROJECT_RE = re.compile(r"REST API guide for the (?P<project>[\w-]+) project")
# Checked in this order: "MCP BFF Integration" and "Bff Service" are the BFF, not a business service.
_KINDS: tuple[tuple[PartKind, re.Pattern[str]], ...] = (
    ("bff", re.compile(r"\bbff\b", re.I)),
    ("service", re.compile(r"\bservice$", re.I)),
    ("introduction", re.compile(r"\bintroduction\b", re.I)),
    ("authentication", re.compile(r"\bauth(?:entication)?\b", re.I)),
    ("verification", re.compile(r"\bverification\b", re.I)),
    ("profile", re.compile(r"\bprofile\b", re.I)),
    ("user-management", re.compile(r"\buser management\b", re.I)),
)
_HEAD_LINES = 15


@dataclass(frozen=True)
class GuidePart:
    """One part of a project's guide: its kind, title and raw text (the file as written)."""

    kind: PartKind
    title: str
    text: str
    form: GuideForm
    source: str = "<guide>"
    path: Path | None = None
    number: int | None = None
    project: str | None = None

    def __str__(self) -> str:
        number = f"part {self.number}, " if self.number is not None else ""
        return f"{self.source}: {self.kind} ({number}{self.title!r})"


def classify_guide(text: str, source: str = "<guide>", path: Path | None = None) -> GuidePart:
    """Which part of a project `text` is (either form). Raises `GuideError` naming `source` when
    it is no frontend guide at all."""
    form = guide_form(text)
    plain = markdown_to_text(text) if form == "markdown" else text
    head = [line.strip() for line in plain.splitlines() if line.strip()][:_HEAD_LINES]
    title = next((m for m in map(_TITLE_RE.match, head) if m), None)
    if title is None:
        raise GuideError(f"{source}: not a frontend guide: expected a 'FRONTEND GUIDE FOR … - <part>' title near the top")
    name = title.group("title")
    kind: PartKind = next((kind for kind, pattern in _KINDS if pattern.search(name)), "other")
    project = next((m.group("project") for m in map(_PROJECT_RE.search, head) if m), None)
    number = int(title.group("number")) if title.group("number") else None
    return GuidePart(kind=kind, title=name, text=text, form=form, source=source, path=path, number=number, project=project)


def read_guide_text(path: Path) -> str:
    """A guide file's text; a file that is not UTF-8 text raises `GuideError` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise GuideError(f"{path.name}: not a frontend guide: not UTF-8 text ({error.reason})") from error


def classify_guide_file(path: str | Path) -> GuidePart:
    """Which part of a project the file at `path` is (see `classify_guide`)."""
    path = Path(path)
    return classify_guide(read_guide_text(path), source=path.name, path=path)


def guide_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, with each folder replaced by the files in it (sorted; hidden files, role
    overlays — read with their guide — and sub-folders left out). A path that does not exist raises
    `FileNotFoundError`."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                            and not p.name.lower().endswith(OVERLAY_SUFFIX))
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(2, "No such file or directory", str(path))
    return files
