"""`Service` → an OpenAPI 3.1 document (a plain dict, ready for YAML).

What OpenAPI can say (routes, parameters, bodies, envelopes, enums) is said in OpenAPI; what it
cannot (the data object behind an operation, its action and dataName, joins, filter semantics,
the tenant header rule) goes into `x-twin-*` extensions, documented in `specs/README.md`.
"""

from __future__ import annotations

import re
from typing import Any

from .examples import ServiceExamples, error_example
from .extensions import SYSTEM_FIELDS
from .model import Api, DataObject, FilterParam, GuideType, Join, Parameter, Service
from .parser import full_fields
from .payment import payment_role
from .prose import is_platform_role, required_keys, tenant_object
from .values import DATETIME_PATTERN, FILTER_DATE_PATTERN, UUID_PATTERN

OPENAPI_VERSION = "3.1.0"
X = "x-twin-"
INT32 = {"minimum": -(2**31), "maximum": 2**31 - 1}  # the backends store Integer as a 32-bit column
# JSON Schema 2020-12 treats `format` as an annotation, so generators (Schemathesis) may ignore it:
# a pattern makes IDs and date-times assertable, and the twin validates exactly this.
UUID_VALUE = {"type": "string", "format": "uuid", "pattern": f"^{UUID_PATTERN}$"}
DATETIME_VALUE = {"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN}
# The schema of each system field (`SYSTEM_FIELDS`, `specs/extensions.py`).
SYSTEM_FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "id": UUID_VALUE,
    "isActive": {"type": "boolean"},
    "recordVersion": {"type": "integer", "minimum": 1},
    "createdAt": DATETIME_VALUE,
    "updatedAt": DATETIME_VALUE,
    "_owner": {"type": ["string", "null"]},
}
ERROR_STATUSES = {
    "400": "The request was improperly formatted or contained invalid parameters.",
    "401": "The request lacked a valid authentication token; login is required.",
    "403": "The current token does not grant access to the requested resource.",
    "404": "The requested resource was not found on the server.",
    "500": "The server encountered an unexpected condition.",
}
# What each error example says (the guides' errMsg_ style).
ERROR_MESSAGES = {
    "400": "errMsg_bodyMustBeAJsonObject", "401": "errMsg_loginRequired", "403": "errMsg_accessDenied",
    "404": "errMsg_recordNotFound", "500": "errMsg_internalServerError",
}
DEFAULT_PAGE_ROW_COUNT = 25
MAX_PAGE_ROW_COUNT = 1000


def schema_name(obj_name: str) -> str:
    """The component name of a data object (`sys_paymentMethod` → `Sys_paymentMethod`)."""
    return obj_name[:1].upper() + obj_name[1:]


def scalar_schema(type_: GuideType, *, enum: list[str] | None = None, id_format: bool = True) -> dict[str, Any]:
    """The JSON Schema of one value of a guide type."""
    if type_ == "Enum":
        return {"type": "string", "enum": list(enum)} if enum else {"type": "string"}
    schemas: dict[str, dict[str, Any]] = {
        "ID": dict(UUID_VALUE) if id_format else {"type": "string"},
        "String": {"type": "string"},
        "Text": {"type": "string"},
        "Integer": {"type": "integer", **INT32},
        "Double": {"type": "number"},
        "Number": {"type": "number"},
        "Boolean": {"type": "boolean"},
        "Date": dict(DATETIME_VALUE),
        # Free-form: an open object, so generators type it as a map instead of an empty object.
        "Object": {"type": "object", "additionalProperties": True},
    }
    return schemas[type_]


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema, also admitting null."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def value_schema(type_: GuideType, *, is_array: bool = False, enum: list[str] | None = None,
                 optional: bool = False, id_format: bool = True) -> dict[str, Any]:
    """A property's schema: arrays wrap the scalar; optional values may be null."""
    schema = scalar_schema(type_, enum=enum, id_format=id_format)
    if is_array:
        schema = {"type": "array", "items": schema}
    return nullable(schema) if optional else schema


