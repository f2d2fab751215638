"""Guide text → `Service`.

The guides are the text of generated "frontend guide" pages. They share one layout, so the parser
reads that layout (headings, pipe tables, JSON examples) and nothing specific to one guide. Where a
guide is broken (a missing table column, a string where a number belongs, a typo in a type name,
a missing example) the parser makes the most likely reading and records a `GuideWarning` with the
line number; only a file that is not a guide at all is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from .markdown import guide_form, markdown_to_text
from .model import (
    Api,
    CrudRole,
    DataObject,
    FilterMatch,
    FilterParam,
    GuideType,
    GuideWarning,
    Join,
    Parameter,
    Property,
    Relation,
    ResponseShape,
    Service,
    TenantRule,
)
from .prose import roles_named
from .tables import LOCATIONS, POPULATION_RE, normalize_type, split_row, yes_no

ENVELOPE_KEYS = (
    "status", "statusCode", "elapsedMs", "ssoTime", "source", "cacheKey", "userId", "sessionId",
    "requestId", "dataName", "method", "action", "appVersion", "rowCount", "paging", "filters",
    "uiPermissions",
)
CRUD_ROLES: dict[str, CrudRole] = {
    "create": "create", "update": "update", "delete": "delete", "get": "get", "list": "list",
}

_GUIDE_TITLE_RE = re.compile(r"^FRONTEND GUIDE FOR .* - (?P<service>\w+) Service\s*$")
_PROJECT_RE = re.compile(r"REST API guide for the (?P<project>[\w-]+) project")
_SERVICE_USAGE_RE = re.compile(r"instruction for the usage of (?P<service>\w+)")
_SERVER_RE = re.compile(r"(?P<env>Preview|Staging|Production):\s*(?P<url>https?://\S+)", re.I)
_TENANT_HEADER_RE = re.compile(r"headers\[\s*[\"']([\w-]+)[\"']\s*\]")
_OBJECT_SUMMARY_RE = re.compile(r"^(?P<name>\w+) Data Object: (?P<desc>.*)$")
_OBJECT_HEADING_RE = re.compile(r"^(?P<name>\w+) Data Object$")
_ENUM_LINE_RE = re.compile(r"^-?\s*(?P<name>\w+): \[(?P<options>[^\]]*)\]\s*$")
_RELATION_PROP_RE = re.compile(r"^- (?P<name>\w+): \w+$")
# The page text breaks "Relation to" and "user.id" over two lines; the Markdown keeps them on one.
_RELATION_TARGET_RE = re.compile(r"^(?:Relation to\s+)?(?P<target>\w+)\.(?P<field>\w+)$")
_DEFAULTS_HEADING_RE = re.compile(r"^(?P<name>\w+) Default APIs$")
_DEFAULTS_ROW_RE = re.compile(r"^\| (?P<op>Create|Update|Delete|Get|List) \| (?P<api>\w+) \|")
_API_TITLE_RE = re.compile(r"^(?!API )[A-Z_][\w]*(?: [\w]+)* API$")
_API_NAME_RE = re.compile(r"^The (?P<name>\w+) API REST controller can be triggered")
_PARAM_COUNT_RE = re.compile(r"has got (?P<count>\d+|no) (?:regular )?request parameters?")
_FILTER_COUNT_RE = re.compile(r"supports (?P<count>\d+) optional filter parameters?")
_PARAM_NOTE_RE = re.compile(r"^(?P<name>\w+) :(?P<text>.*)$")
_FILTER_HEAD_RE = re.compile(r"^(?P<name>\w+) \((?P<type>\w+)\):\s*(?P<desc>.*)$")
_METHOD_RE = re.compile(r"REST controller with the path (?P<method>[A-Z]+) (?P<route>\S+)")
_DEFAULT_MARK_RE = re.compile(r"^\[Default (?P<role>\w+) API\]")
_SPECIAL_RE = re.compile(r"\$[a-z]+(?:-<date>)?")
_SELECT_LIST_MARK = "constrained to a select list of properties"


class GuideError(ValueError):
    """The input is not a guide of this format (names the file and what is missing)."""


class _Lines:
    """The guide's lines with 1-based numbering and small search helpers."""

    def __init__(self, text: str) -> None:
        self.items = [line.rstrip() for line in text.splitlines()]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> str:
        return self.items[index]

    def find(self, predicate: Any, start: int = 0, stop: int | None = None) -> int:
        stop = len(self.items) if stop is None else stop
        for index in range(start, stop):
            line = self.items[index]
            if (predicate(line) if callable(predicate) else line.strip() == predicate):
                return index
        return -1

    def next_text(self, index: int, stop: int | None = None) -> tuple[int, str]:
        """The first non-empty line after `index`."""
        stop = len(self.items) if stop is None else stop
        for position in range(index + 1, stop):
            if self.items[position].strip():
                return position, self.items[position].strip()
        return -1, ""


