"""Targets from options, config files and environment variables — never from code."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, HTTPServer
from threading import Thread
from typing import ClassVar

import pytest

from contracts.target import ConfigError, Hook, build_target, identities_from_env, load_config


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
    found = identities_from_env("workforceos", env)
    assert {name: (i.role, i.token, i.tenant) for name, i in found.items()} == {
        "tenantOwner": ("tenantOwner", "t1", "babil"), "tenantOwner2": ("tenantOwner", "t2", "acme"),
        "superAdmin": ("superAdmin", "t3", None)}


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
