"""The `x-twin-*` extensions of a spec, read into typed models: the one reader of the vocabulary.

The emitter (`specs/emitter.py`) writes these keys; the twin (`mockserver/specindex.py`) and the
judge (`contracts/spec.py`) read them only through `read_extensions`, each building its own view.
A key missing from a spec takes the default an older spec implies; a key of the wrong shape is an
error naming the extension and where it is (`paths./v1/x.get: x-twin-status: …`).
The vocabulary is documented in `specs/README.md`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

PREFIX = "x-twin-"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# The fields every record carries besides the guide's properties, in the order records show them
# (`id` first, the rest after the properties). The spec states them as `x-twin-system-fields`.
SYSTEM_FIELDS: tuple[str, ...] = ("id", "isActive", "recordVersion", "createdAt", "updatedAt", "_owner")

PaymentRole = Literal["start", "refresh", "callback"]
"""What an operation does in the shared payment flow: start paying an order, read its state back
from the gateway, or take the gateway's webhook (`x-twin-payment`)."""
PAYMENT_ROLES: tuple[PaymentRole, ...] = ("start", "refresh", "callback")
FilterMatch = Literal["exact", "partial", "enum", "date", "any"]


class SpecExtensionError(ValueError):
    """A spec whose `x-twin-*` extension has the wrong shape (the message names the extension and
    where it is in the document)."""