def record_schema(obj: DataObject) -> dict[str, Any]:
    """The full record of a data object, system fields and `<enum>_idx` included."""
    props: dict[str, Any] = {"id": dict(UUID_VALUE)}
    required = ["id"]
    for prop in obj.properties:
        props[prop.name] = value_schema(prop.type, is_array=prop.is_array, enum=prop.enum, optional=not prop.required)
        if prop.required:
            required.append(prop.name)
        if prop.type == "Enum":
            idx = {"type": "integer", "minimum": 0}
            if prop.enum:
                idx["maximum"] = len(prop.enum) - 1
            props[f"{prop.name}_idx"] = idx if prop.required else nullable(idx)
            if prop.required:
                required.append(f"{prop.name}_idx")
        if prop.description:
            props[prop.name] = {**props[prop.name], "description": prop.description}
    # `id` comes first (above), the other system fields after the guide's properties.
    trailing = [name for name in SYSTEM_FIELDS if name != "id"]
    props.update({name: dict(SYSTEM_FIELD_SCHEMAS[name]) for name in trailing})
    required += trailing
    return {"type": "object", "description": obj.description, "required": required, "properties": props}


def filter_item_schema(flt: FilterParam) -> dict[str, Any]:
    """The schema of one value of a filter query parameter (repeat the parameter for 'any of')."""
    null = ["null"] if flt.null else []
    if flt.match == "enum" and flt.enum:
        # Typed by its options so generators offer them; the twin and the backends also take them
        # in any letter case when the guide says so (`x-twin-filter.caseInsensitive`).
        return {"type": "string", "enum": flt.enum + null}
    if flt.match == "exact" and flt.type == "ID":
        return {"type": "string", "pattern": f"^({UUID_PATTERN}{'|null' if null else ''})$"}
    if flt.match == "date":
        specials = [re.escape(s.replace("-<date>", "-")) + (FILTER_DATE_PATTERN if s.endswith("-<date>") else "") for s in flt.specials]
        return {"type": "string", "pattern": "^(" + "|".join([FILTER_DATE_PATTERN, *specials, *null]) + ")$"}
    if flt.type == "Boolean":
        return {"type": "string", "pattern": "^(true|false" + ("|null" if null else "") + ")$"}
    if flt.type in ("Integer", "Double", "Number"):
        return {"type": "string", "pattern": r"^(-?[0-9]+(\.[0-9]+)?" + ("|null" if null else "") + ")$"}
    return {"type": "string", "minLength": 1}


def _filter_extension(flt: FilterParam, obj: DataObject | None) -> dict[str, Any]:
    prop = obj.find_property(flt.name) if obj else None
    return {
        "property": flt.name,
        "type": flt.type,
        "match": flt.match,
        "caseInsensitive": flt.case_insensitive,
        "multiple": flt.multiple,
        "null": flt.null,
        "specials": flt.specials,
        "isArray": bool(prop and prop.is_array),
    }


def _parameter(param: Parameter, example: Any, *, filters: bool = False) -> dict[str, Any]:
    schema = value_schema(param.type, is_array=param.is_array, enum=param.enum)
    if filters and not param.is_array and param.type in ("ID", "Enum"):
        # A list's parameter named like a property of the listed object filters that property (the
        # twin applies it like a declared filter), so, as for a filter, `null` asks for the unset ones.
        schema = ({"type": "string", "pattern": f"^({UUID_PATTERN}|null)$"} if param.type == "ID"
                  else {**schema, "enum": [*schema.get("enum", []), "null"]})
    out: dict[str, Any] = {"name": param.name, "in": param.location, "required": param.location == "path" or param.required}
    if param.description:
        out["description"] = param.description
    if param.is_array and param.location == "query":
        out.update(style="form", explode=True)
        example = example if isinstance(example, list) else [example]
    out["schema"] = schema
    out["example"] = example
    return out