class GuideParser:
    """Parses one guide; `parse()` returns the `Service` with its warnings."""

    def __init__(self, text: str, source: str = "<guide>") -> None:
        self.lines = _Lines(text)
        self.source = source
        self.warnings: list[GuideWarning] = []

    # -- entry point -------------------------------------------------------------------------
    def parse(self) -> Service:
        project, service_name = self._identity()
        api_ref = self.lines.find("API Reference")
        if api_ref < 0:
            raise GuideError(f"{self.source}: not a frontend guide: it has no 'API Reference' section")
        servers = self._servers()
        objects = self._data_objects(api_ref)
        self._default_apis(objects, api_ref)
        service = Service(
            project=project,
            name=service_name,
            description=self._line_after(f"{_cap(service_name)} Service Description"),
            frontend_description=self._line_after(
                f"{_cap(service_name)} Service Frontend Description By The Backend Architect"
            ),
            servers=servers,
            base_path=_base_path(servers),
            tenant=self._tenant(),
            data_objects=objects,
            source=self.source,
        )
        service.apis = self._unique_routes(list(self._apis(api_ref, service)))
        if not service.apis:
            raise GuideError(f"{self.source}: not a frontend guide: no API in its 'API Reference' section")
        service.warnings = self.warnings
        return service

    def _unique_routes(self, apis: list[Api]) -> list[Api]:
        """One API per method and route (OpenAPI holds one operation there): a later API on a taken
        route is left out, with a warning naming both, rather than silently replacing the first."""
        taken: dict[tuple[str, str], Api] = {}
        kept = []
        for api in apis:
            key = (api.method.upper(), api.path.lower())
            first = taken.get(key)
            if first is not None:
                self.warn(api.line - 1, "duplicate-route",
                          f"{api.name}: {api.method} {api.route} is already {first.name}'s (line {first.line}); left out")
                continue
            taken[key] = api
            kept.append(api)
        return kept

    def warn(self, index: int, code: str, message: str) -> None:
        self.warnings.append(GuideWarning(line=index + 1, code=code, message=message))

    # -- header ------------------------------------------------------------------------------
    def _identity(self) -> tuple[str, str]:
        head = self.lines.items[:12]
        title = next((m for m in map(_GUIDE_TITLE_RE.match, head) if m), None)
        project = next((m for m in map(_PROJECT_RE.search, head) if m), None)
        if title is None or project is None:
            raise GuideError(
                f"{self.source}: not a frontend guide: expected a 'FRONTEND GUIDE FOR … - <Name> Service' "
                "title and a 'REST API guide for the <project> project' line near the top"
            )
        usage = next((m for m in map(_SERVICE_USAGE_RE.search, head) if m), None)
        service = usage.group("service") if usage else title.group("service")[0].lower() + title.group("service")[1:]
        return project.group("project"), service

    def _servers(self) -> dict[str, str]:
        start = self.lines.find(lambda line: "base URLs are" in line)
        if start < 0:
            self.warn(0, "no-servers", "no 'base URLs' block; the spec has no servers")
            return {}
        block = " ".join(self.lines.items[start : start + 8])
        servers = {m.group("env").lower(): m.group("url").rstrip(".,") for m in _SERVER_RE.finditer(block)}
        for env in ("preview", "staging", "production"):
            if env not in servers:
                self.warn(start, "missing-server", f"no {env} base URL")
        return servers

    def _tenant(self) -> TenantRule | None:
        start = self.lines.find(lambda line: line.strip().startswith("Tenant URL Prefix and Header Forwarding"))
        if start < 0:
            return None
        stop = self.lines.find("Scope", start)
        text = "\n".join(self.lines.items[start : stop if stop > 0 else start + 20])
        match = _TENANT_HEADER_RE.search(text)
        header = match.group(1) if match else "mbx-company-codename"
        if not match:
            self.warn(start, "tenant-header", "tenant section names no header; assuming mbx-company-codename")
        return TenantRule(header=header, description=" ".join(line.strip() for line in text.split("\n")[1:] if line.strip()))

    def _line_after(self, heading: str) -> str:
        index = self.lines.find(heading)
        return self.lines.next_text(index)[1] if index >= 0 else ""

    # -- data objects ------------------------------------------------------------------------
    def _data_objects(self, api_ref: int) -> list[DataObject]:
        structure = self.lines.find("API Structure")
        names: dict[str, tuple[str, int]] = {}
        for index in range(0, structure if structure > 0 else api_ref):
            match = _OBJECT_SUMMARY_RE.match(self.lines[index].strip())
            if match:
                names[match.group("name").lower()] = (match.group("name"), index)
        headings = [
            (index, names[m.group("name").lower()][0])
            for index in range(max(structure, 0), api_ref)
            if (m := _OBJECT_HEADING_RE.match(self.lines[index].strip())) and m.group("name").lower() in names
        ]
        defaults = self.lines.find("Default CRUD APIs", max(structure, 0), api_ref)
        objects = []
        for position, (index, name) in enumerate(headings):
            stop = headings[position + 1][0] if position + 1 < len(headings) else (defaults if defaults > 0 else api_ref)
            objects.append(self._data_object(name, index, stop))
        for lower, (name, index) in names.items():
            if not any(o.name.lower() == lower for o in objects):
                self.warn(index, "object-without-section", f"data object {name} is listed but has no section")
                objects.append(DataObject(name=name, description=self.lines[index].split(": ", 1)[-1], line=index + 1))
        return objects

    def _data_object(self, name: str, start: int, stop: int) -> DataObject:
        obj = DataObject(name=name, description=self.lines.next_text(start, stop)[1], line=start + 1)
        frontend = self.lines.find(lambda line: "Data Object Frontend Description By The Backend Architect" in line, start, stop)
        if frontend >= 0:
            obj.frontend_description = self.lines.next_text(frontend, stop)[1]
        obj.properties = list(self._property_rows(start, stop))
        enums = self._enum_options(start, stop)
        for prop in obj.properties:
            if prop.type == "Enum":
                prop.enum = enums.pop(prop.name, None)
                if prop.enum is None:
                    self.warn(prop.line - 1, "enum-without-options", f"{name}.{prop.name} is an Enum with no options listed")
        for leftover in enums:
            self.warn(start, "enum-without-property", f"{name} lists options for unknown enum {leftover}")
        obj.relations = list(self._relations(start, stop))
        obj.filters = self._filter_properties(start, stop)
        return obj

    def _property_rows(self, start: int, stop: int) -> Iterator[Property]:
        header = self.lines.find(lambda line: line.startswith("| Property | Type |"), start, stop)
        if header < 0:
            return
        index = header + 2
        while index < stop:
            line = self.lines[index].strip()
            if line.startswith("|") and line.endswith("|") and len(cells := split_row(line)) > 2:
                # a whole row on one line (the Markdown form): | name | Type | IsArray | …
                yield self._property(cells[0], cells[1:], index)
                index += 1
                continue
            if not line.endswith("|") or line.startswith("|") or line.startswith("-"):
                break
            name = line[:-1].strip()
            row_index = index + 1
            row = self.lines[row_index].strip() if row_index < stop else ""
            while row_index + 1 < stop and not row.endswith("|"):
                row_index += 1
                row += " " + self.lines[row_index].strip()
            yield self._property(name, split_row(row), index + 1)  # the row's first line
            index = row_index + 1

    def _property(self, name: str, cells: list[str], index: int) -> Property:
        while cells and cells[-1] == "":
            cells.pop()
        type_, guessed = normalize_type(cells[0] if cells else "")
        if type_ is None:
            self.warn(index, "unknown-type", f"property {name} has unknown type {cells[:1]}; read as String")
            type_ = "String"
        elif guessed:
            self.warn(index, "type-typo", f"property {name} type {cells[0]!r} read as {type_}")
        is_array = yes_no(cells[1]) if len(cells) > 1 else None
        if len(cells) > 1 and cells[1].lower() in ("yes", "no"):
            # The IsArray column is missing: the row reads Type | Required | Secret | Description.
            self.warn(index, "missing-column", f"property {name}: the IsArray column is missing; read as not an array")
            cells = [cells[0], "false", *cells[1:]]
            is_array = False
        required = yes_no(cells[2]) if len(cells) > 2 else None
        secret = yes_no(cells[3]) if len(cells) > 3 else None
        if required is None or secret is None or is_array is None:
            self.warn(index, "malformed-row", f"property {name}: could not read all of {cells}; missing flags read as No")
        description = cells[4] if len(cells) > 4 else ""
        return Property(
            name=name, type=type_, is_array=bool(is_array), required=bool(required), secret=bool(secret),
            description="" if description == "-" else description, line=index + 1,
        )

    def _enum_options(self, start: int, stop: int) -> dict[str, list[str]]:
        section = self.lines.find("Enum Properties", start, stop)
        options: dict[str, list[str]] = {}
        if section < 0:
            return options
        for index in range(section + 1, stop):
            line = self.lines[index].strip()
            if line in ("Relation Properties", "Filter Properties"):
                break
            match = _ENUM_LINE_RE.match(line)
            if match:
                values = [v.strip() for v in match.group("options").split(",") if v.strip()]
                options[match.group("name")] = values
        return options

    def _relations(self, start: int, stop: int) -> Iterator[Relation]:
        section = self.lines.find("Relation Properties", start, stop)
        if section < 0:
            return
        end = self.lines.find("Filter Properties", section, stop)
        end = stop if end < 0 else end
        for index in range(section + 1, end):
            match = _RELATION_PROP_RE.match(self.lines[index].strip())
            if not match:
                continue
            target = required = None
            kind: Literal["parent", "sibling"] | None = None
            for offset in range(index + 1, min(index + 8, end)):
                line = self.lines[offset].strip()
                if _RELATION_PROP_RE.match(line):
                    break
                if (m := _RELATION_TARGET_RE.match(line)) and target is None:
                    target = m
                elif "parent object" in line:
                    kind = "parent"
                elif "sibling object" in line:
                    kind = "sibling"
                elif line.startswith("Required:"):
                    required = yes_no(line.split(":", 1)[1])
            if target is None:
                self.warn(index, "relation-without-target", f"relation {match.group('name')} names no target")
                continue
            yield Relation(
                property=match.group("name"), target=target.group("target"), target_field=target.group("field"),
                kind=kind or "unknown", required=bool(required),
            )

    def _filter_properties(self, start: int, stop: int) -> list[str]:
        section = self.lines.find("Filter Properties", start, stop)
        if section < 0:
            return []
        return self.lines.next_text(section, stop)[1].split()

    def _default_apis(self, objects: list[DataObject], api_ref: int) -> None:
        start = self.lines.find("Default CRUD APIs", 0, api_ref)
        if start < 0:
            return
        by_lower = {o.name.lower(): o for o in objects}
        current: DataObject | None = None
        for index in range(start, api_ref):
            line = self.lines[index].strip()
            if heading := _DEFAULTS_HEADING_RE.match(line):
                current = by_lower.get(heading.group("name").lower())
                if current is None:
                    self.warn(index, "defaults-unknown-object", f"default APIs for unknown object {heading.group('name')}")
            elif (row := _DEFAULTS_ROW_RE.match(line)) and current is not None:
                api = row.group("api")
                current.default_apis[CRUD_ROLES[row.group("op").lower()]] = None if api == "none" else api

    # -- APIs --------------------------------------------------------------------------------
    def _apis(self, api_ref: int, service: Service) -> Iterator[Api]:
        routes = [i for i in range(api_ref, len(self.lines)) if self.lines[i].strip() == "Rest Route"]
        cursor = api_ref + 1
        for position, route_index in enumerate(routes):
            title_index = self.lines.find(lambda line: bool(_API_TITLE_RE.match(line.strip())), cursor, route_index)
            if title_index < 0:
                self.warn(route_index, "api-without-title", "an API section has no '<Title> API' heading")
                title_index = cursor
            stop = routes[position + 1] if position + 1 < len(routes) else len(self.lines)
            api, end = self._api(title_index, route_index, stop, service)
            cursor = end
            if api is not None:
                yield api

    def _api(self, title: int, route_index: int, stop: int, service: Service) -> tuple[Api | None, int]:
        header = [line.strip() for line in self.lines.items[title + 1 : route_index] if line.strip()]
        default_role: CrudRole | None = None
        if header and (mark := _DEFAULT_MARK_RE.match(header[0])):
            default_role = CRUD_ROLES.get(mark.group("role").lower())
            header = header[1:]
        description, frontend = _split_frontend(header)

        name_index = self.lines.find(lambda line: bool(_API_NAME_RE.match(line.strip())), route_index, stop)
        if name_index < 0:
            self.warn(route_index, "api-without-name", f"API {self.lines[title]!r} names no controller; skipped")
            return None, route_index + 1
        name_match = _API_NAME_RE.match(self.lines[name_index].strip())
        assert name_match is not None  # find() chose this line because it matches
        name = name_match.group("name")
        route_line, route = self.lines.next_text(name_index, stop)
        method_index = self.lines.find(lambda line: bool(_METHOD_RE.search(line)), route_index, stop)
        method = "GET"
        if method_index >= 0:
            match = _METHOD_RE.search(self.lines[method_index])
            assert match is not None  # find() chose this line because it matches
            method = match.group("method")
            if match.group("route") != route:
                self.warn(method_index, "route-mismatch", f"{name}: request line says {match.group('route')}, route says {route}")
        else:
            self.warn(route_index, "no-method", f"{name}: no 'REST controller with the path METHOD' line; assuming GET")
        static = re.sub(r":\w+", "", route)
        if static != static.lower():
            self.warn(route_line, "mixed-case-route", f"{name}: route {route} has upper-case letters (kept as written)")

        response_index = self.lines.find("REST Response", route_index, stop)
        example, end = self._response_example(response_index, stop, name)
        select_list = response_index >= 0 and any(
            _SELECT_LIST_MARK in self.lines[i] for i in range(response_index, min(response_index + 3, stop))
        )
        params_end = method_index if method_index >= 0 else (response_index if response_index >= 0 else stop)
        parameters = self._parameters(route_index, params_end, name)
        filters = self._filters(route_index, params_end, name)
        # A filter named like a request parameter would make two query parameters of one name.
        taken = {p.name for p in parameters} | {"pageNumber", "pageRowCount"}
        for flt in [f for f in filters if f.name in taken]:
            self.warn(route_index, "filter-shadows-parameter",
                      f"{name}: filter {flt.name} has the name of a request parameter; the parameter is kept")
        filters = [f for f in filters if f.name not in taken]

        verb = re.match(r"[a-z]+", name)
        action_guess = _action_from_verb(verb.group(0) if verb else "", method)
        data_object = self._api_data_object(name, route, example, service, default_role)
        response = self._response(name, method, action_guess, example, select_list, response_index, data_object, service)
        obj = service.data_object(data_object) if data_object else None
        for param in parameters:
            prop = obj.find_property(param.name) if obj else None
            if prop is not None:
                param.is_array = prop.is_array
                param.enum = prop.enum
        for flt in filters:
            prop = obj.find_property(flt.name) if obj else None
            if prop is not None and prop.enum:
                flt.enum = prop.enum
        api = Api(
            name=name, title=self.lines[title].strip(), description=description, frontend_description=frontend,
            method=method, route=route, parameters=parameters, filters=filters, response=response,
            data_object=data_object, default_role=default_role, line=title + 1,
        )
        self._check_default_role(api, service)
        return api, end if end > 0 else stop

    def _parameters(self, start: int, stop: int, api: str) -> list[Parameter]:
        section = self.lines.find("Rest Request Parameters", start, stop)
        if section < 0:
            return []
        filters = self.lines.find("Filter Parameters", section, stop)
        end = filters if filters >= 0 else stop
        declared: int | None = None
        params: list[Parameter] = []
        for index in range(section + 1, end):
            line = self.lines[index].strip()
            if count := _PARAM_COUNT_RE.search(line):
                declared = 0 if count.group("count") == "no" else int(count.group("count"))
                continue
            # A parameter's note is a table row in the page text, a line of its own in the Markdown.
            note = _PARAM_NOTE_RE.match(split_row(line)[0] if line.startswith("|") else line)
            if note:
                for param in params:
                    if param.name == note.group("name") and note.group("text").strip():
                        param.description = note.group("text").strip()
                continue
            if not line.startswith("|") or line.startswith("| Parameter |") or line.startswith("|---"):
                continue
            cells = split_row(line)
            parsed = self._parameter(cells, index, api)
            if parsed is not None:
                params.append(parsed)
        if declared is not None and declared != len(params):
            self.warn(section, "parameter-count", f"{api}: says {declared} parameters, table has {len(params)}")
        return params

    def _parameter(self, cells: list[str], index: int, api: str) -> Parameter | None:
        population = next(((i, m) for i, c in enumerate(cells) if (m := POPULATION_RE.search(c))), None)
        if population is None:
            self.warn(index, "parameter-without-population", f"{api}: row {cells} has no Population; skipped")
            return None
        position, match = population
        type_, guessed = normalize_type(cells[1] if len(cells) > 1 else "")
        if type_ is None:
            self.warn(index, "unknown-type", f"{api}: parameter {cells[0]} has unknown type; read as String")
            type_ = "String"
        elif guessed:
            self.warn(index, "type-typo", f"{api}: parameter {cells[0]} type {cells[1]!r} read as {type_}")
        required = yes_no(cells[2]) if position > 2 else None
        if required is None:
            self.warn(index, "missing-column", f"{api}: parameter {cells[0]} has no Required value; read as optional")
        if match.group("name") != cells[0]:
            self.warn(index, "population-name", f"{api}: parameter {cells[0]} is populated from {match.group('name')}")
        return Parameter(
            name=cells[0], type=type_, required=bool(required), location=LOCATIONS[match.group(1)],
        )

    def _filters(self, start: int, stop: int, api: str) -> list[FilterParam]:
        section = self.lines.find("Filter Parameters", start, stop)
        if section < 0:
            return []
        heads = [
            (index, m)
            for index in range(section + 1, stop)
            if (m := _FILTER_HEAD_RE.match(self.lines[index].strip()))
        ]
        declared = next(
            (int(m.group("count")) for i in range(section, min(section + 3, stop)) if (m := _FILTER_COUNT_RE.search(self.lines[i]))),
            None,
        )
        filters = []
        for position, (index, head) in enumerate(heads):
            end = heads[position + 1][0] if position + 1 < len(heads) else stop
            text = " ".join(self.lines.items[index + 1 : end])
            type_, _ = normalize_type(head.group("type"))
            type_ = type_ or "String"
            filters.append(_filter(head.group("name"), type_, head.group("desc"), text))
        if declared is not None and declared != len(filters):
            self.warn(section, "filter-count", f"{api}: says {declared} filters, found {len(filters)}")
        return filters

    def _response_example(self, index: int, stop: int, api: str) -> tuple[Any, int]:
        """The JSON example after 'REST Response' and the line after it (-1 when there is none)."""
        if index < 0:
            self.warn(stop - 1, "no-response", f"{api}: no 'REST Response' section")
            return None, -1
        open_index = self.lines.find(lambda line: line.strip().startswith("{"), index, stop)
        if open_index < 0:
            self.warn(index, "empty-response", f"{api}: the response example is empty")
            return None, index + 1
        depth, chunk = 0, []
        for position in range(open_index, stop):
            line = self.lines[position]
            chunk.append(line)
            depth += _brace_delta(line)
            if depth <= 0:
                try:
                    return json.loads("\n".join(chunk)), position + 1
                except json.JSONDecodeError as error:
                    self.warn(open_index, "bad-json", f"{api}: the response example is not JSON ({error.msg})")
                    return None, position + 1
        self.warn(open_index, "bad-json", f"{api}: the response example never closes")
        return None, stop

    def _api_data_object(
        self, name: str, route: str, example: Any, service: Service, default_role: CrudRole | None
    ) -> str | None:
        names = {o.name: o.name for o in service.data_objects}
        lower = {o.name.lower(): o.name for o in service.data_objects}
        if isinstance(example, dict) and isinstance(example.get("dataName"), str):
            data_name = example["dataName"]
            for candidate in _singulars(data_name):
                if candidate in names:
                    return candidate
                if candidate.lower() in lower:
                    return lower[candidate.lower()]
        for obj in service.data_objects:
            if name in obj.default_apis.values():
                return obj.name
        stem = re.sub(r"^[a-z]+", "", name).lower()
        for candidate in _singulars(stem):
            if candidate in lower:
                return lower[candidate]
        return None

    def _response(
        self, api: str, method: str, action_guess: str, example: Any, select_list: bool, index: int,
        data_object: str | None, service: Service,
    ) -> ResponseShape:
        obj = service.data_object(data_object) if data_object else None
        if not isinstance(example, dict) or not example.get("dataName") or example.get("dataName") not in example:
            if example is not None:
                self.warn(index, "response-without-resource", f"{api}: the example has no resource under its dataName")
            return self._derived_response(api, method, action_guess, obj, index)
        data_name = example["dataName"]
        status = self._status(example.get("statusCode"), action_guess, api, self._example_line(index, "statusCode"))
        if isinstance(example.get("rowCount"), str):
            self.warn(self._example_line(index, "rowCount"), "rowcount-string",
                      f"{api}: rowCount example is a string ({example['rowCount']!r}); read as an integer")
        paging = example.get("paging")
        if isinstance(paging, dict):
            for key, value in paging.items():
                if isinstance(value, str) and normalize_type(value)[1] and normalize_type(value)[0] is not None:
                    self.warn(self._example_line(index, "paging", key), "type-typo",
                              f"{api}: paging.{key} type {value!r} read as {normalize_type(value)[0]}")
        resource = example[data_name]
        is_list = isinstance(resource, list)
        sample = next((item for item in resource if isinstance(item, dict) and item), {}) if is_list else resource
        fields, joins = self._fields(sample if isinstance(sample, dict) else {}, api, index, obj, service)
        extra = {k: v for k, v in example.items() if k not in ENVELOPE_KEYS and k != data_name}
        action = str(example.get("action") or action_guess)
        if example.get("method") and example["method"] != method:
            self.warn(index, "method-mismatch", f"{api}: example method {example['method']} differs from {method}")
        return ResponseShape(
            status=status, data_name=data_name, method=method, action=action, is_list=is_list,
            select_list=select_list, fields=fields, joins=joins, extra_keys=extra,
        )

    def _derived_response(
        self, api: str, method: str, action: str, obj: DataObject | None, index: int
    ) -> ResponseShape:
        if obj is None:
            self.warn(index, "derived-response", f"{api}: no usable example and no data object; answering with an empty object")
            return ResponseShape(
                status=201 if action == "create" else 200, data_name="data", method=method, action=action,
                is_list=action == "list", derived=True,
            )
        self.warn(index, "derived-response", f"{api}: no usable response example; derived from data object {obj.name}")
        return ResponseShape(
            status=201 if action == "create" else 200,
            data_name=obj.name + ("s" if action == "list" else ""),
            method=method, action=action, is_list=action == "list", fields=full_fields(obj), derived=True,
        )

    def _example_line(self, response_index: int, *path: str) -> int:
        """The line of a key of the response example (`"paging", "pageRowCount"`: a nested key),
        so a warning about its value points at it; the 'REST Response' line when it is not found."""
        if response_index < 0:
            return response_index
        open_index = self.lines.find(lambda line: line.strip().startswith("{"), response_index)
        if open_index < 0:
            return response_index
        depth, found = 0, 0
        for position in range(open_index, len(self.lines)):
            line = self.lines[position].strip()
            if depth == found + 1 and re.match(rf'"{re.escape(path[found])}"\s*:', line):
                if found == len(path) - 1:
                    return position
                found += 1
            depth += _brace_delta(line)
            if depth <= 0:
                break
        return response_index

    def _status(self, raw: Any, action: str, api: str, index: int) -> int:
        expected = 201 if action == "create" else 200
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and raw.strip().isdigit():
            self.warn(index, "statuscode-string", f"{api}: statusCode example is the string {raw!r}; read as {int(raw)}")
            return int(raw)
        self.warn(index, "no-statuscode", f"{api}: no statusCode in the example; using {expected}")
        return expected

    def _fields(
        self, sample: dict[str, Any], api: str, index: int, obj: DataObject | None, service: Service
    ) -> tuple[dict[str, GuideType], list[Join]]:
        fields: dict[str, GuideType] = {}
        joins: list[Join] = []
        for key, value in sample.items():
            if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value)):
                item = value if isinstance(value, dict) else next((v for v in value if isinstance(v, dict) and v), {})
                join_fields = {k: self._value_type(v, f"{api}.{key}.{k}", index) for k, v in item.items()}
                target, via = resolve_join(key, join_fields, obj, service)
                if target is None:
                    self.warn(index, "unresolved-join", f"{api}: joined object {key} matches no relation")
                joins.append(Join(key=key, is_array=isinstance(value, list), fields=join_fields, target=target, via=via))
            else:
                fields[key] = self._value_type(value, f"{api}.{key}", index)
        return fields, joins

    def _value_type(self, value: Any, where: str, index: int) -> GuideType:
        if isinstance(value, bool):
            return "Boolean"
        if isinstance(value, int):
            return "Integer"
        if isinstance(value, float):
            return "Double"
        type_, guessed = normalize_type(str(value))
        if type_ is None:
            self.warn(index, "unknown-type", f"{where}: example value {value!r} is no type name; read as String")
            return "String"
        if guessed:
            self.warn(index, "type-typo", f"{where}: type {value!r} read as {type_}")
        return type_

    def _check_default_role(self, api: Api, service: Service) -> None:
        if api.default_role is None:
            return
        obj = service.data_object(api.data_object) if api.data_object else None
        if obj is not None and obj.default_apis.get(api.default_role) not in (None, api.name):
            self.warn(api.line - 1, "default-conflict", f"{api.name} says default {api.default_role}, the table names {obj.default_apis[api.default_role]}")


