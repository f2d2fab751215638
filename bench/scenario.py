"""The three benchmarked requests, read from a spec: one data object's default get, list and create
operations (the tutorhub `sys_enrollmentPayment` object by default: no business workflow, no
relations to check, an admin may call all three)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from specs.extensions import read_extensions

from . import tools

DEFAULT_SPEC = tools.ROOT / "specs" / "openapi" / "tutorhub-enrollmentmanagement.yaml"
DEFAULT_OBJECT = "sys_enrollmentPayment"
PAGE_ROWS = 25


@dataclass
class Operation:
    api: str
    method: str
    template: str
    id_param: str | None = None
    body_schema: dict[str, Any] | None = None
    status: int = 200


@dataclass
class Scenario:
    spec_path: Path
    project: str
    slug: str
    base_path: str
    obj: str
    get: Operation
    list: Operation
    create: Operation

    def create_body(self, index: int = 0) -> dict[str, Any]:
        """A valid create body: every declared body property with a plausible value."""
        schema = self.create.body_schema or {}
        body: dict[str, Any] = {}
        for name, prop in (schema.get("properties") or {}).items():
            body[name] = sample_value(name, prop, index)
        return body


def sample_value(name: str, prop: dict[str, Any], index: int) -> Any:
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if prop.get("options") or prop.get("enum"):
        return (prop.get("options") or prop["enum"])[0]
    if kind == "string":
        if prop.get("format") == "uuid":
            return str(uuid.UUID(int=index + 1))
        if prop.get("format") == "date-time":
            return "2026-01-15T10:00:00.000Z"
        return f"bench_{name}_{index:06d}"
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return None


def load(spec_path: Path = DEFAULT_SPEC, obj: str = DEFAULT_OBJECT) -> Scenario:
    spec = yaml.safe_load(spec_path.read_text())
    ext = read_extensions(spec, spec_path.name)
    if obj not in ext.data_objects:
        raise SystemExit(f"{spec_path.name} has no data object {obj!r}: {', '.join(ext.data_objects)}")
    defaults = ext.data_objects[obj].default_apis
    found: dict[str, Operation] = {}
    for op in ext.operations:
        operation = spec["paths"][op.path][op.method.lower()]
        for kind in ("get", "list", "create"):
            if op.api == defaults.get(kind):
                params = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"]
                body = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
                found[kind] = Operation(op.api, op.method, op.path, params[0] if params else None, body, op.status)
    missing = [k for k in ("get", "list", "create") if k not in found]
    if missing:
        raise SystemExit(f"{obj} in {spec_path.name} has no default {', '.join(missing)} operation")
    slug = spec_path.stem
    return Scenario(spec_path, ext.info.project, slug, ext.base_path, obj,
                    found["get"], found["list"], found["create"])