def _body_schema(params: list[Parameter], obj: DataObject | None) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for param in params:
        # An optional parameter may be left out; it may be null only when its property may be.
        prop = obj.find_property(param.name) if obj else None
        may_be_null = not param.required and not (prop and prop.required)
        schema = value_schema(param.type, is_array=param.is_array, enum=param.enum, optional=may_be_null)
        if param.type == "Object" and (keys := required_keys(param.description)):
            # Declared as well as required, so a generator gives them a type (ids are strings).
            declared = {k: {"type": "string", "minLength": 1} if k.lower().endswith("id") else {} for k in keys}
            schema = {**schema, "properties": declared, "required": keys}
        if param.description:
            schema["description"] = param.description
        props[param.name] = schema
        if param.required:
            required.append(param.name)
    body: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        body["required"] = required
    return body


def _join_schema(join: Join) -> dict[str, Any]:
    item = {
        "type": ["object", "null"],
        "properties": {name: nullable(scalar_schema(t, id_format=False)) for name, t in join.fields.items()},
    }
    if join.is_array:
        return {"type": "array", "items": {**item, "type": "object"}}
    return item


def _example_schema(example: Any) -> dict[str, Any]:
    """A schema for an extra key's example (`paymentResult`): type names become types."""
    from .tables import normalize_type

    if isinstance(example, bool):
        return {"type": "boolean"}
    if isinstance(example, int):
        return {"type": "integer"}
    if isinstance(example, float):
        return {"type": "number"}
    if isinstance(example, dict):
        # The guide's example shows every key the answer carries: all of them are sent (maybe null).
        return {"type": "object", "required": list(example),
                "properties": {k: _example_schema(v) for k, v in example.items()}}
    if isinstance(example, list):
        # The guides show a list as its first item followed by empty ones: `[{…}, {}, {}]`.
        item = next((v for v in example if v not in ({}, [], None, "")), None)
        return {"type": "array", "items": _example_schema(item) if item is not None else {}}
    type_, _ = normalize_type(str(example))
    return nullable(scalar_schema(type_ or "String", id_format=False))


def resource_schema(api: Api, obj: DataObject | None) -> dict[str, Any]:
    """The schema of the resource under the dataName key (one item, for lists)."""
    shape = api.response
    joins = {j.key: _join_schema(j) for j in shape.joins}
    if obj is not None and not shape.select_list and set(shape.fields) == set(full_fields(obj)):
        base: dict[str, Any] = {"$ref": f"#/components/schemas/{schema_name(obj.name)}"}
        if joins:
            return {"allOf": [base, {"type": "object", "properties": joins}]}
        return base
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, type_ in shape.fields.items():
        prop = obj.find_property(name) if obj else None
        if prop is not None:
            props[name] = value_schema(prop.type, is_array=prop.is_array, enum=prop.enum, optional=not prop.required)
        elif name.endswith("_idx"):
            props[name] = {"type": ["integer", "null"], "minimum": 0}
        elif name in SYSTEM_FIELDS:
            props[name] = record_schema(obj)["properties"][name] if obj else scalar_schema(type_)
        else:
            props[name] = nullable(scalar_schema(type_))
        required.append(name)
    props.update(joins)
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": props}
    if shape.select_list:
        schema["additionalProperties"] = False
    return schema


# The success envelope's keys (the guides' order) and their schemas; each operation restates them
# in one self-contained schema with its own constants (statusCode, dataName, method, action), since
# generators cannot merge a constant over a base property (`allOf`), and the exact values stay
# checkable by any JSON Schema validator.
ENVELOPE_PROPERTIES: dict[str, Any] = {
    "status": {"type": "string", "const": "OK"},
    "statusCode": {"type": "integer"},
    "elapsedMs": {"type": "number", "minimum": 0},
    "ssoTime": {"type": "number"},
    "source": {"type": "string"},
    "cacheKey": {"type": ["string", "null"]},
    "userId": {"type": ["string", "null"]},
    "sessionId": {"type": ["string", "null"]},
    "requestId": {"type": "string", "minLength": 1},
    "dataName": {"type": "string"},
    "method": {"type": "string"},
    "action": {"type": "string"},
    "appVersion": {"type": "string"},
    "rowCount": {"type": "integer", "minimum": 0},
}
LIST_PROPERTIES: dict[str, Any] = {
    "paging": {"$ref": "#/components/schemas/Paging"},
    "filters": {
        "type": "array",
        "description": "The filters applied to this list, with the values asked for.",
        "items": {"$ref": "#/components/schemas/AppliedFilter"},
    },
    "uiPermissions": {"type": "array", "items": {"type": "string"}},
}
# Keys an API's description says its answer carries beyond the guide's example (the hosted checkout a
# frontend must redirect to): (phrase in the description, {key: schema}).
DESCRIBED_EXTRAS: tuple[tuple[str, dict[str, Any]], ...] = (
    (r"checkout url", {
        "checkoutUrl": {"type": ["string", "null"], "format": "uri",
                        "description": "The hosted checkout page to redirect the user to (null when nothing is due)."},
        "checkoutSessionId": {"type": ["string", "null"],
                              "description": "The checkout session's id (null when nothing is due)."},
    }),
)


