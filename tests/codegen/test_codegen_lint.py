"""The committed specs pass the linters teams run: Spectral (`spectral:oas`, every rule but those
`.spectral.yaml` turns off with its reason) and Redocly (recommended, likewise `redocly.yaml`)
report no error and no warning."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from codegen_testing import ROOT

SPECS = sorted(str(p) for p in (ROOT / "specs" / "openapi").glob("*.yaml"))

pytestmark = pytest.mark.slow


def test_spectral_reports_nothing(tools: Path, tmp_path: Path) -> None:
    report = tmp_path / "spectral.json"
    result = subprocess.run([str(tools / "spectral"), "lint", "--format", "json", "--output", str(report),
                             "--fail-severity", "hint", "--ruleset", str(ROOT / ".spectral.yaml"), *SPECS],
                            capture_output=True, text=True, cwd=ROOT)
    findings = json.loads(report.read_text(encoding="utf-8"))
    assert findings == [] and result.returncode == 0, [(f["code"], f["message"], f["path"]) for f in findings[:20]]


def test_redocly_reports_nothing(tools: Path) -> None:
    result = subprocess.run([str(tools / "redocly"), "lint", "--format", "json", *SPECS],
                            capture_output=True, text=True, cwd=ROOT)
    decoder, text, at, reports = json.JSONDecoder(), result.stdout, result.stdout.index("{"), []
    while at < len(text):  # one JSON report per spec
        report, at = decoder.raw_decode(text, at)
        reports.append(report)
        while at < len(text) and text[at].isspace():
            at += 1
    assert len(reports) == len(SPECS)
    for report in reports:
        assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, report["problems"][:20]
