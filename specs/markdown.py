"""The generator's Markdown form of a guide → the plain text lines the parser reads.

A guide comes in two forms: the generator's Markdown (`# **FITCHECK**`, `## Scope`, pipe tables with
backticked names, fenced JSON examples) and the text of the page it renders to (the same words, markup
gone). The parser reads one layout, plain text lines; this module takes the Markdown form to it the
way a page does: headings, bold, emphasis, code spans, links, escapes and entities become their text,
bullets become `- `, runs of spaces become one, table separators become `|---|`, and fenced code is
kept as written (its fence lines left blank). One Markdown line gives exactly one text line, so the
parser's warnings point at the Markdown file's own line numbers.
"""

from __future__ import annotations

import html
import re
from typing import Literal

GuideForm = Literal["markdown", "text"]

_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(?:\s+|$)(?P<text>.*?)(?:\s+#+)?\s*$")
_BULLET_RE = re.compile(r"^\s*[*+]\s+")
_SEPARATOR_CELL_RE = re.compile(r"^:?-{3,}:?$")
_CODE_SPAN_RE = re.compile(r"(`+)(?P<code>.+?)\1")
_LINK_RE = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]*)\)")
_STRONG_RE = re.compile(r"(\*\*|__)(?=\S)(?P<text>.+?)(?<=\S)\1")
_EMPHASIS_RE = re.compile(r"(?<![\w*])\*(?=[^\s*])(?P<text>[^*]+?)(?<=\S)\*(?![\w*])|(?<![\w])_(?=[^\s_])(?P<under>[^_]+?)(?<=\S)_(?!\w)")
_ESCAPE_RE = re.compile(r"\\(?P<char>[\\`*_{}\[\]()#+\-.!|<>])")
_PLACEHOLDER_RE = re.compile("\x00(\\d+)\x00")
_MARKDOWN_SIGNS = (
    re.compile(r"^\s{0,3}#{1,6}\s+\S"),  # an ATX heading
    re.compile(r"^\s*\*\*[^*].*\*\*\s*$"),  # a line in bold, like the title
    _FENCE_RE,
)


def guide_form(text: str) -> GuideForm:
    """Which form a guide is written in: `markdown` when its opening lines (or any code fence) carry
    Markdown markup, else `text` (the page-text form, which has none)."""
    lines = text.splitlines()
    opening = [line for line in lines if line.strip()][:15]
    if any(sign.match(line) for line in opening for sign in _MARKDOWN_SIGNS[:2]):
        return "markdown"
    return "markdown" if any(_FENCE_RE.match(line) for line in lines) else "text"


def markdown_to_text(text: str) -> str:
    """The plain text lines of a Markdown guide, one per Markdown line (see the module docstring)."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        marker = _FENCE_RE.match(line)
        if fence is not None:
            if marker and marker.group(1) == fence and not line.strip()[3:].strip():
                fence = None
                out.append("")
            else:
                out.append(line.rstrip())
            continue
        if marker:
            fence = marker.group(1)
            out.append("")
            continue
        out.append(_block_line(line))
    return "\n".join(out) + "\n"


def _block_line(line: str) -> str:
    """One line outside code: its block markup (heading, bullet, table separator) and inline markup
    gone, whitespace collapsed."""
    if heading := _HEADING_RE.match(line):
        line = heading.group("text")
    elif bullet := _BULLET_RE.match(line):
        line = "- " + line[bullet.end():]
    stripped = line.strip()
    if stripped.startswith("|"):
        cells = [cell.strip() for cell in stripped.strip("|").split("|")]
        if cells and all(_SEPARATOR_CELL_RE.match(cell) for cell in cells):
            return "|" + "---|" * len(cells)
    return " ".join(inline_text(line).split())


def inline_text(text: str) -> str:
    """A line's inline Markdown as text: code spans verbatim, strong/emphasis/links/escapes/entities
    replaced by what they show."""
    kept: list[str] = []

    def keep(value: str) -> str:  # set aside what must come out verbatim, behind a placeholder
        kept.append(value)
        return f"\x00{len(kept) - 1}\x00"

    text = _CODE_SPAN_RE.sub(lambda m: keep(m.group("code").strip() or m.group("code")), text)
    text = _ESCAPE_RE.sub(lambda m: keep(m.group("char")), text)
    text = _LINK_RE.sub(lambda m: m.group("text"), text)
    previous = None
    while previous != text:  # nested markup such as ***x*** or **_x_**
        previous = text
        text = _STRONG_RE.sub(lambda m: m.group("text"), text)
        text = _EMPHASIS_RE.sub(lambda m: m.group("text") or m.group("under"), text)
    text = html.unescape(text)
    return _PLACEHOLDER_RE.sub(lambda m: kept[int(m.group(1))], text)
