"""Targets from options, config files and environment variables — never from code."""

from __future__ import annotations

import dataclasses
import json
from http.server import BaseHTTPRequestHandler, HTTPServer
from threading import Thread
from typing import ClassVar

import pytest
from contracts_testing import AIRBNB, TUTORHUB, WORKFORCEOS

from contracts.spec import load_spec
from contracts.target import (
    ConfigError,
    Hook,
    ServiceTarget,
    build_target,
    generated_roles,
    identities_from_env,
    load_config,
)


def test_env_picks_the_specs_servers():
    target = build_target(env_name="staging", environ={}, discover=False)
    urls = {s.project: s.base_url for s in target.services}
    assert urls["tutorhub"] == "https://tutorhub-stage.mindbricks.co/enrollmentmanagement-api"
    assert len(target.services) == 3


def test_base_url_mounts_services_at_their_base_paths():
    target = build_target(base_url="http://host:1/", specs=["tutorhub", "airbnb"], environ={}, discover=False)
    assert [s.base_url for s in target.services] == ["http://host:1/enrollmentmanagement-api", "http://host:1/bookingmanagement-api"]
    already = build_target(base_url="http://host:1/enrollmentmanagement-api", specs=["tutorhub"], environ={}, discover=False)
    assert already.services[0].base_url == "http://host:1/enrollmentmanagement-api"


def test_no_target_is_a_config_error():
    with pytest.raises(ConfigError, match="--base-url"):
        build_target(environ={}, discover=False)


def test_tokens_and_tenants_from_environment_variables():
    env = {"TWIN_TOKEN_WORKFORCEOS_TENANTOWNER": "t1", "TWIN_TENANT_WORKFORCEOS_TENANTOWNER": "babil",
           "TWIN_TOKEN_WORKFORCEOS_TENANTOWNER2": "t2", "TWIN_TENANT_WORKFORCEOS_TENANTOWNER2": "acme",
           "TWIN_TOKEN_WORKFORCEOS_SUPERADMIN": "t3", "TWIN_TOKEN_TUTORHUB_STUDENT": "other project"}
    found = identities_from_env(load_spec(WORKFORCEOS), env)
    assert {name: (i.role, i.token, i.tenant) for name, i in found.items()} == {
        "tenantOwner": ("tenantOwner", "t1", "babil"), "tenantOwner2": ("tenantOwner", "t2", "acme"),
        "superAdmin": ("superAdmin", "t3", None)}


def test_identity_names_come_from_the_roles_of_any_projects_guide():
    # A project the suite has never seen: its roles are the ones its spec lists, in the guide's spelling.
    clinic = dataclasses.replace(load_spec(WORKFORCEOS), project="clinicos",
                                 roles={"superAdmin": False, "clinicOwner": True, "nurse": True})
    env = {"TWIN_TOKEN_CLINICOS_CLINICOWNER": "t1", "TWIN_TOKEN_CLINICOS_CLINICOWNER_2": "t2",
           "TWIN_TOKEN_CLINICOS_NURSE": "t3", "TWIN_TOKEN_CLINICOS_AUDITOR": "t4"}
    found = identities_from_env(clinic, env)
    assert {name: i.role for name, i in found.items()} == {
        "clinicOwner": "clinicOwner", "clinicOwner2": "clinicOwner", "nurse": "nurse", "auditor": "auditor"}


def test_schemathesis_calls_as_a_tenants_broadest_role_else_the_broadest_role():
    assert generated_roles(load_spec(TUTORHUB))[0] == "admin"
    assert generated_roles(load_spec(AIRBNB))[0] == "admin"
    assert generated_roles(load_spec(WORKFORCEOS)) == ["tenantOwner", "tenantAdmin", "tenantUser"]
    # The role table decides, not the role's name: with `admin` left out of every restricted
    # operation, `tutor` (open to more of them) comes first.
    tutorhub = load_spec(TUTORHUB)
    ops = {api: dataclasses.replace(op, access=op.access - {"admin"} | {"tutor"}) if op.access else op
           for api, op in tutorhub.operations.items()}
    assert generated_roles(dataclasses.replace(tutorhub, operations=ops))[0] == "tutor"


def test_the_generated_identity_is_the_first_preferred_role_someone_holds():
    spec = load_spec(WORKFORCEOS)
    env = {"TWIN_TOKEN_WORKFORCEOS_TENANTADMIN": "a", "TWIN_TOKEN_WORKFORCEOS_SUPERADMIN": "s"}
    service = ServiceTarget(spec=spec, base_url="http://x", identities=identities_from_env(spec, env))
    assert service.generated_identity().name == "tenantAdmin"


def test_config_file_identities_hooks_data_and_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDENT_TOKEN", "s3cret")
    path = tmp_path / "verify.yaml"
    path.write_text("""
baseUrl: http://staging.example.test
maxExamples: 3
layers: [probes, scenarios]
services:
  tutorhub:
    identities:
      student: {role: student, token: "${STUDENT_TOKEN}"}
      admin: "${ADMIN_TOKEN:-fallback}"
    hooks:
      completeLessonSlot: {method: PATCH, url: "http://admin.example.test/slots/{id}", body: {status: completed}}
      lessonSlots: GET http://admin.example.test/slots
    data:
      coursePacks: [{id: p1, tutorProfileId: t1, price: 10}]
""")
    config = load_config(path)
    target = build_target(config=config, environ={}, discover=False)
    tutorhub = next(s for s in target.services if s.project == "tutorhub")
    assert tutorhub.base_url == "http://staging.example.test/enrollmentmanagement-api"
    assert tutorhub.identity("student").token == "s3cret"
    assert tutorhub.identity("admin").token == "fallback"
    assert tutorhub.hooks["lessonSlots"].method == "GET"
    assert tutorhub.records("coursePacks") == [{"id": "p1", "tutorProfileId": "t1", "price": 10}]
    assert tutorhub.records("listings") is None
    assert target.settings.max_examples == 3 and target.settings.layers == ("probes", "scenarios")


def test_missing_variable_in_config_is_an_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("baseUrl: ${NOT_SET_ANYWHERE_1234}\n")
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE_1234"):
        load_config(path, env={})


class _Recorder(BaseHTTPRequestHandler):
    calls: ClassVar[list[tuple[str, str, object]]] = []

    def do_PATCH(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        _Recorder.calls.append(("PATCH", self.path, json.loads(self.rfile.read(length) or b"null")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args: object) -> None:
        pass


def test_hooks_fill_their_templates():
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = Hook("setLessonSlotStatus", "PATCH", f"http://127.0.0.1:{server.server_port}/slots/{{id}}",
                    {"status": "{status}", "keep": 3})
        assert hook.call(id="s1", status="completed") == {"ok": True}
        assert _Recorder.calls[-1] == ("PATCH", "/slots/s1", {"status": "completed", "keep": 3})
    finally:
        server.shutdown()
