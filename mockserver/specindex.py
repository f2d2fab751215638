"""The specs, read once at start-up into flat tables the request path can use directly.

Nothing on the request path parses the spec: each operation's parameters, compiled validators,
filters, joins and envelope facts are computed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from specs.build import LoadedSpec, load_spec

from .bodyrule import BodyRule
from .validation import CompiledParam, Expectation, compile_body, compile_param

X = "x-twin-"


@dataclass(frozen=True)
class FilterDef:
    """A declared list filter and its semantics (from `x-twin-filter`)."""

    name: str
    property: str
    type: str
    match: str
    case_insensitive: bool
    null: bool
    specials: tuple[str, ...]
    is_array: bool
    param: CompiledParam


@dataclass
class DataObjectSpec:
    """A data object: its properties, enums (with option → index) and relations."""

    name: str
    properties: dict[str, dict[str, Any]]
    relations: list[dict[str, Any]]
    filters: list[str]
    default_apis: dict[str, str | None]
    enum_index: dict[str, dict[str, int]] = field(default_factory=dict)
    tenant_field: str | None = None

    def relation(self, prop: str) -> dict[str, Any] | None:
        return next((r for r in self.relations if r["property"] == prop), None)

    @cached_property
    def fields(self) -> list[FieldPlan]:
        """Each property as a create fills it in (read on every create: computed once)."""
        return [FieldPlan(name, prop["type"], bool(prop.get("required")), bool(prop.get("isArray")),
                          self.enum_index.get(name), prop) for name, prop in self.properties.items()]


@dataclass(frozen=True)
class FieldPlan:
    """One property of a data object, flattened for the create path."""

    name: str
    type: str
    required: bool
    is_array: bool
    enum_index: dict[str, int] | None  # option -> index, for enums (their `<name>_idx`)
    prop: dict[str, Any]


@dataclass
class Operation:
    """One operation, with everything the engine needs precomputed."""

    service: ServiceSpec
    api: str
    method: str
    path: str
    route: str
    action: str
    data_object: str | None
    data_name: str
    status: int
    is_list: bool
    select_list: bool
    fields: list[str]
    joins: list[dict[str, Any]]
    extra_keys: list[str]
    path_params: list[CompiledParam]
    query_params: list[CompiledParam]
    header_params: list[CompiledParam]
    filters: list[FilterDef]
    paged: bool
    paging_params: dict[str, CompiledParam]
    body: Any
    body_required: bool
    body_names: list[str]
    default_role: str | None
    full_record: bool
    facts: dict[str, Any] = field(default_factory=dict)
    body_rule: BodyRule = field(default_factory=lambda: BodyRule(None, {}, None))
    # The response schema of the resource and of each extra key: what the twin answers when it
    # has no data behind them (see samples.py).
    resource_schema: dict[str, Any] = field(default_factory=dict)
    extra_schemas: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.service.slug}:{self.api}"


@dataclass
class ServiceSpec:
    """One service's spec: identity, data objects, foreign objects and operations."""

    slug: str
    project: str
    service: str
    base_path: str
    spec_file: str
    tenant_header: str | None
    data_objects: dict[str, DataObjectSpec]
    foreign_objects: dict[str, dict[str, str]]
    default_page_size: int
    max_page_size: int
    tenant_object: str | None = None  # what a tenant is (`company`, `school`)
    roles: list[dict[str, Any]] = field(default_factory=list)  # the roles the guide names (`x-twin-roles`)
    operations: list[Operation] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict, repr=False)

    def operation(self, api: str) -> Operation:
        """The operation named `api` (KeyError when the guide has none)."""
        for op in self.operations:
            if op.api == api:
                return op
        raise KeyError(api)


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return target
    return node


def options(prop: dict[str, Any]) -> list[str]:
    """An enum property's options in `x-twin-data-objects` (`enum` in specs built before 0.2)."""
    return list(prop.get("options") or prop.get("enum") or [])


