"""Build specs from guides: the committed OpenAPI files, a project's folder of guides, and the
in-memory specs `twin serve` and `twin verify` take from spec files, guide files or folders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .emitter import emit_openapi
from .model import Service
from .overlay import is_overlay, with_overlay
from .parser import GuideError, parse_guide, parse_guide_file
from .project import GuidePart, classify_guide_file, guide_files

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
    """Parse each guide (with the role overlay beside it), emit its spec and (with `write`) save it
    as `<project>-<service>.yaml`."""
    paths = guides or sorted(GUIDES_DIR.glob("*.txt"))
    results = []
    for guide in paths:
        service = read_guide(guide)
        results.append(_result(guide, service, out_dir, write=write))
    return results


def read_guide(path: str | Path) -> Service:
    """The service the guide at `path` describes, with the role overlay beside it merged in (what its
    spec is emitted from). Raises `GuideError` naming the file for a broken guide or overlay."""
    return with_overlay(parse_guide_file(path), Path(path))


def _result(guide: Path, service: Service, out_dir: Path, *, write: bool) -> BuildResult:
    text = render_yaml(emit_openapi(service))
    target = out_dir / f"{service.slug}.yaml"
    stale = not target.exists() or target.read_text(encoding="utf-8") != text
    if write and stale:
        out_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return BuildResult(guide=guide, service=service, target=target, text=text, stale=stale)


@dataclass
class ProjectBuild:
    """A folder's (or a list of files') outcome: the specs of its service guides, its other parts
    (authentication, introduction, …, listed by kind), and the files refused, each message naming one."""

    results: list[BuildResult] = field(default_factory=list)
    parts: list[GuidePart] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def build_project(paths: Iterable[str | Path], out_dir: Path = OPENAPI_DIR, *, write: bool = True) -> ProjectBuild:
    """Build every service guide among `paths` (files or folders of a project's parts). Other parts are
    listed, not built; a file that is no guide (or a broken service guide) is recorded in `errors` and
    the other files are still built. Two guides of one service: the second is refused."""
    outcome = ProjectBuild()
    by_slug: dict[str, Path] = {}
    for path in guide_files(paths):
        try:
            service = service_of(path, outcome.parts)
        except GuideError as error:
            outcome.errors.append(str(error))
            continue
        if service is None:
            continue
        if service.slug in by_slug:
            outcome.errors.append(f"{path.name}: {service.slug} is already built from {by_slug[service.slug].name}; left out")
            continue
        by_slug[service.slug] = path
        outcome.results.append(_result(path, service, out_dir, write=write))
    return outcome


def service_of(path: Path, parts: list[GuidePart]) -> Service | None:
    """The service a guide file describes (with the role overlay beside it merged in), or None for
    another part of the project (appended to `parts`). Raises `GuideError` naming the file when it
    is no guide, a broken service guide, or has a broken overlay."""
    if is_overlay(path):
        raise GuideError(f"{path.name}: a role overlay, read with the guide beside it; name the guide instead")
    part = classify_guide_file(path)
    if part.kind != "service":
        parts.append(part)
        return None
    return with_overlay(parse_guide(part.text, source=path.name), path)


@dataclass(frozen=True)
class LoadedSpec:
    """An OpenAPI document to serve or verify, and the spec file or guide it was read from."""

    document: dict[str, Any]
    source: Path
    from_guide: bool = False

    @property
    def name(self) -> str:
        """The file it came from (`tutorhub-enrollmentmanagement.yaml`, `fitcheck-nutritionlibrary.md`)."""
        return self.source.name

    @property
    def slug(self) -> str:
        """`<project>-<service>` in lower case (a spec file's stem)."""
        info = self.document.get("info") or {}
        if info.get("x-twin-project") and info.get("x-twin-service"):
            return f"{info['x-twin-project']}-{info['x-twin-service']}".lower()
        return self.source.stem


SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def _one_line(error: Exception) -> str:
    """A read error in one line (YAML's own message spans several)."""
    mark = getattr(error, "problem_mark", None)
    if isinstance(error, yaml.MarkedYAMLError) and mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return " ".join(str(error).split())


def load_specs(paths: Iterable[str | Path], report: Callable[[str], None] | None = None) -> list[LoadedSpec]:
    """The specs to serve or verify from spec files, guide files and folders of either, in the order
    given (a folder's files sorted). Guides are built in memory; nothing is written. `report` receives
    one line per guide warning and per project part that is not a service (left out).

    Raises `GuideError` listing every file refused (no guide, a broken guide, an unreadable spec, two
    sources of one service) and `FileNotFoundError` for a path that does not exist.
    """
    say = report or (lambda line: None)
    loaded: list[LoadedSpec] = []
    errors: list[str] = []
    for path in guide_files(paths):
        if path.suffix.lower() in SPEC_SUFFIXES and not is_overlay(path):
            try:
                document = load_spec(path)
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
                errors.append(f"{path.name}: not a readable spec ({_one_line(error)})")
                continue
            if not isinstance(document, dict) or "openapi" not in document:
                errors.append(f"{path.name}: not an OpenAPI spec (no 'openapi' key)")
                continue
            loaded.append(LoadedSpec(document, path))
            continue
        parts: list[GuidePart] = []
        try:
            service = service_of(path, parts)
        except GuideError as error:
            errors.append(str(error))
            continue
        for part in parts:
            say(f"{part}: not a service guide; left out")
        if service is not None:
            for warning in service.warnings:
                say(f"warning: {path.name}:{warning}")
            # Through its YAML text, so a guide's spec is exactly what `twin specs build` would write.
            loaded.append(LoadedSpec(_load_yaml(render_yaml(emit_openapi(service))), path, from_guide=True))
    seen: dict[str, LoadedSpec] = {}
    for spec in loaded:
        if spec.slug in seen:
            errors.append(f"{spec.name}: {spec.slug} is already given by {seen[spec.slug].name}")
        seen.setdefault(spec.slug, spec)
    if errors:
        raise GuideError("\n".join(errors))
    return loaded


def validate(document: dict[str, Any]) -> None:
    """Raise if the document is not valid OpenAPI 3.1 (openapi-spec-validator)."""
    from openapi_spec_validator import validate as _validate

    _validate(document)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)


def load_spec(path: str | Path) -> dict[str, Any]:
    """Read one spec file (YAML or JSON) into a dict."""
    with open(path, encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_LOADER)
    return document


def default_spec_paths() -> list[Path]:
    """The committed specs the twin serves by default."""
    return sorted(OPENAPI_DIR.glob("*.yaml"))
