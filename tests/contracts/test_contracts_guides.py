"""`twin verify` on a team's own guides: `--spec` takes guide files and folders as well as specs (built
in memory, like `twin serve` does), and a twin serving guides is verified against the specs it
serves when none is named."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from twin_process import BIN, ROOT, twin_serve

from contracts.spec import load_specs
from specs.build import GUIDES_DIR

AUTH_PART = (
    "# **WORKFORCEOS**\n\n**FRONTEND GUIDE FOR AI CODING AGENTS - PART 1 - Authentication Management**\n\n"
    "This document is the first part of a REST API guide for the workforceos project.\n"
)


@pytest.fixture(scope="module")
def guides(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A team's folder: one service guide under a name of its own, and its authentication part."""
    folder = tmp_path_factory.mktemp("team") / "guides"
    folder.mkdir()
    shutil.copy(GUIDES_DIR / "workforceos-subscriptionmanagement.txt", folder / "subscriptions.txt")
    (folder / "auth.md").write_text(AUTH_PART, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def guide_twin(guides: Path) -> Iterator[str]:
    with twin_serve(str(guides)) as twin:
        yield twin.url


def verify(*args: str, report: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    result = subprocess.run([str(BIN / "twin"), "verify", "--layers", "probes", "--json", str(report), *args],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    return result, (json.loads(report.read_text()) if report.exists() else {})


def test_spec_names_a_guide_folder(guide_twin: str, guides: Path, tmp_path: Path) -> None:
    result, report = verify("--base-url", guide_twin, "--spec", str(guides), report=tmp_path / "r.json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert [(name, s["spec"]) for name, s in report["services"].items()] == [
        ("workforceos-subscriptionmanagement", "subscriptions.txt")]


def test_a_twin_serving_guides_is_verified_against_what_it_serves(guide_twin: str, tmp_path: Path) -> None:
    result, report = verify("--base-url", guide_twin, report=tmp_path / "r.json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "twin verify: 1 service(s)" in result.stdout
    assert list(report["services"]) == ["workforceos-subscriptionmanagement"]


def test_spec_refuses_a_folder_with_junk_by_name(guides: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    shutil.copytree(guides, folder)
    (folder / "groceries.txt").write_text("Shopping list\n", encoding="utf-8")
    result, _ = verify("--base-url", "http://127.0.0.1:9", "--spec", str(folder), report=tmp_path / "r.json")
    assert result.returncode == 2
    assert result.stderr.startswith("error: groceries.txt: not a frontend guide")


def test_guide_specs_have_the_slug_of_their_service_not_of_their_file(guides: Path) -> None:
    [spec] = load_specs([str(guides)])
    assert (spec.slug, spec.path.name, len(spec.operations)) == ("workforceos-subscriptionmanagement", "subscriptions.txt", 19)
