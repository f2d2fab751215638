"""The specs, read once at start-up into flat tables the request path can use directly.

Nothing on the request path parses the spec: each operation's parameters, compiled validators,
filters, joins and envelope facts are computed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from specs.build import LoadedSpec, load_spec
from specs.extensions import SYSTEM_FIELDS, FilterExtension, OperationExtensions, PaymentRole, read_extensions

from .bodyrule import BodyRule
from .normalforms import NORMAL_FORMS
from .validation import CompiledParam, Expectation, compile_body, compile_param


@dataclass(frozen=True)
class FilterDef:
    """A declared list filter and its semantics (the spec's filter extension)."""

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
                          self.enum_index.get(name), prop, f"{name}_idx", NORMAL_FORMS.get(prop["type"]))
                for name, prop in self.properties.items()]


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One property of a data object, flattened for the create path."""

    name: str
    type: str
    required: bool
    is_array: bool
    enum_index: dict[str, int] | None  # option -> index, for enums (their `<name>_idx`)
    prop: dict[str, Any]
    idx_name: str  # the key of an enum's index beside its value: `<name>_idx`
    normal: Callable[[Any], Any] | None  # how a value is brought to its stored form (normalforms.py)


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
    payment: PaymentRole | None = None  # its part in the shared payment flow (start, refresh, callback)
    access: frozenset[str] | None = None  # the roles that may call it (`x-twin-access`); None: every role
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
    roles: list[dict[str, Any]] = field(default_factory=list)  # the roles the guide names (`{name, tenant}`)
    # The fields every record carries besides its properties (the server sets them, never a body).
    system_fields: frozenset[str] = frozenset(SYSTEM_FIELDS)
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
    """An enum property's options (its `options`)."""
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
    with compiled operations. Raises `SpecExtensionError` (a ValueError naming the file) when one of
    its `x-twin-*` extensions has the wrong shape."""
    if not isinstance(source, LoadedSpec):
        source = LoadedSpec(load_spec(source), Path(source))
    document = source.document
    ext = read_extensions(document, source.name)
    tenant = ext.tenant
    service = ServiceSpec(
        slug=source.slug,
        project=ext.info.project,
        service=ext.info.service,
        base_path=ext.base_path,
        spec_file=source.name,
        tenant_header=tenant.header if tenant else None,
        tenant_object=(tenant.object or "company") if tenant else None,
        roles=[{"name": role.name, "tenant": role.tenant} for role in ext.roles],
        data_objects={},
        foreign_objects={name: dict(obj.fields) for name, obj in ext.foreign_objects.items()},
        default_page_size=ext.paging.default_page_row_count,
        max_page_size=ext.paging.max_page_row_count,
        system_fields=frozenset(ext.system_fields),
        document=document,
    )
    for name, obj in ext.data_objects.items():
        spec = DataObjectSpec(
            name=name, properties={p: prop.as_dict() for p, prop in obj.properties.items()},
            relations=[r.as_dict() for r in obj.relations], filters=list(obj.filters),
            default_apis=dict(obj.default_apis),
        )
        spec.enum_index = {p: {o: i for i, o in enumerate(options(d))} for p, d in spec.properties.items() if options(d)}
        spec.tenant_field = _tenant_field(spec.properties, document, name, service.tenant_object or "company") if tenant else None
        service.data_objects[name] = spec
    for op in ext.operations:
        service.operations.append(_operation(service, document, op, document["paths"][op.path][op.method.lower()]))
    return service


def filter_expectation(ext: FilterExtension, obj: DataObjectSpec | None) -> Expectation | None:
    """A filter's valid values in words (None for a text filter, which takes any text)."""
    unset = ", or null (unset)" if ext.null else ""
    kind = ext.type
    if ext.match == "enum" or kind == "Enum":
        prop = obj.properties.get(ext.property, {}) if obj else {}
        options = prop.get("options") or prop.get("enum") or []
        if not options:
            return None
        case = " (any letter case)" if ext.case_insensitive else ""
        return Expectation("EnumOption", f"one of: {', '.join(map(str, options))}{case}{unset}")
    if kind == "ID":
        return Expectation("ID", f"a UUID{unset}")
    if ext.match == "date" or kind == "Date":
        specials = ", ".join(ext.specials)
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
    ext = FilterExtension.model_validate({"property": compiled.name, "type": prop["type"], "null": True,
                                          "match": "enum" if prop["type"] == "Enum" else "exact",
                                          "caseInsensitive": prop["type"] == "Enum"})
    compiled.expects = compiled.expects or filter_expectation(ext, obj)
    return FilterDef(name=compiled.name, property=compiled.name, type=ext.type, match=ext.match,
                     case_insensitive=ext.case_insensitive, null=True, specials=(), is_array=bool(prop.get("isArray")),
                     param=compiled)


