"""The specs as a TypeScript team uses them: types from openapi-typescript 7, a typed openapi-fetch
flow per service compiled with `tsc --strict` (every operation called with its examples, every
field of every answer read at the type the spec promises), and 0 errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from codegen_testing import HERE, ROOT, spec_paths, typescript_flow

SPECS = sorted((ROOT / "specs" / "openapi").glob("*.yaml"))
BUILD = HERE / "build" / "ts"

pytestmark = pytest.mark.slow


def test_typed_flows_compile_with_tsc_strict(tools: Path) -> None:
    BUILD.mkdir(parents=True, exist_ok=True)
    for old in BUILD.glob("*.ts"):
        old.unlink()
    for spec in spec_paths(HERE / "build" / "specs"):  # other projects' guides too, when present
        types = BUILD / f"{spec.stem}.ts"
        subprocess.run([str(tools / "openapi-typescript"), str(spec), "-o", str(types)], check=True,
                       capture_output=True, text=True)
        doc = yaml.safe_load(spec.read_text(encoding="utf-8"))
        (BUILD / f"{spec.stem}.flow.ts").write_text(typescript_flow(doc, spec.stem), encoding="utf-8")
    result = subprocess.run([str(tools / "tsc"), "-p", str(HERE / "tsconfig.json")], capture_output=True, text=True)
    errors = [line for line in result.stdout.splitlines() if "error TS" in line]
    assert result.returncode == 0 and errors == [], "\n".join(errors[:40]) or result.stderr


def test_a_flow_reading_a_wrong_type_fails_to_compile(tools: Path) -> None:
    """The gate itself: a flow that expects a field the twin answers as a string to be a number fails."""
    spec = SPECS[0]
    BUILD.mkdir(parents=True, exist_ok=True)
    types = BUILD / f"{spec.stem}.ts"
    if not types.exists():
        subprocess.run([str(tools / "openapi-typescript"), str(spec), "-o", str(types)], check=True, capture_output=True)
    doc = yaml.safe_load(spec.read_text(encoding="utf-8"))
    flow = typescript_flow(doc, spec.stem).replace('"requestId": string', '"requestId": number', 1)
    broken = HERE / "build" / "broken"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / f"{spec.stem}.ts").write_text(types.read_text(encoding="utf-8"), encoding="utf-8")
    (broken / "flow.ts").write_text(flow.replace(f'"./{spec.stem}"', f'"./{spec.stem}"'), encoding="utf-8")
    result = subprocess.run([str(tools / "tsc"), "--strict", "--noEmit", "--skipLibCheck", "--target", "ES2022",
                             "--module", "ESNext", "--moduleResolution", "Bundler", "--lib", "ES2022,DOM",
                             str(broken / "flow.ts")], capture_output=True, text=True, cwd=HERE)
    assert result.returncode != 0 and "requestId" in result.stdout