def extra_keys(api: Api) -> dict[str, dict[str, Any]]:
    """Top-level keys the answer carries besides the envelope and the resource, with their schemas:
    the guide example's extras (`paymentResult`) and those its description promises (`checkoutUrl`)."""
    out = {key: _example_schema(value) for key, value in api.response.extra_keys.items()}
    text = f"{api.description} {api.frontend_description}".lower()
    for phrase, keys in DESCRIBED_EXTRAS:
        if re.search(phrase, text) and api.response.action == "create":
            out.update({k: v for k, v in keys.items() if k not in out})
    return out


def _success_schema(api: Api, obj: DataObject | None) -> dict[str, Any]:
    shape = api.response
    item = resource_schema(api, obj)
    resource = {"type": "array", "items": item} if shape.is_list else item
    props: dict[str, Any] = dict(ENVELOPE_PROPERTIES)
    props.update({
        "statusCode": {"type": "integer", "const": shape.status},
        "dataName": {"type": "string", "const": shape.data_name},
        "method": {"type": "string", "const": api.method},
        "action": {"type": "string", "const": shape.action},
    })
    if shape.is_list:
        props.update(LIST_PROPERTIES)
    extras = extra_keys(api)
    props[shape.data_name] = resource
    props.update(extras)
    required = [k for k in props if k != shape.data_name and k not in extras] + [shape.data_name, *extras]
    return {"type": "object", "required": list(dict.fromkeys(required)), "properties": props}


def _operation(api: Api, service: Service, examples: ServiceExamples) -> dict[str, Any]:
    obj = service.data_object(api.data_object) if api.data_object else None
    properties = {prop.name for prop in obj.properties} if obj is not None and api.response.is_list else set()
    params = [_parameter(p, examples.parameter(api, p, obj), filters=p.location == "query" and p.name in properties)
              for p in api.parameters if p.location in ("path", "query", "header")]
    for flt in api.filters:
        params.append({
            "name": flt.name, "in": "query", "required": False,
            "description": flt.description or f"Filter by {flt.name}",
            "style": "form", "explode": True,
            "schema": {"type": "array", "items": filter_item_schema(flt)},
            f"{X}filter": _filter_extension(flt, obj),
        })
    paged = api.response.is_list and api.method == "GET"
    if paged:
        params += [
            {"name": "pageNumber", "in": "query", "required": False, "description": "1-based page number",
             "schema": {"type": "integer", "minimum": 1, "maximum": INT32["maximum"]}, "example": 1, f"{X}paging": True},
            {"name": "pageRowCount", "in": "query", "required": False, "description": "Rows per page",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_ROW_COUNT},
             "example": DEFAULT_PAGE_ROW_COUNT, f"{X}paging": True},
        ]
    if service.tenant is not None:
        params.append({"$ref": "#/components/parameters/TenantHeader"})
    operation: dict[str, Any] = {
        "operationId": api.name,
        "summary": api.title,
        "description": "\n\n".join(t for t in (api.description, api.frontend_description) if t),
    }
    if obj is not None:
        operation["tags"] = [obj.name]
    if params:
        operation["parameters"] = params
    body = [p for p in api.parameters if p.location == "body"]
    if body:
        operation["requestBody"] = {
            "required": any(p.required for p in body),
            "content": {"application/json": {"schema": _body_schema(body, obj),
                                             "example": examples.body(api, body, obj)}},
        }
    status = str(api.response.status)
    success: dict[str, Any] = {
        "description": f"{api.response.action} succeeded",
        "content": {"application/json": {"schema": _success_schema(api, obj),
                                         "example": examples.answer(api, obj, extra_keys(api))}},
    }
    if links := _links(api, service):
        success["links"] = links
    operation["responses"] = {
        status: success,
        **{code: {"$ref": f"#/components/responses/Error{code}"} for code in ERROR_STATUSES},
    }
    operation.update(_operation_extensions(api, service))
    return operation


