"""Helpers for the generator tests: the pinned npm tools, and TypeScript flows written from a spec.

The TypeScript flow of a service calls every operation through openapi-fetch with the spec's
examples (so the request types must take them) and states, for every answer, the type the spec
promises: the generated type and that statement must be assignable both ways, so a free-form
object typed as an empty object, a missing key or a constant typed as `number` fails `tsc --strict`.
Each operation also reads a key its answer does not have under `@ts-expect-error`: were the
generated types `any`, that line would be an error too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = HERE / "node_modules" / ".bin"
METHODS = ("get", "post", "put", "patch", "delete")


def npm_tools() -> Path | None:
    """`node_modules/.bin` of tests/codegen, installed from the lockfile (`npm ci`) when missing;
    None when npm is not on the machine."""
    if (BIN / "tsc").exists() and (BIN / "openapi-typescript").exists():
        return BIN
    npm = shutil.which("npm")
    if npm is None:
        return None
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)
    return BIN


# Other projects' Markdown guides: ../shared next to the repository (TWIN_SHARED_MD names another folder).
SHARED_MD = Path(os.environ.get("TWIN_SHARED_MD") or ROOT.parent / "shared" / "guides" / "md")


def spec_paths(out: Path) -> list[Path]:
    """The committed specs, plus specs built into `out` from other projects' Markdown guides
    (`../shared/guides/md`) when that folder is present."""
    found = sorted((ROOT / "specs" / "openapi").glob("*.yaml"))
    if SHARED_MD.is_dir():
        from specs.build import build

        found += [r.target for r in build(sorted(SHARED_MD.glob("*.md")), out_dir=out)]
    return found


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target: Any = doc
        for part in schema["$ref"][2:].split("/"):
            target = target[part]
        schema = target
    return schema


def ts_type(doc: dict[str, Any], schema: dict[str, Any]) -> str:
    """The TypeScript type a JSON Schema promises (what a frontend would write by hand)."""
    schema = resolve(doc, schema)
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join("null" if v is None else json.dumps(v) for v in schema["enum"])
    if "allOf" in schema:
        return " & ".join(f"({ts_type(doc, part)})" for part in schema["allOf"])
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    if not kinds:
        return "unknown"
    out = []
    for kind in kinds:
        if kind == "string":
            out.append("string")
        elif kind in ("integer", "number"):
            out.append("number")
        elif kind == "boolean":
            out.append("boolean")
        elif kind == "null":
            out.append("null")
        elif kind == "array":
            out.append(f"Array<{ts_type(doc, schema.get('items') or {})}>")
        elif kind == "object":
            required = set(schema.get("required") or [])
            members = [f"{json.dumps(name)}{'' if name in required else '?'}: {ts_type(doc, prop)}"
                       for name, prop in (schema.get("properties") or {}).items()]
            if schema.get("additionalProperties") is True:
                members.append("[key: string]: unknown")
            out.append("{ " + "; ".join(members) + " }")
    return " | ".join(out)


def touches(doc: dict[str, Any], schema: dict[str, Any], path: str, depth: int = 0) -> list[str]:
    """Expressions reading every property of an answer, nested objects and array items included."""
    schema = resolve(doc, schema)
    out = [path]
    if depth > 4:
        return out
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds and isinstance(schema.get("items"), dict):
        return [*out, *touches(doc, schema["items"], f"{path}?.[0]", depth + 1)]
    for name, prop in (schema.get("properties") or {}).items():
        out += touches(doc, prop, f"{path}?.[{json.dumps(name)}]", depth + 1)
    for part in schema.get("allOf") or []:
        out += touches(doc, part, path, depth + 1)[1:]
    return out


def _parameters(doc: dict[str, Any], op: dict[str, Any], ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The openapi-fetch `params` of an operation: its examples, path ids overridable by the flow."""
    params: dict[str, dict[str, Any]] = {}
    for raw in op.get("parameters") or []:
        param = resolve(doc, raw)
        where = param["in"]
        if where == "query" and "x-twin-filter" in param:
            items = param["schema"].get("items") or {}
            if "enum" not in items:
                continue  # the flow filters by an enum: its options are what the types offer
            value: Any = [items["enum"][0]]
        elif "example" in param:
            value = param["example"]
        else:
            continue
        params.setdefault(where, {})[param["name"]] = value
    return params


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def operation_function(doc: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> str:
    """One async function calling the operation and checking its answer's types."""
    name = op["operationId"]
    params = _parameters(doc, op, {})
    path_names = [resolve(doc, p)["name"] for p in op.get("parameters") or [] if resolve(doc, p)["in"] == "path"]
    init: list[str] = []
    if params:
        parts = []
        for where, values in params.items():
            if where == "path":
                fields = ", ".join(f"{_js(k)}: ids[{_js(k)}] ?? {_js(v)}" for k, v in values.items())
                parts.append(f"path: {{ {fields} }}")
            else:
                parts.append(f"{where}: {_js(values)}")
        init.append(f"params: {{ {', '.join(parts)} }}")
    body = (((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {})
    if "example" in body:
        init.append(f"body: {_js(body['example'])}")
    status = str(op["x-twin-status"])
    schema = op["responses"][status]["content"]["application/json"]["schema"]
    expected = ts_type(doc, schema)
    reads = "\n".join(f"    use({expr});" for expr in touches(doc, schema, "answer")[1:])
    errors = [code for code in op["responses"] if code != status]
    lines = [
        f"/** {method.upper()} {path}: {op.get('summary', '')} */",
        f"export async function {name}(client: Client, ids: Record<string, string> = {{}}): Promise<Answer_{name} | undefined> {{",
        f"  void ids; // path ids the flow chains in: {', '.join(path_names) or 'none'}",
        f"  const {{ data, error }} = await client.{method.upper()}({_js(path)}, {{ {', '.join(init)} }});",
        "  if (error !== undefined) {",
        f"    const status: {' | '.join(errors)} = error.status;",
        "    use(status, error.result, error.message, error.errCode, error.date, error.detail);",
        "    return undefined;",
        "  }",
        f"  const answer: Answer_{name} = data;",
        "  const back: typeof data = answer;",
        "  use(back);",
        reads,
        "  // @ts-expect-error: the spec declares no such key, so the generated type must not have it",
        "  use(answer.keyTheTwinNeverSends);",
        "  return answer;",
        "}",
        f"type Answer_{name} = {expected};",
    ]
    return "\n".join(lines)


def typescript_flow(doc: dict[str, Any], types_module: str) -> str:
    """The flow module of one service: every operation, then the chained flow (create, list with a
    filter, get, update, delete on an object with the five default APIs; start a payment)."""
    functions = []
    by_role: dict[str, dict[str, str]] = {}
    payments = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            functions.append(operation_function(doc, path, method, op))
            if op.get("x-twin-default-api"):
                by_role.setdefault(op["x-twin-data-object"], {})[op["x-twin-default-api"]] = op["operationId"]
            if "paymentResult" in (op.get("x-twin-extra-keys") or []) and op.get("x-twin-action") == "update" \
                    and op["operationId"].lower().startswith("start"):
                payments.append(op)
    crud = next((apis for apis in by_role.values() if {"create", "list", "get", "update", "delete"} <= set(apis)), None)
    flow = ["export async function flow(client: Client): Promise<void> {"]
    if crud is not None:
        create = next(op for item in doc["paths"].values() for op in item.values() if op.get("operationId") == crud["get"])
        key = next(resolve(doc, p)["name"] for p in create["parameters"] if resolve(doc, p)["in"] == "path")
        data_name = next(op["x-twin-data-name"] for item in doc["paths"].values() for op in item.values()
                         if op.get("operationId") == crud["create"])
        flow += [
            f"  const created = await {crud['create']}(client);",
            f"  const id = created?.[{_js(data_name)}]?.id;",
            "  if (id === undefined) return;",
            f"  await {crud['list']}(client);",
            f"  await {crud['get']}(client, {{ {_js(key)}: id }});",
            f"  await {crud['update']}(client, {{ {_js(key)}: id }});",
            f"  await {crud['delete']}(client, {{ {_js(key)}: id }});",
        ]
    for op in payments:
        flow.append(f"  const paid = await {op['operationId']}(client);")
        flow.append("  use(paid?.paymentResult?.success, paid?.paymentResult?.paymentIntentInfo);")
    flow.append("}")
    header = [
        "// Written by tests/codegen from the spec; compiled with tsc --strict.",
        'import createClient from "openapi-fetch";',
        f'import type {{ paths }} from "./{types_module}";',
        "",
        "type Client = ReturnType<typeof createClient<paths>>;",
        "function use(..._values: unknown[]): void {}",
        "export function connect(baseUrl: string, token: string): Client {",
        "  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });",
        "}",
        "",
    ]
    return "\n".join([*header, *functions, "", *flow, ""])