class _Extension(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


# -- parameter level -----------------------------------------------------------------------------
class FilterExtension(_Extension):
    """`x-twin-filter` on a list's filter query parameter: which property it filters and how."""

    property: str
    type: str = "String"
    match: FilterMatch = "exact"
    case_insensitive: bool = Field(False, alias="caseInsensitive")
    multiple: bool = False
    null: bool = False
    specials: tuple[str, ...] = ()
    is_array: bool = Field(False, alias="isArray")


# -- operation level -----------------------------------------------------------------------------
class JoinExtension(_Extension):
    """One joined object of a response (an item of `x-twin-joins`)."""

    key: str
    target: str | None = None
    via: tuple[str, ...] = ()
    is_array: bool = Field(False, alias="isArray")
    fields: dict[str, str] = Field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The join as the spec writes it (`key`, `target`, `via`, `isArray`, `fields`)."""
        return {"key": self.key, "target": self.target, "via": list(self.via), "isArray": self.is_array,
                "fields": dict(self.fields)}


class OperationExtensions(_Extension):
    """An operation's `x-twin-*` keys, plus those of its parameters (`filters`, `paging_params`)."""

    method: str  # upper case
    path: str  # the OpenAPI path template the operation is under
    api: str
    route: str
    data_object: str | None = Field(None, alias="data-object")
    action: str = ""
    data_name: str = Field("", alias="data-name")
    status: int = 200
    is_list: bool = Field(False, alias="list")
    default_api: Literal["create", "update", "delete", "get", "list"] | None = Field(None, alias="default-api")
    select_list: bool = Field(False, alias="select-list")
    fields: tuple[str, ...] = ()
    joins: tuple[JoinExtension, ...] = ()
    extra_keys: tuple[str, ...] = Field((), alias="extra-keys")
    body: tuple[str, ...] = ()
    derived_response: bool = Field(False, alias="derived-response")
    tenant: bool = False
    guide_line: int | None = Field(None, alias="guide-line")
    payment: PaymentRole | None = None
    # The roles that may call the operation (`x-twin-access`); None: every role.
    access: frozenset[str] | None = None
    # Parameter level, by parameter name: the filters (`x-twin-filter`) and the paging parameters
    # (`x-twin-paging`).
    filters: dict[str, FilterExtension] = Field(default_factory=dict)
    paging_params: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        """`METHOD /path`."""
        return f"{self.method} {self.path}"


# -- document level ------------------------------------------------------------------------------
class PropertyExtension(_Extension):
    """A data object's property as the guide's table declares it."""

    type: str
    is_array: bool = Field(False, alias="isArray")
    required: bool = False
    secret: bool = False
    # The enum's options in order (`enum` in specs built before 0.2).
    options: tuple[str, ...] = Field((), validation_alias=AliasChoices("options", "enum"))

    def as_dict(self) -> dict[str, Any]:
        """The property as the spec writes it (`type`, `isArray`, `required`, `secret`, `options`)."""
        out: dict[str, Any] = {"type": self.type, "isArray": self.is_array, "required": self.required,
                               "secret": self.secret}
        if self.options:
            out["options"] = list(self.options)
        return out


class RelationExtension(_Extension):
    """A property pointing at another object."""

    property: str
    target: str
    target_field: str = Field("id", alias="targetField")
    kind: str = "unknown"
    required: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The relation as the spec writes it (`property`, `target`, `targetField`, `kind`, `required`)."""
        return {"property": self.property, "target": self.target, "targetField": self.target_field,
                "kind": self.kind, "required": self.required}


class DataObjectExtension(_Extension):
    """One entry of `x-twin-data-objects`."""

    schema_ref: str = Field("", alias="schema")
    description: str = ""
    properties: dict[str, PropertyExtension] = Field(default_factory=dict)
    relations: tuple[RelationExtension, ...] = ()
    filters: tuple[str, ...] = ()
    default_apis: dict[str, str | None] = Field(default_factory=dict, alias="defaultApis")


class ForeignObjectExtension(_Extension):
    """One entry of `x-twin-foreign-objects`: the fields the service's responses show of it."""

    fields: dict[str, str] = Field(default_factory=dict)


class TenantExtension(_Extension):
    """`x-twin-tenant`: the tenant header and what a tenant is."""

    header: str
    required: bool = False
    object: str = "company"


class RoleExtension(_Extension):
    """One role of `x-twin-roles`; `tenant` when it is a tenant's role (not a platform role)."""

    name: str
    tenant: bool = False


class PagingExtension(_Extension):
    """`x-twin-paging` at document level."""

    default_page_row_count: int = Field(25, alias="default-page-row-count")
    max_page_row_count: int = Field(1000, alias="max-page-row-count")


class InfoExtensions(_Extension):
    """The `x-twin-*` keys of `info`."""

    project: str = ""
    service: str = ""
    guide: str | None = None
    warnings: tuple[str, ...] = ()


class ServerExtension(_Extension):
    """A server and its environment (`x-twin-env`, else the server's description)."""

    url: str
    env: str = ""


class SpecExtensions(_Extension):
    """Every `x-twin-*` fact of one OpenAPI document."""

    info: InfoExtensions = InfoExtensions.model_validate({})
    base_path: str = Field("", alias="base-path")
    tenant: TenantExtension | None = None
    roles: tuple[RoleExtension, ...] = ()
    data_objects: dict[str, DataObjectExtension] = Field(default_factory=dict, alias="data-objects")
    foreign_objects: dict[str, ForeignObjectExtension] = Field(default_factory=dict, alias="foreign-objects")
    paging: PagingExtension = PagingExtension.model_validate({})
    system_fields: tuple[str, ...] = Field(SYSTEM_FIELDS, alias="system-fields")
    servers: tuple[ServerExtension, ...] = ()
    operations: tuple[OperationExtensions, ...] = ()

    def operation(self, path: str, method: str) -> OperationExtensions:
        """The operation at `path` and `method` (KeyError when the document has none there)."""
        for op in self.operations:
            if op.path == path and op.method == method.upper():
                return op
        raise KeyError(f"{method.upper()} {path}")


def _x(node: Mapping[str, Any]) -> dict[str, Any]:
    """The `x-twin-*` keys of one object, without the prefix."""
    return {key[len(PREFIX):]: value for key, value in node.items() if isinstance(key, str) and key.startswith(PREFIX)}


def _describe(error: ValidationError, where: str, extension: str | None) -> str:
    """The first problem of `error` as one line: where, which extension (and key in it), what."""
    problems = []
    for item in error.errors():
        loc = list(item["loc"])
        key = extension if extension is not None else (PREFIX + str(loc.pop(0)) if loc else PREFIX.rstrip("-"))
        inner = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
        shown = repr(item["input"])
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        value = f" (got {shown})" if item["type"] != "missing" else ""
        problems.append(f"{where + ': ' if where else ''}{key}{inner}: {item['msg']}{value}")
    return "; ".join(problems)


_ModelT = TypeVar("_ModelT", bound=BaseModel)


def _validate(model: type[_ModelT], data: Any, where: str, extension: str | None = None) -> _ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise SpecExtensionError(_describe(error, where, extension)) from None


def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
    """Follow one local `$ref` (the specs share the tenant header parameter this way)."""
    if isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            if not isinstance(target, Mapping) or part not in target:
                raise SpecExtensionError(f"{node['$ref']}: the reference points at nothing in the document")
            target = target[part]
        return target
    return node


def _operations(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    paths = doc.get("paths") or {}
    if not isinstance(paths, Mapping):
        raise SpecExtensionError("paths: not a mapping of paths to operations")
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        for method, raw in item.items():  # in the document's order (the guide's)
            if method in HTTP_METHODS and isinstance(raw, Mapping):
                yield str(path), method, raw


def _operation(doc: Mapping[str, Any], path: str, method: str, raw: Mapping[str, Any]) -> OperationExtensions:
    where = f"paths.{path}.{method}"
    data: dict[str, Any] = _x(raw)
    data.setdefault("api", raw.get("operationId"))
    data.setdefault("route", path)
    if data.get("api") is None:
        raise SpecExtensionError(f"{where}: x-twin-api: missing (and no operationId)")
    filters: dict[str, FilterExtension] = {}
    paging: set[str] = set()
    for index, param in enumerate(raw.get("parameters") or []):
        param = _resolve(doc, param)
        if not isinstance(param, Mapping):
            continue
        name = str(param.get("name", ""))
        at = f"{where}.parameters[{index}]"
        ext = _x(param)
        if "filter" in ext:
            flt = ext["filter"]
            if isinstance(flt, Mapping) and "property" not in flt:
                flt = {**flt, "property": name}
            filters[name] = _validate(FilterExtension, flt, at, f"{PREFIX}filter")
        if "paging" in ext:
            if not isinstance(ext["paging"], bool):
                raise SpecExtensionError(f"{at}: {PREFIX}paging: expected true or false (got {ext['paging']!r})")
            if ext["paging"]:
                paging.add(name)
    data.update(method=method.upper(), path=path, filters=filters, paging_params=frozenset(paging))
    return _validate(OperationExtensions, data, where)


def read_extensions(doc: Mapping[str, Any], source: str = "") -> SpecExtensions:
    """Every `x-twin-*` fact of the OpenAPI document `doc` (a parsed spec), typed.

    Raises `SpecExtensionError` naming `source` (a file name, when given), the extension and its
    place in the document when an extension has the wrong shape."""
    prefix = f"{source}: " if source else ""
    try:
        info = doc.get("info") or {}
        servers = [
            {"url": s["url"], "env": s.get(f"{PREFIX}env", s.get("description", ""))}
            for s in doc.get("servers") or [] if isinstance(s, Mapping) and "url" in s
        ]
        operations = [_operation(doc, path, method, raw) for path, method, raw in _operations(doc)]
        top = _x(doc)
        if top.get("tenant") is None:
            top.pop("tenant", None)
        for key in ("data-objects", "foreign-objects", "roles", "paging"):
            if top.get(key) is None:
                top.pop(key, None)
        if isinstance(top.get("foreign-objects"), Mapping):
            top["foreign-objects"] = {k: v if v is not None else {} for k, v in top["foreign-objects"].items()}
        return _validate(SpecExtensions, {
            **top,
            "info": _validate(InfoExtensions, _x(info) if isinstance(info, Mapping) else {}, "info"),
            "servers": [_validate(ServerExtension, s, f"servers[{i}]", f"{PREFIX}env") for i, s in enumerate(servers)],
            "operations": operations,
        }, "")
    except SpecExtensionError as error:
        raise SpecExtensionError(f"{prefix}{error}") from None