def _links(api: Api, service: Service) -> dict[str, Any]:
    """OpenAPI links from a create to the operations that address the new record by its id, so
    stateful testers (Schemathesis) can chain create → get/update/delete."""
    shape = api.response
    if shape.action != "create" or shape.is_list or not api.data_object:
        return {}
    links: dict[str, Any] = {}
    for other in service.apis:
        path_params = [p.name for p in other.parameters if p.location == "path"]
        if other is api or other.data_object != api.data_object or len(path_params) != 1:
            continue
        name = path_params[0]
        if name == "id" or name.lower() == f"{api.data_object.lower()}id":
            links[other.name] = {
                "operationId": other.name,
                "parameters": {name: f"$response.body#/{shape.data_name}/id"},
            }
    return links


def _operation_extensions(api: Api, service: Service) -> dict[str, Any]:
    shape = api.response
    obj = service.data_object(api.data_object) if api.data_object else None
    default_role = api.default_role or next(
        (role for role, name in (obj.default_apis.items() if obj else []) if name == api.name), None
    )
    ext: dict[str, Any] = {
        "api": api.name,
        "route": api.route,
        "data-object": api.data_object,
        "action": shape.action,
        "data-name": shape.data_name,
        "status": shape.status,
        "list": shape.is_list,
        "default-api": default_role,
        "select-list": shape.select_list,
        "fields": list(shape.fields),
        "joins": [
            {"key": j.key, "target": j.target, "via": j.via, "isArray": j.is_array, "fields": dict(j.fields)}
            for j in shape.joins
        ],
        "extra-keys": list(extra_keys(api)),
        "body": [p.name for p in api.parameters if p.location == "body"],
        "derived-response": shape.derived,
        "tenant": service.tenant is not None,
        "guide-line": api.line,
    }
    if role := payment_role(api):
        ext["payment"] = role
    if api.access is not None:  # from the role overlay; absent: every role may call it
        ext["access"] = list(api.access)
    return {f"{X}{key}": value for key, value in ext.items()}


def _data_object_extension(obj: DataObject) -> dict[str, Any]:
    return {
        "schema": f"#/components/schemas/{schema_name(obj.name)}",
        "description": obj.description,
        "properties": {
            p.name: {
                "type": p.type, "isArray": p.is_array, "required": p.required, "secret": p.secret,
                # `options`, not `enum`: next to the guide's `type` name a linter would read `enum`
                # as a JSON Schema keyword (Spectral typed-enum).
                **({"options": p.enum} if p.enum else {}),
            }
            for p in obj.properties
        },
        "relations": [
            {"property": r.property, "target": r.target, "targetField": r.target_field, "kind": r.kind, "required": r.required}
            for r in obj.relations
        ],
        "filters": obj.filters,
        "defaultApis": dict(obj.default_apis),
    }


def _foreign_objects(service: Service) -> dict[str, Any]:
    """Objects the service points at but does not own (user, coursePack, listing, …) with the
    fields its responses show of them: the twin seeds these as fixtures."""
    local = {o.name for o in service.data_objects}
    foreign: dict[str, dict[str, str]] = {}
    for obj in service.data_objects:
        for rel in obj.relations:
            if rel.target not in local:
                foreign.setdefault(rel.target, {})
    for api in service.apis:
        for join in api.response.joins:
            if join.target and join.target not in local:
                foreign.setdefault(join.target, {}).update(join.fields)
    return {name: {"fields": dict(sorted(fields.items()))} for name, fields in sorted(foreign.items())}


