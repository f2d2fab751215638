"""What the suite knows about a service: the facts its OpenAPI spec states with `x-twin-*` keys.

The suite reads the committed specs (never the twin's code): every check and scenario asks a
`ServiceSpec` / `OperationFacts` what the guide promises — the success status, the envelope's
`dataName`/`action`, which keys a resource carries, its enums in order, its filters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import specs

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
OPENAPI_DIR = Path(specs.__file__).resolve().parent / "openapi"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
SYSTEM_FIELDS = ("id", "isActive", "recordVersion", "createdAt", "updatedAt", "_owner")


@dataclass(frozen=True)
class PropertyFacts:
    """One property of a data object as the guide's table declares it."""

    name: str
    type: str
    is_array: bool
    required: bool
    enum: tuple[str, ...] = ()
    secret: bool = False


@dataclass(frozen=True)
class ObjectFacts:
    """A data object: its properties, relations, filters and default CRUD APIs."""

    name: str
    properties: dict[str, PropertyFacts]
    relations: tuple[dict[str, Any], ...]
    filters: tuple[str, ...]
    default_apis: dict[str, str | None]

    def enums(self) -> dict[str, tuple[str, ...]]:
        """Enum properties and their options, in the guide's order."""
        return {p.name: p.enum for p in self.properties.values() if p.enum}


@dataclass(frozen=True)
class FilterFacts:
    """A list operation's filter query parameter (`x-twin-filter`)."""

    name: str
    property: str
    type: str
    match: str
    case_insensitive: bool
    multiple: bool
    allows_null: bool
    is_array: bool
    specials: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperationFacts:
    """One operation's promises: route, envelope values, resource shape."""

    api: str
    method: str  # upper case
    path: str  # OpenAPI path template, relative to the service's base path
    route: str
    action: str
    data_name: str
    data_object: str
    status: int
    is_list: bool
    select_list: bool
    fields: tuple[str, ...]
    joins: tuple[dict[str, Any], ...]
    extra_keys: tuple[str, ...]
    body: tuple[str, ...]
    tenant: bool
    default_api: str | None
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    filters: tuple[FilterFacts, ...]
    required_body: tuple[str, ...]
    guide_line: int | None

    @property
    def label(self) -> str:
        """`METHOD /path`, the way Schemathesis names operations."""
        return f"{self.method} {self.path}"


@dataclass
class ServiceSpec:
    """A loaded spec: document facts plus every operation's facts."""

    path: Path
    raw: dict[str, Any]
    project: str
    service: str
    base_path: str
    tenant_header: str | None
    tenant_required: bool
    objects: dict[str, ObjectFacts]
    foreign: dict[str, dict[str, str]]
    operations: dict[str, OperationFacts]  # by API name
    servers: dict[str, str]  # env → URL
    default_page_size: int
    max_page_size: int
    by_label: dict[str, OperationFacts] = field(default_factory=dict)
    # The roles the guide names (`x-twin-roles`: name → True when a tenant's role) and what a
    # tenant is (`company`, `school`) for multi-tenant services.
    roles: dict[str, bool] = field(default_factory=dict)
    tenant_object: str | None = None

    @property
    def slug(self) -> str:
        """`<project>-<service>` in lower case (a committed spec's file stem; a guide may be named otherwise)."""
        if self.project and self.service:
            return f"{self.project}-{self.service}".lower()
        return self.path.stem

    def op(self, api: str) -> OperationFacts:
        """The operation named `api` (KeyError naming the spec when unknown)."""
        try:
            return self.operations[api]
        except KeyError:
            raise KeyError(f"{self.slug} has no operation {api!r}") from None

    def object(self, name: str) -> ObjectFacts:
        """The data object `name`."""
        return self.objects[name]

    def ops_for(self, data_object: str, action: str | None = None) -> list[OperationFacts]:
        """Operations acting on `data_object` (optionally only one action), in spec order."""
        return [o for o in self.operations.values()
                if o.data_object == data_object and (action is None or o.action == action)]


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow one local `$ref` (the specs use them for shared parameters)."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        return target
    return node


def _filter(param: dict[str, Any]) -> FilterFacts:
    flt = param["x-twin-filter"]
    return FilterFacts(
        name=param["name"], property=flt.get("property", param["name"]), type=flt.get("type", "String"),
        match=flt.get("match", "exact"), case_insensitive=bool(flt.get("caseInsensitive")),
        multiple=bool(flt.get("multiple")), allows_null=bool(flt.get("null")), is_array=bool(flt.get("isArray")),
        specials=tuple(str(s) for s in flt.get("specials") or ()),
    )


