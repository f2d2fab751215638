"""What the suite knows about a service: the facts its OpenAPI spec states in its extensions
(read by `specs.extensions`, the one reader of the vocabulary).

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
from specs.extensions import (
    SYSTEM_FIELDS,
    DataObjectExtension,
    FilterExtension,
    OperationExtensions,
    PaymentRole,
    SpecExtensionError,
    read_extensions,
)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
OPENAPI_DIR = Path(specs.__file__).resolve().parent / "openapi"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


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
    """A list operation's filter query parameter and the semantics the guide states for it."""

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
    payment: PaymentRole | None = None  # its part in the shared payment flow (start, refresh, callback)
    access: frozenset[str] | None = None  # the roles that may call it (None: every role)

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
    # The roles the guide names (name → True when a tenant's role) and what a tenant is
    # (`company`, `school`) for multi-tenant services.
    roles: dict[str, bool] = field(default_factory=dict)
    tenant_object: str | None = None
    # The fields every record of a data object carries besides its properties.
    system_fields: tuple[str, ...] = SYSTEM_FIELDS
    guide: str | None = None  # the guide's file name the spec was built from

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


def _filter(name: str, flt: FilterExtension) -> FilterFacts:
    return FilterFacts(
        name=name, property=flt.property, type=flt.type, match=flt.match, case_insensitive=flt.case_insensitive,
        multiple=flt.multiple, allows_null=flt.null, is_array=flt.is_array, specials=flt.specials,
    )


def _operation(doc: dict[str, Any], ext: OperationExtensions, raw: dict[str, Any]) -> OperationFacts:
    params = [_resolve(doc, p) for p in raw.get("parameters", [])]
    body_schema = (((raw.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema") or {}
    return OperationFacts(
        api=ext.api,
        method=ext.method,
        path=ext.path,
        route=ext.route,
        action=ext.action,
        data_name=ext.data_name,
        data_object=ext.data_object or "",
        status=ext.status,
        is_list=ext.is_list,
        select_list=ext.select_list,
        fields=ext.fields,
        joins=tuple(join.as_dict() for join in ext.joins),
        extra_keys=ext.extra_keys,
        body=ext.body,
        tenant=ext.tenant,
        default_api=ext.default_api,
        path_params=tuple(p["name"] for p in params if p.get("in") == "path"),
        query_params=tuple(p["name"] for p in params if p.get("in") == "query"),
        filters=tuple(_filter(p["name"], ext.filters[p["name"]]) for p in params if p.get("name") in ext.filters),
        required_body=tuple(body_schema.get("required") or ()),
        guide_line=ext.guide_line,
        payment=ext.payment,
        access=ext.access,
    )


def _object(name: str, ext: DataObjectExtension) -> ObjectFacts:
    props = {
        key: PropertyFacts(name=key, type=value.type, is_array=value.is_array, required=value.required,
                           enum=value.options, secret=value.secret)
        for key, value in ext.properties.items()
    }
    return ObjectFacts(name=name, properties=props, relations=tuple(r.as_dict() for r in ext.relations),
                       filters=ext.filters, default_apis=dict(ext.default_apis))


def parse_spec(doc: dict[str, Any], path: Path) -> ServiceSpec:
    """The facts of an already-parsed OpenAPI document (`SpecFileError` naming `path` when one of
    its extensions has the wrong shape)."""
    try:
        ext = read_extensions(doc)
    except SpecExtensionError as error:
        raise SpecFileError(f"{path}: {error}") from None
    located = {(op.path, op.method): op for op in ext.operations}
    operations: dict[str, OperationFacts] = {}
    for route, item in (doc.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if (route, method.upper()) in located:
                facts = _operation(doc, located[route, method.upper()], item[method])
                operations[facts.api] = facts
    tenant = ext.tenant
    spec = ServiceSpec(
        path=path, raw=doc, project=ext.info.project or path.stem.split("-")[0],
        service=ext.info.service, base_path=ext.base_path,
        tenant_header=tenant.header if tenant else None, tenant_required=bool(tenant and tenant.required),
        objects={name: _object(name, obj) for name, obj in ext.data_objects.items()},
        foreign={name: dict(obj.fields) for name, obj in ext.foreign_objects.items()},
        operations=operations,
        servers={server.env: server.url for server in ext.servers},
        default_page_size=ext.paging.default_page_row_count,
        max_page_size=ext.paging.max_page_row_count,
    )
    spec.by_label = {o.label: o for o in operations.values()}
    spec.roles = {role.name: role.tenant for role in ext.roles if role.name}
    spec.tenant_object = (tenant.object or "company") if tenant else None
    spec.system_fields = ext.system_fields
    spec.guide = ext.info.guide
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
