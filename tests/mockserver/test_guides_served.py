"""`twin serve` takes a team's guides as they are: guide files or a folder of a project's parts, as
well as specs. Guides are built in memory; each mounted service's document is served at
`/__twin/specs/<slug>`; a folder holding a file that is no guide is refused naming the file."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from specs.build import GUIDES_DIR, OPENAPI_DIR, load_spec
from twin.cli import main

AUTH_PART = (
    "# **TUTORHUB**\n\n**FRONTEND GUIDE FOR AI CODING AGENTS - PART 1 - Authentication Management**\n\n"
    "This document is the first part of a REST API guide for the tutorhub project.\n"
)


@pytest.fixture
def guides(tmp_path: Path) -> Path:
    """A project folder: the workforceos service guide (page text, renamed) with its role overlay
    beside it, and an auth part."""
    folder = tmp_path / "guides"
    folder.mkdir()
    shutil.copy(GUIDES_DIR / "workforceos-subscriptionmanagement.txt", folder / "part-9.txt")
    shutil.copy(GUIDES_DIR / "workforceos-subscriptionmanagement.roles.yaml", folder / "part-9.roles.yaml")
    (folder / "auth.md").write_text(AUTH_PART, encoding="utf-8")
    return folder


async def test_a_guide_folder_is_served_as_its_service_guides(make_twin: Callable[..., Any], guides: Path) -> None:
    twin = await make_twin(guides)
    services = (await (await twin.client.get("/__twin/services")).json())["services"]
    assert [(s["slug"], s["spec"], s["basePath"], s["operations"]) for s in services] == [
        ("workforceos-subscriptionmanagement", "part-9.txt", "/subscriptionmanagement-api", 19)]
    assert sorted(p.name for p in guides.iterdir()) == ["auth.md", "part-9.roles.yaml", "part-9.txt"]  # nothing written


async def test_each_mounted_document_is_served_and_a_guide_gives_its_built_spec(
    make_twin: Callable[..., Any], guides: Path,
) -> None:
    twin = await make_twin(guides, OPENAPI_DIR / "tutorhub-enrollmentmanagement.yaml")
    for slug in ("workforceos-subscriptionmanagement", "tutorhub-enrollmentmanagement"):
        response = await twin.client.get(f"/__twin/specs/{slug}")
        assert response.status == 200
        served, committed = await response.json(), load_spec(OPENAPI_DIR / f"{slug}.yaml")
        if slug.startswith("workforceos"):  # built from the guide, which the user named part-9.txt
            assert served["info"].pop("x-twin-guide") == "part-9.txt"
            committed["info"].pop("x-twin-guide")
        assert served == committed
    missing = await twin.client.get("/__twin/specs/nope")
    body = await missing.json()
    assert (missing.status, body["message"]) == (404, "errMsg_serviceNotFound")
    assert "tutorhub-enrollmentmanagement" in body["detail"]


def test_serve_refuses_a_folder_with_a_file_that_is_no_guide(guides: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (guides / "groceries.txt").write_text("Shopping list\n- milk\n", encoding="utf-8")
    assert main(["serve", "--port", "1", str(guides)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: groceries.txt: not a frontend guide")
    assert "auth.md: authentication (part 1, 'Authentication Management'): not a service guide; left out" in captured.out


def test_serve_names_a_path_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--spec", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nowhere'}: no such spec, guide or folder\n"