def success_properties(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The properties of a success answer's schema: self-contained, or (older specs) the second
    part of an `allOf` over the base envelope."""
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(doc, part).get("properties") or {})
        return merged
    return schema.get("properties") or {}


def _tenant_field(props: dict[str, dict[str, Any]], document: dict[str, Any], name: str, tenant: str) -> str | None:
    """The property holding a record's tenant: `<tenant object>Id` (`companyId`, `schoolId`), or
    one described as the tenant id."""
    schema = document["components"]["schemas"].get(name[:1].upper() + name[1:], {})
    for prop in props:
        text = str(schema.get("properties", {}).get(prop, {}).get("description", "")).lower()
        if prop == f"{tenant}Id" or "tenant id" in text:
            return prop
    return None


def load_service(source: str | Path | LoadedSpec) -> ServiceSpec:
    """One spec (a spec file, or a spec already loaded, e.g. built from a guide) as a `ServiceSpec`
    with compiled operations."""
    if not isinstance(source, LoadedSpec):
        source = LoadedSpec(load_spec(source), Path(source))
    document = source.document
    info = document["info"]
    paging = document.get(f"{X}paging") or {}
    tenant = document.get(f"{X}tenant")
    service = ServiceSpec(
        slug=source.slug,
        project=info[f"{X}project"],
        service=info[f"{X}service"],
        base_path=document.get(f"{X}base-path") or "",
        spec_file=source.name,
        tenant_header=tenant["header"] if tenant else None,
        tenant_object=(tenant.get("object") or "company") if tenant else None,
        roles=list(document.get(f"{X}roles") or []),
        data_objects={},
        foreign_objects={k: v.get("fields", {}) for k, v in (document.get(f"{X}foreign-objects") or {}).items()},
        default_page_size=int(paging.get("default-page-row-count", 25)),
        max_page_size=int(paging.get("max-page-row-count", 1000)),
        document=document,
    )
    for name, obj in (document.get(f"{X}data-objects") or {}).items():
        spec = DataObjectSpec(
            name=name, properties=obj["properties"], relations=obj["relations"], filters=obj["filters"],
            default_apis=obj.get("defaultApis") or {},
        )
        spec.enum_index = {p: {o: i for i, o in enumerate(options(d))} for p, d in spec.properties.items() if options(d)}
        spec.tenant_field = _tenant_field(spec.properties, document, name, service.tenant_object or "company") if tenant else None
        service.data_objects[name] = spec
    for path_key, item in document["paths"].items():
        for method, op in item.items():
            service.operations.append(_operation(service, document, path_key, method.upper(), op))
    return service


def filter_expectation(ext: dict[str, Any], obj: DataObjectSpec | None) -> Expectation | None:
    """A filter's valid values in words (None for a text filter, which takes any text)."""
    unset = ", or null (unset)" if ext.get("null") else ""
    kind = ext.get("type")
    if ext.get("match") == "enum" or kind == "Enum":
        prop = obj.properties.get(ext.get("property", ""), {}) if obj else {}
        options = prop.get("options") or prop.get("enum") or []
        if not options:
            return None
        case = " (any letter case)" if ext.get("caseInsensitive") else ""
        return Expectation("EnumOption", f"one of: {', '.join(map(str, options))}{case}{unset}")
    if kind == "ID":
        return Expectation("ID", f"a UUID{unset}")
    if ext.get("match") == "date" or kind == "Date":
        specials = ", ".join(ext.get("specials") or [])
        return Expectation("Date", "a day (2024-01-15), an ISO-8601 instant"
                           + (f" or one of {specials}" if specials else "") + unset)
    if kind == "Boolean":
        return Expectation("Boolean", f"true or false{unset}")
    if kind in ("Integer", "Number", "Double"):
        return Expectation("Number", f"a number{unset}")
    return None


def _parameter_filter(compiled: CompiledParam, obj: DataObjectSpec) -> FilterDef:
    """A list's request parameter named like a property of the listed object (listEnrollments'
    `tutorProfileId`) filters that property like a declared filter does: exactly, `null` matching
    an unset value where its schema takes `null`, and echoed in the answer's `filters`."""
    prop = obj.properties[compiled.name]
    ext = {"property": compiled.name, "type": prop["type"], "match": "enum" if prop["type"] == "Enum" else "exact",
           "caseInsensitive": prop["type"] == "Enum", "null": True}
    compiled.expects = compiled.expects or filter_expectation(ext, obj)
    return FilterDef(name=compiled.name, property=compiled.name, type=prop["type"], match=ext["match"],
                     case_insensitive=ext["caseInsensitive"], null=True, specials=(), is_array=bool(prop.get("isArray")),
                     param=compiled)


def _operation(service: ServiceSpec, doc: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> Operation:
    params = [_resolve(doc, p) for p in op.get("parameters", [])]
    path_params, query_params, header_params, filters = [], [], [], []
    data_object = op.get(f"{X}data-object")
    obj = service.data_objects.get(data_object) if data_object else None
    for param in params:
        compiled = compile_param(param)
        if f"{X}filter" in param:
            ext = param[f"{X}filter"]
            compiled.expects = filter_expectation(ext, obj)
            filters.append(FilterDef(
                name=param["name"], property=ext["property"], type=ext["type"], match=ext["match"],
                case_insensitive=ext["caseInsensitive"], null=ext["null"], specials=tuple(ext["specials"]),
                is_array=ext.get("isArray", False), param=compiled,
            ))
        elif param["in"] == "path":
            path_params.append(compiled)
        elif param["in"] == "query" and op[f"{X}list"] and obj is not None and param["name"] in obj.properties \
                and not compiled.paging:
            filters.append(_parameter_filter(compiled, obj))
        elif param["in"] == "query":
            query_params.append(compiled)
        elif param["in"] == "header":
            header_params.append(compiled)
    body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    status = int(op[f"{X}status"])
    success = _resolve(doc, _resolve(doc, op["responses"][str(status)])["content"]["application/json"]["schema"])
    answer = success_properties(doc, success)
    resource = answer[op[f"{X}data-name"]]
    item = resource.get("items", resource) if op[f"{X}list"] else resource
    full = "$ref" in item or ("allOf" in item and "$ref" in item["allOf"][0])
    operation = Operation(
        service=service, api=op[f"{X}api"], method=method, path=path, route=op[f"{X}route"],
        action=op[f"{X}action"], data_object=data_object if obj else None, data_name=op[f"{X}data-name"],
        status=status, is_list=op[f"{X}list"], select_list=op[f"{X}select-list"], fields=op[f"{X}fields"],
        joins=op[f"{X}joins"], extra_keys=op[f"{X}extra-keys"], path_params=path_params,
        query_params=[p for p in query_params if not p.paging], header_params=header_params, filters=filters,
        paged=any(p.paging for p in query_params), paging_params={p.name: p for p in query_params if p.paging},
        body=compile_body(body_schema) if body_schema else None,
        body_required=bool(op.get("requestBody", {}).get("required")), body_names=op.get(f"{X}body", []),
        default_role=op.get(f"{X}default-api"), full_record=full,
        resource_schema=_resolve(doc, resource),
        extra_schemas={key: _resolve(doc, answer.get(key) or {}) for key in op[f"{X}extra-keys"]},
    )
    record = doc.get("components", {}).get("schemas", {}).get((data_object or "")[:1].upper() + (data_object or "")[1:], {})
    declared = body_schema.get("properties") if isinstance(body_schema, dict) else None
    operation.body_rule = BodyRule(frozenset(declared) if isinstance(declared, dict) else None,
                                   dict(record.get("properties") or {}) if obj else {},
                                   obj.tenant_field if obj else None)
    operation.facts = {
        "api": operation.api, "method": method, "action": operation.action, "dataName": operation.data_name,
        "list": operation.is_list, "status": status, "service": service.slug,
    }
    return operation


def aiohttp_path(service: ServiceSpec, op: Operation) -> str:
    """The aiohttp route for an operation: base path + OpenAPI path (same `{param}` syntax)."""
    return service.base_path + op.path


def route_regex(path: str) -> re.Pattern[str]:
    """A regex matching an OpenAPI path template (used for fault patterns and the journal)."""
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")
