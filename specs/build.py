"""Build and check the committed OpenAPI files from the guides."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .emitter import emit_openapi
from .model import Service
from .parser import parse_guide_file

SPECS_DIR = Path(__file__).resolve().parent
GUIDES_DIR = SPECS_DIR / "guides"
OPENAPI_DIR = SPECS_DIR / "openapi"


class _Dumper(yaml.SafeDumper):
    """Block-style YAML that keeps key order and never emits anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def render_yaml(document: dict[str, Any]) -> str:
    """The YAML text of an OpenAPI document (stable: same input, same bytes)."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


@dataclass
class BuildResult:
    """One guide's outcome: the service, where its spec goes, and whether the file differs."""

    guide: Path
    service: Service
    target: Path
    text: str
    stale: bool = field(default=False)


def build(guides: list[Path] | None = None, out_dir: Path = OPENAPI_DIR, *, write: bool = True) -> list[BuildResult]:
    """Parse each guide, emit its spec and (with `write`) save it as `<project>-<service>.yaml`."""
    paths = guides or sorted(GUIDES_DIR.glob("*.txt"))
    results = []
    for guide in paths:
        service = parse_guide_file(guide)
        text = render_yaml(emit_openapi(service))
        target = out_dir / f"{service.slug}.yaml"
        stale = not target.exists() or target.read_text(encoding="utf-8") != text
        if write and stale:
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        results.append(BuildResult(guide=guide, service=service, target=target, text=text, stale=stale))
    return results


def validate(document: dict[str, Any]) -> None:
    """Raise if the document is not valid OpenAPI 3.1 (openapi-spec-validator)."""
    from openapi_spec_validator import validate as _validate

    _validate(document)


def load_spec(path: str | Path) -> dict[str, Any]:
    """Read one spec file (YAML or JSON) into a dict."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def default_spec_paths() -> list[Path]:
    """The committed specs the twin serves by default."""
    return sorted(OPENAPI_DIR.glob("*.yaml"))
