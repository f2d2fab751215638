"""`twin verify` as CI runs it (exit codes, JUnit/HTML/JSON reports) and the suite from pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from contracts_testing import post
from twin_process import BIN, ROOT


def twin_verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "twin"), "verify", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


def test_list_names_every_check_and_scenario():
    result = twin_verify("--list")
    assert result.returncode == 0
    for name in ("twin_success_envelope", "twin_error_envelope", "tutorhub.refund-window", "workforceos.tenant-isolation",
                 "airbnb.reservation-overlap", "crud.lifecycle", "auth.required"):
        assert name in result.stdout


def test_list_shows_each_guides_rule_inventory_and_nothing_unchecked():
    result = twin_verify("--list", "--spec", "airbnb")
    assert result.returncode == 0, result.stderr
    assert "airbnb-bookingmanagement.txt (airbnb-bookingmanagement):" in result.stdout
    assert "?guestId=<a>&guestId=<b> returns the records matching any of the values" in result.stdout
    assert "held by filters.exact/repeated-means-any-of[listReservations.guestId]" in result.stdout
    assert "[roles] createReservation: only guest may call it (the role table); admin, host answer 403" in result.stdout
    assert "held by roles.table/refused[createReservation:admin], roles.table/refused[createReservation:host], " \
           "roles.table/allowed[createReservation:guest]" in result.stdout
    assert "161 rules, 161 checked, 0 unchecked" in result.stdout  # 25 operations: one role rule each
    only_unchecked = twin_verify("--list", "--unchecked")
    assert "UNCHECKED" not in only_unchecked.stdout and "0 unchecked" in only_unchecked.stdout


def test_list_includes_what_plugins_register(tmp_path: Path):
    (tmp_path / "team_rules.py").write_text(
        "from contracts import scenario\n\n"
        "@scenario('team.listed-rule', projects=['tutorhub'], rules=['holds'])\n"
        "def listed(ctx):\n"
        "    ctx.expect('holds', True, 'always')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = twin_verify("--list", "--plugin", "team_rules", env=env)
    assert result.returncode == 0, result.stderr
    assert "team.listed-rule" in result.stdout


def test_unusable_options_exit_2(tmp_path: Path):
    assert twin_verify("--spec", "tutorhub").returncode == 2  # nowhere to verify
    bad = tmp_path / "bad.yaml"
    bad.write_text("baseUrl: ${NO_SUCH_VARIABLE_XYZ}\n")
    result = twin_verify("--config", str(bad))
    assert result.returncode == 2 and "NO_SUCH_VARIABLE_XYZ" in result.stderr


def test_an_unusable_spec_or_config_file_is_named_in_one_line(tmp_path: Path):
    broken, not_a_spec, binary = tmp_path / "broken.yaml", tmp_path / "notspec.yaml", tmp_path / "binary.yaml"
    broken.write_text("a: [\n")
    not_a_spec.write_text("a: 1\n")
    binary.write_bytes(b"\xff\xfe\x00junk")
    for path, why in ((broken, "not a readable spec (line 2, column 1"), (not_a_spec, "not an OpenAPI spec"),
                      (binary, "not a readable spec (not UTF-8 text")):
        result = twin_verify("--spec", str(path), "--base-url", "http://127.0.0.1:9")
        assert result.returncode == 2 and result.stderr.startswith(f"error: {path}: {why}"), result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    missing = tmp_path / "missing.yaml"
    result = twin_verify("--config", str(missing))
    assert result.returncode == 2 and result.stderr.strip() == f"error: {missing}: no such config file"


def test_verify_passes_a_clean_twin_and_writes_reports(twin_url: str, tmp_path: Path):
    junit, page, data = tmp_path / "r.xml", tmp_path / "r.html", tmp_path / "r.json"
    result = twin_verify("--base-url", twin_url, "--spec", "tutorhub", "--layers", "probes,scenarios",
                         "--junit", str(junit), "--html", str(page), "--json", str(data), "-v")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "RESULT: PASS" in result.stdout and "✓ [scenario] tutorhub.refund-window/refund-only-once" in result.stdout
    suites = ET.parse(junit).getroot()
    assert suites.get("failures") == "0" and int(suites.get("tests")) > 100
    assert {c.get("classname") for c in suites.iter("testcase")} >= {"tutorhub-enrollmentmanagement.createEnrollment"}
    assert "tutorhub-enrollmentmanagement" in page.read_text()
    report = json.loads(data.read_text())
    assert report["ok"] is True and report["leftBehind"] and report["skippedByReason"] is not None
    # only probes and scenarios ran: the webhooks no client can sign are coverage gaps, and they fail the run on demand
    gaps = twin_verify("--base-url", twin_url, "--spec", "tutorhub", "--layers", "probes,scenarios", "--fail-on-gaps", "-q")
    assert gaps.returncode == 1 and "(--fail-on-gaps)" in gaps.stdout, gaps.stdout[-2000:]


def test_verify_exits_1_when_a_rule_breaks(twin_url: str, tmp_path: Path):
    post(f"{twin_url}/__twin/reset", {})
    post(f"{twin_url}/__twin/mutants", {"active": ["slot-double-booking"]})
    try:
        result = twin_verify("--base-url", twin_url, "--spec", "tutorhub", "--layers", "scenarios",
                             "--only", "tutorhub.slot-double-booking", "--junit", str(tmp_path / "r.xml"))
    finally:
        post(f"{twin_url}/__twin/mutants", {"active": []})
    assert result.returncode == 1
    assert "booked-slot-refused" in result.stdout and "RESULT: FAIL" in result.stdout
    failures = list(ET.parse(tmp_path / "r.xml").getroot().iter("failure"))
    assert any("already booked" in (f.get("message") or "") for f in failures)


def test_missing_precondition_is_skipped_with_its_reason(twin_url: str, tmp_path: Path):
    """Without the twin's hooks (no discovery, tokens from the environment) the refund rules are skipped, not passed."""
    personas = json.loads(subprocess.run(["curl", "-s", f"{twin_url}/__twin/personas"], capture_output=True, text=True).stdout)
    env = {"PATH": "/usr/bin:/bin"}
    for persona in personas["personas"]:
        if persona["project"] == "tutorhub" and persona["name"] in ("student1", "admin"):
            env[f"TWIN_TOKEN_TUTORHUB_{persona['role'].upper()}"] = persona["token"]
    result = twin_verify("--base-url", twin_url, "--spec", "tutorhub", "--no-discovery", "--layers", "scenarios",
                         "--only", "tutorhub.refund-window", "--json", str(tmp_path / "r.json"), env=env)
    assert result.returncode == 0, result.stdout[-2000:]
    rules = [r for r in json.loads((tmp_path / "r.json").read_text())["results"] if r["rule"].startswith("tutorhub.refund-window/")]
    assert rules and all(r["status"] == "skip" for r in rules)
    assert "no hook completeLessonSlot" in rules[0]["message"]


def test_the_suite_runs_from_pytest_with_team_scenarios(twin_url: str, tmp_path: Path):
    team = tmp_path / "test_team_rules.py"
    team.write_text(
        "def test_student_lists_own_enrollments(twin_context):\n"
        "    ctx = twin_context('tutorhub')\n"
        "    reply = ctx.api('student').call('listEnrollments')\n"
        "    ctx.expect('student-lists', reply.status == 200, reply.describe())\n"
        "\n"
        "def test_missing_identity_skips(twin_context):\n"
        "    twin_context('tutorhub').api('nobody')\n"
    )
    command = [sys.executable, "-m", "pytest", "-p", "contracts.pytest_plugin", str(team), "--twin-base-url", twin_url,
               "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-rs"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "1 passed, 1 skipped" in result.stdout, result.stdout[-2000:]
    suite = [sys.executable, "-m", "pytest", "-p", "contracts.pytest_plugin", "--pyargs", "contracts.pytest_suite",
             "--twin-base-url", twin_url, "-q", "-p", "no:cacheprovider", "-k", "tutorhub and (auth or slot)",
             "--rootdir", str(tmp_path)]
    result = subprocess.run(suite, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "2 passed" in result.stdout, result.stdout[-2000:]