def _components(service: Service, examples: ServiceExamples) -> dict[str, Any]:
    schemas: dict[str, Any] = {schema_name(o.name): record_schema(o) for o in service.data_objects}
    schemas["Paging"] = {
        "type": "object",
        "required": ["pageNumber", "pageRowCount", "totalRowCount", "pageCount"],
        "properties": {k: {"type": "integer", "minimum": 0} for k in ("pageNumber", "pageRowCount", "totalRowCount", "pageCount")},
    }
    schemas["AppliedFilter"] = {
        "type": "object",
        "required": ["name", "values"],
        "properties": {"name": {"type": "string"}, "values": {"type": "array", "items": {}}},
    }
    # One self-contained schema per error status: `status` and `errCode` are that status (a
    # constant over a shared base in `allOf` is what generators cannot merge).
    for code in ERROR_STATUSES:
        schemas[f"Error{code}"] = {
            "type": "object",
            "required": ["result", "status", "message", "errCode", "date"],
            "properties": {
                "result": {"type": "string", "const": "ERR"},
                "status": {"type": "integer", "const": int(code)},
                "message": {"type": "string", "minLength": 1},
                "errCode": {"type": "integer", "const": int(code)},
                "date": {"type": "string", "format": "date-time"},
                "detail": {"type": ["string", "null"]},
            },
        }
    responses = {
        f"Error{code}": {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/Error{code}"},
                                             "example": error_example(int(code), ERROR_MESSAGES[code])}},
        }
        for code, text in ERROR_STATUSES.items()
    }
    components: dict[str, Any] = {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "schemas": schemas,
        "responses": responses,
    }
    if service.tenant is not None:
        components["parameters"] = {
            "TenantHeader": {
                "name": service.tenant.header, "in": "header", "required": True,
                "description": f"The tenant ({tenant_object(service.tenant.header)} codename) the call acts for.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]*$"},
                "example": examples.tenant(),
            }
        }
    return components


def _tenant_extension(service: Service) -> dict[str, Any] | None:
    """The tenant header and the object it names (`mbx-school-codename` → `school`)."""
    if service.tenant is None:
        return None
    return {"header": service.tenant.header, "required": True, "object": tenant_object(service.tenant.header)}


def emit_openapi(service: Service) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one service."""
    paths: dict[str, dict[str, Any]] = {}
    foreign = _foreign_objects(service)
    examples = ServiceExamples(service, {name: ext["fields"] for name, ext in foreign.items()})
    for api in service.apis:
        paths.setdefault(api.path, {})[api.method.lower()] = _operation(api, service, examples)
    info: dict[str, Any] = {
        "title": f"{service.project} {service.name}",
        "version": "1.0.0",
        "description": "\n\n".join(t for t in (service.description, service.frontend_description) if t),
        f"{X}project": service.project,
        f"{X}service": service.name,
        f"{X}guide": service.source,
        f"{X}warnings": [str(w) for w in service.warnings],
    }
    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "servers": [
            {"url": url, "description": env, f"{X}env": env} for env, url in service.servers.items()
        ],
        "security": [{"bearerAuth": []}],
        f"{X}base-path": service.base_path,
        f"{X}tenant": _tenant_extension(service),
        f"{X}roles": [
            {"name": role, "tenant": service.tenant is not None and not is_platform_role(role)} for role in service.roles
        ],
        f"{X}data-objects": {o.name: _data_object_extension(o) for o in service.data_objects},
        f"{X}foreign-objects": foreign,
        f"{X}paging": {"default-page-row-count": DEFAULT_PAGE_ROW_COUNT, "max-page-row-count": MAX_PAGE_ROW_COUNT},
        f"{X}system-fields": list(SYSTEM_FIELDS),
        "tags": [{"name": o.name, "description": o.description} for o in service.data_objects],
        "paths": paths,
        "components": _components(service, examples),
    }
    return doc