# -- helpers -------------------------------------------------------------------------------------
def _cap(name: str) -> str:
    return name[:1].upper() + name[1:]


def _base_path(servers: dict[str, str]) -> str:
    for url in servers.values():
        match = re.match(r"https?://[^/]+(?P<path>/.*)?$", url)
        if match and match.group("path"):
            return match.group("path").rstrip("/")
    return ""


def _singulars(word: str) -> list[str]:
    """`word` and the singulars it may be the plural of (`categories` → `category`, `boxes` → `box`)."""
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("s"):
        forms.append(word[:-1])
    if word.endswith("es"):
        forms.append(word[:-2])
    return forms


def _split_frontend(header: list[str]) -> tuple[str, str]:
    marker = "API Frontend Description By The Backend Architect"
    if marker in header:
        at = header.index(marker)
        return " ".join(header[:at]), " ".join(header[at + 1 :])
    return " ".join(header), ""


def _brace_delta(line: str) -> int:
    delta, in_string, escaped = 0, False, False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
        elif not in_string and char in "{[":
            delta += 1
        elif not in_string and char in "}]":
            delta -= 1
    return delta


def _action_from_verb(verb: str, method: str) -> str:
    if verb in ("create", "update", "delete", "get", "list"):
        return verb
    return {"GET": "get", "POST": "create", "PATCH": "update", "PUT": "update", "DELETE": "delete"}.get(method, "get")


