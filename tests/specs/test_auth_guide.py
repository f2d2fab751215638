"""Reading a project's authentication guide (specs/auth.py): project, tenant, public registrations."""

from __future__ import annotations

from pathlib import Path

import pytest

from specs.auth import AuthGuideError, authentication_parts, is_auth_guide, parse_auth_guide, read_auth_guide

# ../shared next to the repository (or next to the folder of worktrees holding it)
SHARED = next((folder / "shared" / "guides" / "auth" / "solvio-authmanagement.md"
               for folder in Path(__file__).resolve().parents[3:5]
               if (folder / "shared" / "guides" / "auth" / "solvio-authmanagement.md").exists()),
              Path("../shared/guides/auth/solvio-authmanagement.md"))

SINGLE_TENANT = """
# **SHOPLY**

**FRONTEND GUIDE FOR AI CODING AGENTS - PART 1 - Authentication Management**

This document is the first part of a REST API guide for the shoply project.

## Registration Management

### `Register User` API
Registers a public user.

The `registerUser` API REST controller can be triggered via the following route:

`/v1/registeruser`

| Parameter              | Type                   | Required | Population                   |
| ---------------------- | ---------------------- | -------- | ---------------------------- |
| email  | String  | true | request.body?.["email"] |
| password  | String  | true | request.body?.["password"] |
| fullname  | String  | false | request.body?.["fullname"] |

To access the api you can use the **REST** controller with the path **POST  /v1/registeruser**

## Login Management
"""


def test_a_single_tenant_guide_gives_its_project_and_public_registration():
    guide = parse_auth_guide(SINGLE_TENANT, "shoply.md")
    assert is_auth_guide(SINGLE_TENANT)
    assert (guide.project, guide.multi_tenant, guide.tenant_header) == ("shoply", False, None)
    [register] = guide.registrations
    assert (register.api, register.method, register.path, register.tenant_level) == \
        ("registerUser", "POST", "/v1/registeruser", False)
    assert [(p.name, p.required, p.location) for p in register.params] == \
        [("email", True, "body"), ("password", True, "body"), ("fullname", False, "body")]


def test_a_text_naming_no_project_is_refused_with_the_file_named():
    with pytest.raises(AuthGuideError, match=r"notes\.md: not an authentication guide \(no project name"):
        parse_auth_guide("Some notes about logging in.", "notes.md")
    assert not is_auth_guide("Some notes about logging in.")


def test_an_unreadable_file_is_named(tmp_path: Path):
    with pytest.raises(AuthGuideError, match=r"missing\.md"):
        read_auth_guide(tmp_path / "missing.md")


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/guides/auth is not present in this checkout")
def test_the_solvio_guide_is_multi_tenant_by_school_with_a_public_tenant_user_registration():
    guide = read_auth_guide(SHARED)
    assert (guide.project, guide.multi_tenant) == ("solvio", True)
    assert (guide.tenant_name, guide.tenant_header, guide.sample_tenant) == ("school", "mbx-school-codename", "babil")
    # SaaS users and schools are created by admins: only the school users' registration is public.
    [register] = guide.registrations
    assert (register.api, register.path, register.tenant_level) == ("registerSchoolUser", "/v1/registerschooluser", True)
    assert {p.name for p in register.params if p.required} == {"password", "email", "fullname"}
    assert {p.name for p in register.params if not p.required} == {"socialCode", "avatar"}


def test_the_authentication_parts_of_a_folder_are_found(tmp_path: Path):
    (tmp_path / "shoply-authmanagement.md").write_text(SINGLE_TENANT)
    (tmp_path / "notes.txt").write_text("not a guide")
    (tmp_path / "shoply-orders.yaml").write_text("openapi: 3.1.0\n")
    (tmp_path / "shoply-intro.md").write_text(
        "# SHOPLY\n\nFRONTEND GUIDE FOR AI CODING AGENTS - PART 0 - Introduction\n\n"
        "This document is a part of a REST API guide for the shoply project.\n")
    assert authentication_parts([tmp_path]) == [tmp_path / "shoply-authmanagement.md"]
