"""A project's guides at once: each file is recognised as the part of the project it is (a service
guide is built; the introduction, authentication, … parts are listed), a file that is no guide is
refused by name without stopping the others, and `load_specs` builds specs in memory from spec
files, guide files and folders of either (what `twin serve` and `twin verify --spec` take)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from specs_testing import SyntheticGuide, guide_path

from specs.build import OPENAPI_DIR, build_project, load_spec, load_specs
from specs.parser import GuideError
from specs.project import classify_guide, classify_guide_file, guide_files
from twin.cli import main

NOT_A_GUIDE = "Shopping list\n- milk\n- eggs\n"


def part_head(title: str, number: int = 2, project: str = "acme") -> str:
    """The opening of a non-service part in the generator's Markdown."""
    return (
        f"\n\n# **{project.upper()}**\n\n**FRONTEND GUIDE FOR AI CODING AGENTS - PART {number} - {title}**\n\n"
        f"This document is a part of a REST API guide for the {project} project.\n"
        "It is designed for AI agents that will generate frontend code to consume the project’s backend.\n\n"
        "## Login Management\n\n### `POST /login` — User Login\n"
    )


# -- which part a file is ------------------------------------------------------------------------------
@pytest.mark.parametrize(("title", "kind"), [
    ("Project Introduction &amp; Setup", "introduction"),
    ("Authentication Management", "authentication"),
    ("Verification Management", "verification"),
    ("Profile Management", "profile"),
    ("User Management", "user-management"),
    ("MCP BFF Integration", "bff"),
    ("Bff Service", "bff"),
    ("NutritionLibrary Service", "service"),
    ("Bucket Management", "other"),
])
def test_a_part_is_recognised_by_its_title(title: str, kind: str) -> None:
    part = classify_guide(part_head(title, number=4), source="part.md")
    assert (part.kind, part.number, part.project, part.form) == (kind, 4, "acme", "markdown")
    assert part.title == title.replace("&amp;", "&")


def test_service_guides_are_service_parts_in_both_forms() -> None:
    for form in ("text", "markdown"):
        guide = SyntheticGuide(form=form)  # type: ignore[arg-type]
        part = classify_guide(guide.text(), source=f"x{guide.suffix}")
        assert (part.kind, part.title, part.project, part.number, part.form) == (
            "service", "AppointmentManagement Service", "vetclinic", 3, form)


def test_the_authentication_part_keeps_its_raw_text(tmp_path: Path) -> None:
    path = tmp_path / "acme-auth.md"
    path.write_text(part_head("Authentication Management", number=1), encoding="utf-8")
    part = classify_guide_file(path)
    assert (part.kind, part.path, part.source) == ("authentication", path, "acme-auth.md")
    assert part.text == path.read_text(encoding="utf-8")
    assert "### `POST /login` — User Login" in part.text


def test_a_file_that_is_no_guide_is_refused_by_name() -> None:
    with pytest.raises(GuideError, match=r"^groceries\.txt: not a frontend guide: expected a 'FRONTEND GUIDE FOR"):
        classify_guide(NOT_A_GUIDE, source="groceries.txt")