def _operation(service: ServiceSpec, doc: dict[str, Any], ext: OperationExtensions, op: dict[str, Any]) -> Operation:
    params = [_resolve(doc, p) for p in op.get("parameters", [])]
    path_params, query_params, header_params, filters = [], [], [], []
    data_object = ext.data_object
    obj = service.data_objects.get(data_object) if data_object else None
    for param in params:
        flt = ext.filters.get(param["name"])
        compiled = compile_param(param, case_insensitive=bool(flt and flt.case_insensitive),
                                 paging=param["name"] in ext.paging_params)
        if flt is not None:
            compiled.expects = filter_expectation(flt, obj)
            filters.append(FilterDef(
                name=param["name"], property=flt.property, type=flt.type, match=flt.match,
                case_insensitive=flt.case_insensitive, null=flt.null, specials=flt.specials,
                is_array=flt.is_array, param=compiled,
            ))
        elif param["in"] == "path":
            path_params.append(compiled)
        elif param["in"] == "query" and ext.is_list and obj is not None and param["name"] in obj.properties \
                and not compiled.paging:
            filters.append(_parameter_filter(compiled, obj))
        elif param["in"] == "query":
            query_params.append(compiled)
        elif param["in"] == "header":
            header_params.append(compiled)
    body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    status = ext.status
    success = _resolve(doc, _resolve(doc, op["responses"][str(status)])["content"]["application/json"]["schema"])
    answer = success_properties(doc, success)
    resource = answer[ext.data_name]
    item = resource.get("items", resource) if ext.is_list else resource
    full = "$ref" in item or ("allOf" in item and "$ref" in item["allOf"][0])
    operation = Operation(
        service=service, api=ext.api, method=ext.method, path=ext.path, route=ext.route,
        action=ext.action, data_object=data_object if obj else None, data_name=ext.data_name,
        status=status, is_list=ext.is_list, select_list=ext.select_list, fields=list(ext.fields),
        joins=[join.as_dict() for join in ext.joins], extra_keys=list(ext.extra_keys), path_params=path_params,
        query_params=[p for p in query_params if not p.paging], header_params=header_params, filters=filters,
        paged=any(p.paging for p in query_params), paging_params={p.name: p for p in query_params if p.paging},
        body=compile_body(body_schema) if body_schema else None,
        body_required=bool(op.get("requestBody", {}).get("required")), body_names=list(ext.body),
        default_role=ext.default_api, full_record=full, payment=ext.payment, access=ext.access,
        resource_schema=_resolve(doc, resource),
        extra_schemas={key: _resolve(doc, answer.get(key) or {}) for key in ext.extra_keys},
    )
    record = doc.get("components", {}).get("schemas", {}).get((data_object or "")[:1].upper() + (data_object or "")[1:], {})
    declared = body_schema.get("properties") if isinstance(body_schema, dict) else None
    operation.body_rule = BodyRule(frozenset(declared) if isinstance(declared, dict) else None,
                                   dict(record.get("properties") or {}) if obj else {},
                                   obj.tenant_field if obj else None, service.system_fields)
    operation.facts = {
        "api": operation.api, "method": ext.method, "action": operation.action, "dataName": operation.data_name,
        "list": operation.is_list, "status": status, "service": service.slug,
    }
    return operation


def aiohttp_path(service: ServiceSpec, op: Operation) -> str:
    """The aiohttp route for an operation: base path + OpenAPI path (same `{param}` syntax)."""
    return service.base_path + op.path


def route_regex(path: str) -> re.Pattern[str]:
    """A regex matching an OpenAPI path template (used for fault patterns and the journal)."""
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")
