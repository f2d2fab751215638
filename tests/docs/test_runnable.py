"""How a runnable block's shown output is compared with what it prints."""

from __future__ import annotations

from pathlib import Path

from runnable import matches, runnable_blocks


def test_plain_output_must_match_line_for_line() -> None:
    assert matches("a\nb\n", "a\nb\n")
    assert not matches("a\nb\n", "a\nc\n")
    assert not matches("a\n", "a\nb\n")


def test_an_ellipsis_in_a_line_stands_for_any_text_in_that_line() -> None:
    assert matches('{"id": "…", "n": 1}\n', '{"id": "abc-123", "n": 1}\n')
    assert not matches('{"id": "…", "n": 1}\n', '{"id": "abc", "n": 2}\n')
    assert not matches("x…\n", "x\ny\n")


def test_a_line_of_only_an_ellipsis_stands_for_any_lines_or_none() -> None:
    assert matches("head\n…\ntail\n", "head\n1\n2\ntail\n")
    assert matches("head\n…\ntail\n", "head\ntail\n")
    assert not matches("head\n…\ntail\n", "head\n1\n")


def test_trailing_blanks_and_final_newlines_do_not_count() -> None:
    assert matches("a\n", "a   \n\n\n")


def test_blocks_are_found_by_their_marker_with_the_output_that_follows(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n\n<!-- runnable -->\n```sh\necho hi\n```\n\n```text\nhi\n```\n\n"
                   "```sh\necho not runnable\n```\n\n<!-- runnable -->\n```sh\ntrue\n```\n")
    blocks = runnable_blocks(doc)
    assert [(b.commands, b.expected) for b in blocks] == [("echo hi\n", "hi\n"), ("true\n", None)]
    assert blocks[0].where == "doc.md:4"