def _filter(name: str, type_: GuideType, description: str, text: str) -> FilterParam:
    partial = "partial match" in text
    by_type: dict[str, FilterMatch] = {"ID": "exact", "Enum": "enum", "Date": "date"}
    match: FilterMatch = by_type.get(type_, "partial" if partial else "exact")
    if type_ == "Object":
        match = "any"
    return FilterParam(
        name=name, type=type_, description=description, match=match,
        case_insensitive="case-insensitive" in text, multiple="Multiple" in text, null="Null" in text,
        specials=_SPECIAL_RE.findall(text) if type_ == "Date" else [],
    )


def full_fields(obj: DataObject) -> dict[str, GuideType]:
    """Every field a full record of `obj` carries, system fields included, in guide order."""
    fields: dict[str, GuideType] = {"id": "ID"}
    for prop in obj.properties:
        fields[prop.name] = prop.type
        if prop.enum is not None or prop.type == "Enum":
            fields[f"{prop.name}_idx"] = "Integer"
    fields.update({"isActive": "Boolean", "recordVersion": "Integer", "createdAt": "Date", "updatedAt": "Date", "_owner": "ID"})
    return fields


def resolve_join(
    key: str, fields: dict[str, GuideType], obj: DataObject | None, service: Service
) -> tuple[str | None, list[str]]:
    """Which relation a joined key follows: by name first, then by the fields it shows, then one hop."""
    if obj is None:
        return None, []
    singular = key[:-1] if key.endswith("s") else key
    for rel in obj.relations:
        stem = re.sub(r"Ids?$", "", rel.property)
        if key in (stem, stem + "s") or singular == stem or key.startswith(stem) or rel.target in (key, singular):
            return rel.target, [rel.property]
    users = [rel for rel in obj.relations if rel.target == "user"]
    if len(users) == 1 and {"email", "fullname"} & set(fields):
        return "user", [users[0].property]
    for rel in obj.relations:
        local = service.data_object(rel.target)
        if local is None:
            continue
        for inner in local.relations:
            stem = re.sub(r"Ids?$", "", inner.property)
            if key in (stem, inner.target) or singular == stem:
                return inner.target, [rel.property, inner.property]
    return None, []


def parse_guide(text: str, source: str = "<guide>") -> Service:
    """Parse one guide, in either form (the generator's Markdown or the page text, told apart by
    its content), into a `Service` (warnings on `service.warnings`, with the guide's line numbers)."""
    if guide_form(text) == "markdown":
        text = markdown_to_text(text)
    return with_prose_facts(GuideParser(text, source).parse(), text)


def with_prose_facts(service: Service, text: str) -> Service:
    """The service with what its prose says outside the tables (the roles it names); shared by
    every form of guide, as it reads the text with its Markdown emphasis removed."""
    service.roles = roles_named(text)
    return service


def parse_guide_file(path: str | Path) -> Service:
    """Parse the guide at `path`; a file that is not a guide raises `GuideError` naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise GuideError(f"{path}: not a frontend guide: not UTF-8 text ({error.reason})") from error
    return parse_guide(text, source=path.name)
