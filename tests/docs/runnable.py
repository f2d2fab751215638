"""Runnable shell blocks of the project's Markdown docs, and how their shown output is compared.

A block runs when the line before its ```sh fence is `<!-- runnable -->`. The ```text block right
after it (blank lines between are fine) is the output it must print. In that output, `…` stands for
any text within a line, and a line holding only `…` for any number of lines (none included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MARKER = "<!-- runnable -->"
ELLIPSIS = "…"


@dataclass(frozen=True)
class Block:
    """One runnable block: where it is, its commands and the output it shows (None: none shown)."""

    path: Path
    line: int
    commands: str
    expected: str | None

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def _fence(lines: list[str], start: int) -> tuple[str, int]:
    """The body of the fence opening at `start`, and the index of the line after its close."""
    body: list[str] = []
    index = start + 1
    while index < len(lines) and lines[index].strip() != "```":
        body.append(lines[index])
        index += 1
    return "\n".join(body) + ("\n" if body else ""), index + 1


def runnable_blocks(path: Path) -> list[Block]:
    """Every runnable block of one Markdown file, in order."""
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() == MARKER and index + 1 < len(lines) and lines[index + 1].startswith("```sh"):
            commands, after = _fence(lines, index + 1)
            look = after
            while look < len(lines) and not lines[look].strip():
                look += 1
            expected = None
            if look < len(lines) and lines[look].strip() == "```text":
                expected, after = _fence(lines, look)
            blocks.append(Block(path, index + 2, commands, expected))
            index = after
        else:
            index += 1
    return blocks


def output_pattern(expected: str) -> re.Pattern[str]:
    """A regex that accepts exactly the outputs `expected` shows, with its `…` wildcards."""
    parts: list[str] = []
    for line in expected.rstrip("\n").split("\n"):
        if line.strip() == ELLIPSIS:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = [re.escape(piece) for piece in line.rstrip().split(ELLIPSIS)]
            parts.append("[^\n]*?".join(pieces) + r"[ \t]*\n")
    return re.compile("".join(parts))


def matches(expected: str, actual: str) -> bool:
    """Does `actual` (trailing blanks and final newlines aside) print what `expected` shows?"""
    normalized = "\n".join(line.rstrip() for line in actual.rstrip("\n").split("\n")) + "\n"
    return output_pattern(expected).fullmatch(normalized) is not None