def _operation(doc: dict[str, Any], path: str, method: str, raw: dict[str, Any]) -> OperationFacts:
    params = [_resolve(doc, p) for p in raw.get("parameters", [])]
    body_schema = (((raw.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema") or {}
    return OperationFacts(
        api=raw.get("x-twin-api") or raw["operationId"],
        method=method.upper(),
        path=path,
        route=raw.get("x-twin-route", path),
        action=raw.get("x-twin-action", ""),
        data_name=raw.get("x-twin-data-name", ""),
        data_object=raw.get("x-twin-data-object", ""),
        status=int(raw.get("x-twin-status", 200)),
        is_list=bool(raw.get("x-twin-list")),
        select_list=bool(raw.get("x-twin-select-list")),
        fields=tuple(raw.get("x-twin-fields") or ()),
        joins=tuple(raw.get("x-twin-joins") or ()),
        extra_keys=tuple(raw.get("x-twin-extra-keys") or ()),
        body=tuple(raw.get("x-twin-body") or ()),
        tenant=bool(raw.get("x-twin-tenant")),
        default_api=raw.get("x-twin-default-api"),
        path_params=tuple(p["name"] for p in params if p.get("in") == "path"),
        query_params=tuple(p["name"] for p in params if p.get("in") == "query"),
        filters=tuple(_filter(p) for p in params if "x-twin-filter" in p),
        required_body=tuple(body_schema.get("required") or ()),
        guide_line=raw.get("x-twin-guide-line"),
    )


def _object(name: str, raw: dict[str, Any]) -> ObjectFacts:
    props = {
        key: PropertyFacts(name=key, type=value.get("type", "String"), is_array=bool(value.get("isArray")),
                           required=bool(value.get("required")), enum=tuple(value.get("options") or value.get("enum") or ()),
                           secret=bool(value.get("secret")))
        for key, value in (raw.get("properties") or {}).items()
    }
    return ObjectFacts(name=name, properties=props, relations=tuple(raw.get("relations") or ()),
                       filters=tuple(raw.get("filters") or ()), default_apis=dict(raw.get("defaultApis") or {}))


def parse_spec(doc: dict[str, Any], path: Path) -> ServiceSpec:
    """The facts of an already-parsed OpenAPI document."""
    info = doc.get("info") or {}
    tenant = doc.get("x-twin-tenant") or None
    operations: dict[str, OperationFacts] = {}
    for route, item in (doc.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method in item:
                facts = _operation(doc, route, method, item[method])
                operations[facts.api] = facts
    paging = doc.get("x-twin-paging") or {}
    spec = ServiceSpec(
        path=path, raw=doc, project=str(info.get("x-twin-project", path.stem.split("-")[0])),
        service=str(info.get("x-twin-service", "")), base_path=str(doc.get("x-twin-base-path", "")),
        tenant_header=tenant.get("header") if tenant else None, tenant_required=bool(tenant and tenant.get("required")),
        objects={name: _object(name, raw) for name, raw in (doc.get("x-twin-data-objects") or {}).items()},
        foreign={name: dict((raw or {}).get("fields") or {}) for name, raw in (doc.get("x-twin-foreign-objects") or {}).items()},
        operations=operations,
        servers={s.get("x-twin-env", s.get("description", "")): s["url"] for s in doc.get("servers") or [] if "url" in s},
        default_page_size=int(paging.get("default-page-row-count", 25)),
        max_page_size=int(paging.get("max-page-row-count", 1000)),
    )
    spec.by_label = {o.label: o for o in operations.values()}
    spec.roles = {str(r["name"]): bool(r.get("tenant")) for r in doc.get("x-twin-roles") or [] if isinstance(r, dict) and r.get("name")}
    spec.tenant_object = (tenant.get("object") or "company") if tenant else None
    return spec


@functools.lru_cache(maxsize=32)
def load_spec(path: str | Path) -> ServiceSpec:
    """Load (once) the spec at `path`."""
    resolved = Path(path).resolve()
    try:
        with resolved.open(encoding="utf-8") as handle:
            doc = yaml.load(handle, Loader=_LOADER)  # the C loader reads a spec ~10× faster
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise SpecFileError(f"{path}: not a readable spec ({where}{getattr(error, 'problem', None) or error})") from None
    except UnicodeDecodeError as error:
        raise SpecFileError(f"{path}: not a readable spec (not UTF-8 text: {error.reason})") from None
    if not isinstance(doc, dict) or "openapi" not in doc or not isinstance(doc.get("paths"), dict):
        raise SpecFileError(f"{path}: not an OpenAPI spec (no 'openapi' and 'paths' keys)")
    return parse_spec(doc, resolved)


class SpecFileError(ValueError):
    """A spec file that cannot be read as an OpenAPI spec (the message names the file)."""


def default_spec_paths() -> list[Path]:
    """Every committed spec (`specs/openapi/*.yaml`)."""
    return sorted(OPENAPI_DIR.glob("*.yaml"))


def load_specs(names: list[str]) -> list[ServiceSpec]:
    """The specs named: spec files, guide files (Markdown or page text) and folders of either (guides
    built in memory by `specs.build.load_specs`, their warnings left out), or a committed spec's
    slug or project. Raises `FileNotFoundError` for an unknown name, `ValueError` (a `GuideError`
    naming each file) for files that are no spec or guide."""
    from specs.build import load_specs as build_specs

    out: list[ServiceSpec] = []
    for name in names:
        candidate = Path(name)
        if candidate.is_dir() or (candidate.is_file() and candidate.suffix.lower() not in (".yaml", ".yml", ".json")):
            out += [parse_spec(loaded.document, loaded.source.resolve()) for loaded in build_specs([candidate])]
        else:
            out.append(load_spec(find_spec(name)))
    return out


def find_spec(name: str) -> Path:
    """A spec by path, file name, slug or project name (`tutorhub`)."""
    candidate = Path(name)
    if candidate.is_file():
        return candidate
    for path in default_spec_paths():
        if name in (path.name, path.stem) or path.stem.split("-")[0] == name:
            return path
    raise FileNotFoundError(f"no spec {name!r} (not a file, nor one of {[p.stem for p in default_spec_paths()]})")