def test_a_folder_stands_for_its_files_sorted_without_hidden_ones(tmp_path: Path) -> None:
    for name in ("b.md", "a.txt", ".hidden.md"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    single = tmp_path / "sub" / "c.md"
    single.write_text("x", encoding="utf-8")
    assert guide_files([tmp_path, single]) == [tmp_path / "a.txt", tmp_path / "b.md", single]
    with pytest.raises(FileNotFoundError):
        guide_files([tmp_path / "nowhere"])


# -- twin specs build DIR --------------------------------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: a Markdown service guide, a page-text one of another service, the auth part
    and an introduction, and a file that is no guide."""
    folder = tmp_path / "guides"
    folder.mkdir()
    SyntheticGuide(form="markdown").write(folder)
    SyntheticGuide(service="petRegistry", tenant_header=None).write(folder)
    (folder / "vetclinic-auth.md").write_text(part_head("Authentication Management", 1, "vetclinic"), encoding="utf-8")
    (folder / "vetclinic-intro.md").write_text(part_head("Project Introduction &amp; Setup", 0, "vetclinic"), encoding="utf-8")
    (folder / "groceries.txt").write_text(NOT_A_GUIDE, encoding="utf-8")
    return folder


def test_building_a_project_folder_builds_its_services_and_lists_its_other_parts(project: Path, tmp_path: Path) -> None:
    outcome = build_project([project], tmp_path / "out")
    assert [(r.guide.name, r.target.name) for r in outcome.results] == [
        ("vetclinic-appointmentmanagement.md", "vetclinic-appointmentmanagement.yaml"),
        ("vetclinic-petregistry.txt", "vetclinic-petregistry.yaml"),
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["vetclinic-appointmentmanagement.yaml", "vetclinic-petregistry.yaml"]
    assert [(p.source, p.kind) for p in outcome.parts] == [("vetclinic-auth.md", "authentication"), ("vetclinic-intro.md", "introduction")]
    assert len(outcome.errors) == 1
    assert outcome.errors[0].startswith("groceries.txt: not a frontend guide")


def test_twin_specs_build_dir_writes_the_specs_lists_the_parts_and_exits_2_for_the_junk(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    assert main(["specs", "build", "--quiet", "--out", str(out), str(project)]) == 2
    captured = capsys.readouterr()
    assert "vetclinic-appointmentmanagement.md → " in captured.out and "vetclinic-petregistry.txt → " in captured.out
    assert "vetclinic-auth.md: authentication (part 1, 'Authentication Management'): not a service guide; no spec" in captured.out
    assert "vetclinic-intro.md: introduction (part 0, 'Project Introduction & Setup'): not a service guide; no spec" in captured.out
    assert captured.err.startswith("error: groceries.txt: not a frontend guide")
    assert len(list(out.iterdir())) == 2


def test_a_project_folder_without_junk_builds_with_exit_0(project: Path, tmp_path: Path) -> None:
    (project / "groceries.txt").unlink()
    assert main(["specs", "build", "--quiet", "--out", str(tmp_path / "out"), str(project)]) == 0


def test_two_guides_of_one_service_are_not_both_built(tmp_path: Path) -> None:
    folder = tmp_path / "guides"
    folder.mkdir()
    SyntheticGuide(form="markdown").write(folder)
    SyntheticGuide().write(folder)
    outcome = build_project([folder], tmp_path / "out")
    assert [r.guide.name for r in outcome.results] == ["vetclinic-appointmentmanagement.md"]
    assert outcome.errors == [
        "vetclinic-appointmentmanagement.txt: vetclinic-appointmentmanagement is already built from "
        "vetclinic-appointmentmanagement.md; left out"]


# -- load_specs: what twin serve and twin verify take ------------------------------------------------------
def test_load_specs_builds_guides_in_memory_and_reads_spec_files(project: Path, tmp_path: Path) -> None:
    (project / "groceries.txt").unlink()
    committed = tmp_path / "tutorhub-enrollmentmanagement.yaml"
    shutil.copy(OPENAPI_DIR / committed.name, committed)
    before = sorted(p.name for p in project.iterdir())
    lines: list[str] = []
    specs = load_specs([project, committed], report=lines.append)
    assert [(s.slug, s.name, s.from_guide) for s in specs] == [
        ("vetclinic-appointmentmanagement", "vetclinic-appointmentmanagement.md", True),
        ("vetclinic-petregistry", "vetclinic-petregistry.txt", True),
        ("tutorhub-enrollmentmanagement", "tutorhub-enrollmentmanagement.yaml", False),
    ]
    assert sorted(p.name for p in project.iterdir()) == before  # nothing written
    assert specs[2].document == load_spec(OPENAPI_DIR / committed.name)
    assert "vetclinic-auth.md: authentication (part 1, 'Authentication Management'): not a service guide; left out" in lines
    assert any(line.startswith("warning: vetclinic-appointmentmanagement.md:line ") and "[bad-json]" in line for line in lines)


def test_a_guide_loads_as_the_spec_twin_specs_build_writes(tmp_path: Path) -> None:
    guide = guide_path("workforceos-subscriptionmanagement")
    [loaded] = load_specs([guide])
    assert loaded.document == yaml.safe_load((OPENAPI_DIR / "workforceos-subscriptionmanagement.yaml").read_text(encoding="utf-8"))


def test_load_specs_refuses_every_bad_file_by_name_at_once(project: Path, tmp_path: Path) -> None:
    broken = project / "broken.yaml"
    broken.write_text("openapi: [unclosed\n", encoding="utf-8")
    (project / "notes.json").write_text('{"title": "not a spec"}', encoding="utf-8")
    with pytest.raises(GuideError) as raised:
        load_specs([project])
    lines = str(raised.value).splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["broken.yaml", "groceries.txt", "notes.json"]
    assert lines[2] == "notes.json: not an OpenAPI spec (no 'openapi' key)"
    with pytest.raises(FileNotFoundError):
        load_specs([tmp_path / "nowhere"])


def test_load_specs_refuses_two_sources_of_one_service(tmp_path: Path) -> None:
    guide = SyntheticGuide(form="markdown").write(tmp_path)
    with pytest.raises(GuideError, match=r"^vetclinic-appointmentmanagement\.txt: vetclinic-appointmentmanagement is already given by vetclinic-appointmentmanagement\.md$"):
        load_specs([guide, SyntheticGuide().write(tmp_path)])
