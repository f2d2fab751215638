"""Role overlays: `<guide-stem>.roles.yaml` beside a guide states who may call which API; the build
merges it into the spec (`x-twin-access` on each listed operation, its roles in `x-twin-roles`), a
guide without one leaves every API open, and a broken overlay is refused like a broken guide (exit
2), naming the file, the line and the allowed values."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from specs_testing import SyntheticGuide, operation_by_id, operations

from specs.build import load_specs
from specs.extensions import SpecExtensionError, read_extensions
from specs.parser import GuideError
from twin.cli import main

OVERLAY = """\
# who may call what (reviewed)
roles: [vet, owner, receptionist]
access:
  createAppointment:
    roles: [owner, receptionist]
    why: "owners book their pets' visits; the front desk books for them"
  deletePet: [vet]
"""


def _folder(tmp_path: Path, synthetic: SyntheticGuide, overlay: str | None) -> Path:
    folder = tmp_path / "guides"
    folder.mkdir()
    guide = synthetic.write(folder)
    if overlay is not None:
        guide.with_name(guide.stem + ".roles.yaml").write_text(overlay, encoding="utf-8")
    return folder


def _built(tmp_path: Path, folder: Path) -> dict[str, Any]:
    out = tmp_path / "out"
    assert main(["specs", "build", "--quiet", str(folder), "--out", str(out)]) == 0
    [spec] = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in out.glob("*.yaml")]
    return spec


# -- the committed overlays --------------------------------------------------------------------------
def test_the_committed_specs_carry_each_guides_role_table(committed_specs: dict[str, dict[str, Any]]) -> None:
    tutorhub = committed_specs["tutorhub-enrollmentmanagement"]
    assert [r["name"] for r in tutorhub["x-twin-roles"]] == ["admin", "tutor", "student"]
    assert operation_by_id(tutorhub, "createEnrollment")["x-twin-access"] == ["student"]
    assert operation_by_id(tutorhub, "cancelEnrollment")["x-twin-access"] == ["admin"]
    assert "x-twin-access" not in operation_by_id(tutorhub, "getEnrollment")  # open to every role
    workforce = committed_specs["workforceos-subscriptionmanagement"]
    assert workforce["x-twin-roles"] == [
        {"name": "superAdmin", "tenant": False}, {"name": "saasAdmin", "tenant": False},
        {"name": "tenantOwner", "tenant": True}, {"name": "tenantAdmin", "tenant": True}, {"name": "tenantUser", "tenant": True}]
    assert operation_by_id(workforce, "listCompanySubscriptions")["x-twin-access"] == [
        "superAdmin", "saasAdmin", "tenantOwner", "tenantAdmin"]
    airbnb = committed_specs["airbnb-bookingmanagement"]
    assert operation_by_id(airbnb, "createDispute")["x-twin-access"] == ["host", "guest"]  # in the roles' order
    tables = sum(1 for spec in committed_specs.values() for _, _, op in operations(spec) if "x-twin-access" in op)
    assert tables == 7 + 11 + 15


# -- building with an overlay ------------------------------------------------------------------------
def test_an_overlay_beside_a_guide_becomes_the_specs_role_table(tmp_path: Path, synthetic: SyntheticGuide) -> None:
    spec = _built(tmp_path, _folder(tmp_path, synthetic, OVERLAY))
    assert spec["x-twin-roles"] == [{"name": "vet", "tenant": True}, {"name": "owner", "tenant": True},
                                    {"name": "receptionist", "tenant": True}]
    assert operation_by_id(spec, "createAppointment")["x-twin-access"] == ["owner", "receptionist"]
    assert operation_by_id(spec, "deletePet")["x-twin-access"] == ["vet"]  # the short form
    assert "x-twin-access" not in operation_by_id(spec, "listAppointments")


def test_roles_the_guide_names_need_no_declaration(tmp_path: Path, synthetic: SyntheticGuide) -> None:
    synthetic.objects["pet"] += "\nOnly users with the vet role may edit a pet."
    spec = _built(tmp_path, _folder(tmp_path, synthetic, "access:\n  deletePet: [vet]\n"))
    assert [r["name"] for r in spec["x-twin-roles"]] == ["vet"]
    assert operation_by_id(spec, "deletePet")["x-twin-access"] == ["vet"]


def test_a_guide_without_an_overlay_leaves_every_api_open(tmp_path: Path, synthetic: SyntheticGuide) -> None:
    spec = _built(tmp_path, _folder(tmp_path, synthetic, None))
    assert all("x-twin-access" not in op for _, _, op in operations(spec))
    assert spec["x-twin-roles"] == []


def test_serving_a_folder_reads_the_overlay_with_its_guide(tmp_path: Path, synthetic: SyntheticGuide) -> None:
    folder = _folder(tmp_path, synthetic, OVERLAY)
    [loaded] = load_specs([folder])  # the overlay is no spec or guide of its own
    assert operation_by_id(loaded.document, "deletePet")["x-twin-access"] == ["vet"]


def test_naming_an_overlay_instead_of_its_guide_is_refused(tmp_path: Path, synthetic: SyntheticGuide) -> None:
    folder = _folder(tmp_path, synthetic, OVERLAY)
    with pytest.raises(GuideError, match=r"vetclinic-appointmentmanagement\.roles\.yaml: a role overlay, read with the guide"):
        load_specs([folder / "vetclinic-appointmentmanagement.roles.yaml"])


# -- broken overlays -----------------------------------------------------------------------------------
BROKEN = {
    "unknown-api": ("roles: [vet]\naccess:\n  createAppointmnt: [vet]\n",
                    "line 3: access: 'createAppointmnt' is no API of vetclinic appointmentManagement "
                    "(did you mean createAppointment?); its APIs: createAppointment, "),
    "unknown-role": ("roles: [vet, owner]\naccess:\n  deletePet:\n    roles: [vet, ownr]\n",
                     "line 4: access.deletePet: unknown role 'ownr' (did you mean owner?); the roles: vet, owner "
                     "(declare others under roles:)"),
    "api-twice": ("roles: [vet]\naccess:\n  deletePet: [vet]\n  deletePet: [vet]\n",
                  "line 4: access.deletePet is given twice (first on line 3); keep one"),
    "role-twice": ("roles: [vet]\naccess:\n  deletePet: [vet, vet]\n", "line 3: access.deletePet: vet is given twice; keep one"),
    "unknown-key": ("roles: [vet]\naccess:\n  deletePet: {roles: [vet], because: x}\n",
                    "line 3: unknown key 'because' in access.deletePet (allowed: roles, why)"),
    "no-roles": ("roles: [vet]\naccess:\n  deletePet: []\n", "line 3: access.deletePet: no role may call it"),
    "not-a-list": ("roles: [vet]\naccess:\n  deletePet: vet\n",
                   "line 3: access.deletePet: give its roles as a list ([role, …]) or as {roles: [role, …], why: …}, not 'vet'"),
    "not-yaml": ("access: [\n", "not valid YAML (line 2, column 1"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_overlay_is_refused_naming_file_line_and_allowed_values(
        case: str, tmp_path: Path, synthetic: SyntheticGuide, capsys: pytest.CaptureFixture[str]) -> None:
    text, message = BROKEN[case]
    folder = _folder(tmp_path, synthetic, text)
    assert main(["specs", "build", "--quiet", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"error: vetclinic-appointmentmanagement.roles.yaml: {message}" in err
    assert not (tmp_path / "out").exists()  # nothing half-built from it


def test_other_guides_are_still_built_beside_a_broken_overlay(tmp_path: Path, synthetic: SyntheticGuide,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path, synthetic, "access:\n  nothing: [vet]\n")
    other = SyntheticGuide(project="petshop", service="orderManagement")
    other.write(folder)
    assert main(["specs", "build", "--quiet", str(folder), "--out", str(tmp_path / "out")]) == 2
    assert [p.name for p in (tmp_path / "out").glob("*.yaml")] == ["petshop-ordermanagement.yaml"]
    assert "'nothing' is no API of vetclinic appointmentManagement" in capsys.readouterr().err


# -- the reader ----------------------------------------------------------------------------------------
def test_the_one_reader_gives_each_operations_roles(committed_specs: dict[str, dict[str, Any]]) -> None:
    doc = committed_specs["tutorhub-enrollmentmanagement"]
    extensions = read_extensions(doc)
    assert extensions.operation("/v1/cancelenrollment/{enrollmentId}", "patch").access == frozenset({"admin"})
    assert extensions.operation("/v1/enrollments/{enrollmentId}", "get").access is None  # every role
    broken = copy.deepcopy(doc)
    broken["paths"]["/v1/cancelenrollment/{enrollmentId}"]["patch"]["x-twin-access"] = "admin"
    with pytest.raises(SpecExtensionError, match="x-twin-access"):
        read_extensions(broken)
