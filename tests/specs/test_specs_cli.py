"""`twin specs build|check`: the committed specs are in sync with the guides, `check` fails on a
stale or missing file, `build` writes byte-identical specs and lists the guides' warnings, and a
file that is not a guide is refused with a message naming it (exit 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from specs_testing import SLUGS, SyntheticGuide, guide_path

from specs.build import OPENAPI_DIR, build, read_guide, render_yaml
from specs.emitter import emit_openapi
from specs.parser import GuideError, parse_guide, parse_guide_file
from twin.cli import main

NOT_A_GUIDE = "Shopping list\n- milk\n- eggs\n\nAPI Reference\nnothing here either\n"
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\xff\xfe\xfd"


@pytest.fixture
def committed_copy(tmp_path: Path) -> Path:
    """A copy of the committed specs to check against (`--out`)."""
    out = tmp_path / "openapi"
    shutil.copytree(OPENAPI_DIR, out)
    return out


# -- check -----------------------------------------------------------------------------------------
def test_check_passes_on_the_committed_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["specs", "check", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("[up to date]") == 3
    assert "STALE" not in out


@pytest.mark.parametrize("slug", SLUGS)
def test_committed_spec_is_the_yaml_derived_from_its_guide(slug: str) -> None:
    derived = render_yaml(emit_openapi(read_guide(guide_path(slug))))
    assert (OPENAPI_DIR / f"{slug}.yaml").read_text(encoding="utf-8") == derived


def test_check_fails_when_a_committed_spec_is_stale(committed_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = committed_copy / "workforceos-subscriptionmanagement.yaml"
    stale.write_text(stale.read_text(encoding="utf-8").replace("mbx-company-codename", "x-tenant", 1), encoding="utf-8")
    assert main(["specs", "check", "--quiet", "--out", str(committed_copy)]) == 1
    captured = capsys.readouterr()
    assert "workforceos-subscriptionmanagement.yaml: 19 operations, 4 data objects, 29 warnings [STALE]" in captured.out
    assert captured.out.count("[up to date]") == 2
    assert "specs are stale or invalid: run `twin specs build`" in captured.err


def test_check_fails_when_a_committed_spec_is_missing(committed_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (committed_copy / "airbnb-bookingmanagement.yaml").unlink()
    guide = guide_path("airbnb-bookingmanagement")
    assert main(["specs", "check", "--quiet", "--out", str(committed_copy), str(guide)]) == 1
    assert "airbnb-bookingmanagement.yaml: 25 operations, 6 data objects, 37 warnings [STALE]" in capsys.readouterr().out


def test_check_never_rewrites_a_stale_spec(committed_copy: Path) -> None:
    stale = committed_copy / "tutorhub-enrollmentmanagement.yaml"
    stale.write_text("openapi: 3.1.0\n", encoding="utf-8")
    assert main(["specs", "check", "--quiet", "--out", str(committed_copy), str(guide_path("tutorhub-enrollmentmanagement"))]) == 1
    assert stale.read_text(encoding="utf-8") == "openapi: 3.1.0\n"


def test_check_of_one_named_guide_looks_at_its_spec_only(committed_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (committed_copy / "airbnb-bookingmanagement.yaml").unlink()
    guide = guide_path("tutorhub-enrollmentmanagement")
    assert main(["specs", "check", "--quiet", "--out", str(committed_copy), str(guide)]) == 0
    assert capsys.readouterr().out.count("\n") == 1


# -- build -----------------------------------------------------------------------------------------
def test_build_writes_specs_identical_to_the_committed_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["specs", "build", "--quiet", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{slug}.yaml" for slug in SLUGS)
    for slug in SLUGS:
        assert (tmp_path / f"{slug}.yaml").read_bytes() == (OPENAPI_DIR / f"{slug}.yaml").read_bytes()
    assert capsys.readouterr().out.count("[written]") == 3


def test_build_over_up_to_date_specs_leaves_them_unchanged(committed_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = committed_copy / "workforceos-subscriptionmanagement.yaml"
    before = target.stat().st_mtime_ns
    guide = guide_path("workforceos-subscriptionmanagement")
    assert main(["specs", "build", "--quiet", "--out", str(committed_copy), str(guide)]) == 0
    assert "[unchanged]" in capsys.readouterr().out
    assert target.stat().st_mtime_ns == before


def test_build_lists_each_warning_with_its_guide_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["specs", "build", "--out", str(tmp_path), str(guide_path("tutorhub-enrollmentmanagement"))]) == 0
    out = capsys.readouterr().out
    assert "  warning: tutorhub-enrollmentmanagement.txt:line 97: [missing-column] property paymentStatus" in out
    assert "  warning: tutorhub-enrollmentmanagement.txt:line 411: [statuscode-string] createEnrollment" in out
    assert out.count("  warning: ") == 55


def test_build_quiet_leaves_the_warnings_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["specs", "build", "--quiet", "--out", str(tmp_path), str(guide_path("tutorhub-enrollmentmanagement"))]) == 0
    out = capsys.readouterr().out
    assert "warning:" not in out
    assert "26 operations, 5 data objects, 55 warnings [written]" in out


def test_build_of_one_named_guide_writes_only_its_spec(tmp_path: Path) -> None:
    results = build([guide_path("airbnb-bookingmanagement")], tmp_path)
    assert [r.target.name for r in results] == ["airbnb-bookingmanagement.yaml"]
    assert [p.name for p in tmp_path.iterdir()] == ["airbnb-bookingmanagement.yaml"]
    assert results[0].stale is True


def test_build_without_write_reports_staleness_and_writes_nothing(tmp_path: Path) -> None:
    results = build(None, tmp_path, write=False)
    assert [r.stale for r in results] == [True, True, True]
    assert list(tmp_path.iterdir()) == []


# -- not a guide -----------------------------------------------------------------------------------
def test_a_text_that_is_not_a_guide_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notaguide.txt"
    path.write_text(NOT_A_GUIDE, encoding="utf-8")
    with pytest.raises(GuideError, match=r"^notaguide\.txt: not a frontend guide: expected a 'FRONTEND GUIDE FOR"):
        parse_guide_file(path)


def test_building_a_non_guide_exits_2_with_a_message_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "path" / "to" / "notaguide.txt"
    path.parent.mkdir(parents=True)
    path.write_text(NOT_A_GUIDE, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["specs", "build", "--out", str(out), str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: notaguide.txt: not a frontend guide")
    assert captured.out == ""
    assert not out.exists()


def test_a_binary_file_is_refused_as_not_utf8_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "logo.png"
    path.write_bytes(BINARY)
    with pytest.raises(GuideError, match=r"logo\.png: not a frontend guide: not UTF-8 text"):
        parse_guide_file(path)
    assert main(["specs", "build", "--out", str(tmp_path / "out"), str(path)]) == 2
    assert "logo.png: not a frontend guide: not UTF-8 text" in capsys.readouterr().err


def test_a_utf16_copy_of_a_guide_is_refused_as_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_text(guide_path("tutorhub-enrollmentmanagement").read_text(encoding="utf-8"), encoding="utf-16")
    with pytest.raises(GuideError, match="not UTF-8 text"):
        parse_guide_file(path)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("", encoding="utf-8")
    with pytest.raises(GuideError, match=r"^empty\.txt: not a frontend guide"):
        parse_guide_file(path)


def test_a_guide_head_without_an_api_reference_is_refused(synthetic: SyntheticGuide) -> None:
    synthetic.api_reference = False
    with pytest.raises(GuideError, match=r"^head\.txt: not a frontend guide: it has no 'API Reference' section$"):
        parse_guide(synthetic.text(), source="head.txt")


def test_an_api_reference_without_any_api_is_refused(synthetic: SyntheticGuide) -> None:
    synthetic.apis = {}
    with pytest.raises(GuideError, match=r"^noapis\.txt: not a frontend guide: no API in its 'API Reference' section$"):
        parse_guide(synthetic.text(), source="noapis.txt")


def test_a_missing_guide_file_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.txt"
    assert main(["specs", "build", "--out", str(tmp_path / "out"), str(missing)]) == 2
    assert capsys.readouterr().err == f"error: {missing}: No such file or directory\n"


def test_check_also_exits_2_on_a_non_guide(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notaguide.txt"
    path.write_text(NOT_A_GUIDE, encoding="utf-8")
    assert main(["specs", "check", str(path)]) == 2
    assert "notaguide.txt: not a frontend guide" in capsys.readouterr().err
