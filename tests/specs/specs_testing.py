"""Helpers for the spec deriver's tests (imported by the tests and by `conftest.py`).

- where the three project guides are, and small readers for specs (`operations`, `parameters`, …);
- the expected operations and enums, read off the guide text into `data/*.tsv` (not by the parser);
- `SyntheticGuide`: a small guide of a made-up project, assembled from string fragments, that a test
  can vary before asking for its `text()` (proves that nothing is tied to the three known guides);
  one source renders it in either form, the page text or the generator's Markdown (`form=`).

A module of its own, not `conftest`: several test folders have a `conftest.py`, so
`from conftest import …` would depend on which folder pytest entered last.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specs.build import GUIDES_DIR
from specs.markdown import GuideForm

DATA = Path(__file__).resolve().parent / "data"
SLUGS = ("tutorhub-enrollmentmanagement", "workforceos-subscriptionmanagement", "airbnb-bookingmanagement")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


# -- the three guides ---------------------------------------------------------------------------
def guide_path(slug: str) -> Path:
    return GUIDES_DIR / f"{slug}.txt"


def guide_line(slug: str, number: int) -> str:
    """The text of line `number` (1-based) of a guide."""
    return guide_path(slug).read_text(encoding="utf-8").splitlines()[number - 1]


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, METHOD, operation) for every operation of a spec."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method.upper(), operation


def operation_by_id(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    found = [op for _, _, op in operations(spec) if op["operationId"] == operation_id]
    assert len(found) == 1, f"{operation_id}: {len(found)} operations"
    return found[0]


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow a local `$ref` (one level)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def parameters(spec: dict[str, Any], operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """An operation's parameters by (in, name), `$ref`s resolved."""
    resolved = (resolve(spec, p) for p in operation.get("parameters", []))
    return {(p["in"], p["name"]): p for p in resolved}


# -- expectations read off the guide text --------------------------------------------------------
@dataclass(frozen=True)
class GuideOperation:
    """One row of `data/guide_operations.tsv`."""

    slug: str
    name: str
    method: str
    route: str
    parameters: tuple[tuple[str, str, str, bool], ...]  # (location, name, type, required)
    filters: tuple[tuple[str, str], ...]  # (name, type)

    def __str__(self) -> str:
        return f"{self.slug.split('-')[0]}:{self.name}"


def _rows(name: str) -> list[list[str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def _params(cell: str) -> tuple[tuple[str, str, str, bool], ...]:
    if cell == "-":
        return ()
    out = []
    for item in cell.split(","):
        location, name, type_ = item.split(":")
        out.append((location, name, type_.rstrip("*"), type_.endswith("*")))
    return tuple(out)


def _filters(cell: str) -> tuple[tuple[str, str], ...]:
    return () if cell == "-" else tuple(tuple(item.split(":")) for item in cell.split(","))  # type: ignore[misc]


GUIDE_OPERATIONS = [
    GuideOperation(slug, name, method, route, _params(params), _filters(filters))
    for slug, name, method, route, params, filters in _rows("guide_operations.tsv")
]
GUIDE_ENUMS = [
    (slug, obj, prop, options.split(",")) for slug, obj, prop, options in _rows("guide_enums.tsv")
]


# -- the synthetic guide -------------------------------------------------------------------------
# Every fragment builder takes `form`: "text" (the page text, the default) or "markdown" (the
# generator's Markdown), so one source renders the same guide in both forms.
def _cap(name: str) -> str:
    return name[:1].upper() + name[1:]


def envelope(data_name: str, method: str, action: str, resource: Any, *, status: Any = 200, paging: bool = False,
             form: GuideForm = "text") -> str:
    """A response example in the guides' layout: one key per line (no indentation in the page text,
    tabs and a ```json fence in the Markdown)."""
    body: dict[str, Any] = {
        "status": "OK", "statusCode": status, "elapsedMs": 126, "ssoTime": 120, "source": "db",
        "cacheKey": "hexCode", "userId": "ID", "sessionId": "ID", "requestId": "ID", "dataName": data_name,
        "method": method, "action": action, "appVersion": "Version", "rowCount": 1, data_name: resource,
    }
    if paging:
        body["paging"] = {"pageNumber": "Number", "pageRowCount": "Number", "totalRowCount": "Number", "pageCount": "Number"}
        body["filters"] = []
        body["uiPermissions"] = []
    if form == "markdown":
        return json.dumps(body, indent="\t", ensure_ascii=False)
    return json.dumps(body, indent=0, ensure_ascii=False)


def property_rows(rows: list[tuple[str, str, str, str, str, str]], form: GuideForm = "text") -> str:
    """A data object's property table; each row is (name, Type, IsArray, Required, Secret, Description)."""
    if form == "markdown":
        lines = ["| Property | Type | IsArray | Required | Secret | Description |",
                 "|----------|------|---------|----------|--------|-------------|"]
        lines += [f"| `{name}` | " + " | ".join(cells) + " |" for name, *cells in rows]
        return "\n".join(lines)
    lines = ["| Property | Type | IsArray | Required | Secret | Description |", "|---|---|---|---|---|---|"]
    for name, *cells in rows:
        lines += [f"{name} |", " | ".join(cells) + " |"]
    return "\n".join(lines)


_KIND_TEXT = "The target object is a {kind} object, meaning that the relation is a one-to-many relationship from target to this object."


def relation(prop: str, target: str, kind: str = "parent", required: str = "Yes", form: GuideForm = "text") -> str:
    if form == "markdown":
        return "\n".join([f"- **{prop}**: ID", f"Relation to `{target}`.id", "", _KIND_TEXT.format(kind=kind), "",
                          f"Required: {required}", ""])
    return "\n".join([f"- {prop}: ID", "Relation to", f"{target}.id", _KIND_TEXT.format(kind=kind), f"Required: {required}"])


def _relation_names(relations: list[str]) -> list[str]:
    return [r.split(":", 1)[0].removeprefix("- ").strip("*") for r in relations]


def data_object(name: str, description: str, rows: str, *, enums: dict[str, list[str]] | None = None,
                relations: list[str] | None = None, filters: list[tuple[str, str]] | None = None,
                form: GuideForm = "text") -> str:
    """One data object section (properties, enums, relations, filter properties)."""
    title = _cap(name)
    if form == "markdown":
        parts = [
            f"## {title} Data Object", "", description, "",
            f"### {title}  Data Object Frontend Description By The Backend Architect", "", f"Show {name} records in a table.", "",
            f"### {title} Data Object Properties", "",
            f"{title} data object has got following properties that are represented as table fields in the database scheme. ",
            "", rows,
            "* Required properties are mandatory for creating objects and must be provided in the request body.", "",
        ]
        if enums:
            parts += ["### Enum Properties", "Enum properties are defined with a set of allowed values.", ""]
            parts += [f"- **{prop}**: [{', '.join(options)}]" for prop, options in enums.items()]
            parts.append("")
        if relations:
            names = " ".join(f"`{n}`" for n in _relation_names(relations))
            parts += ["### Relation Properties", "", names, "", "Mindbricks supports relations between data objects.", "", *relations]
        if filters:
            parts += ["### Filter Properties", "", " ".join(f"`{n}`" for n, _ in filters), "",
                      "Filter properties are used to define parameters."]
            parts += [f"- **{n}**: {t}  has a filter named `{n}`" for n, t in filters]
            parts.append("")
        return "\n".join(parts)
    parts = [
        f"{title} Data Object", description,
        f"{title} Data Object Frontend Description By The Backend Architect", f"Show {name} records in a table.",
        f"{title} Data Object Properties",
        f"{title} data object has got following properties that are represented as table fields in the database scheme.",
        rows,
        "- Required properties are mandatory for creating objects and must be provided in the request body.",
    ]
    if enums:
        parts += ["Enum Properties", "Enum properties are defined with a set of allowed values."]
        parts += [f"-\n{prop}: [{', '.join(options)}]" for prop, options in enums.items()]
    if relations:
        parts += ["Relation Properties", " ".join(_relation_names(relations)), "Mindbricks supports relations between data objects.", *relations]
    if filters:
        parts += ["Filter Properties", " ".join(n for n, _ in filters), "Filter properties are used to define parameters."]
        parts += [f"-\n{n}: {t} has a filter named\n{n}" for n, t in filters]
    return "\n".join(parts)


def defaults_table(name: str, apis: dict[str, str], form: GuideForm = "text") -> str:
    if form == "markdown":
        lines = [f"### {_cap(name)} Default APIs", "", "| Operation | API Name | Route | Explicitly Set |",
                 "|-----------|----------|-------|----------------|"]
        for op in ("Create", "Update", "Delete", "Get", "List"):
            api = apis.get(op.lower(), "none")
            lines.append(f"| {op} | `{api}` | `/v1/route` | Yes |" if api != "none" else f"| {op} | _none_ | - | Auto |")
        return "\n".join(lines)
    lines = [f"{_cap(name)} Default APIs", "| Operation | API Name | Route | Explicitly Set |", "|---|---|---|---|"]
    for op in ("Create", "Update", "Delete", "Get", "List"):
        api = apis.get(op.lower(), "none")
        lines.append(f"| {op} | {api} |" if api != "none" else f"| {op} | none | - | Auto |")
        if api != "none":
            lines += ["/v1/route |", "Yes |"]
    return "\n".join(lines)


FILTER_TEXT = {
    "ID": "- Single:\n?{n}=<value> - Multiple:\n?{n}=<value1>&{n}=<value2> - Null:\n?{n}=null",
    "String": "- Single (partial match, case-insensitive):\n?{n}=<value> - Multiple:\n?{n}=<value1>&{n}=<value2> - Null:\n?{n}=null",
    "Enum": "- Single:\n?{n}=<value>(case-insensitive) - Multiple:\n?{n}=<value1>&{n}=<value2> - Null:\n?{n}=null",
    "Date": (
        "- Single date:\n?{n}=2024-01-15 - Multiple dates:\n?{n}=2024-01-15&{n}=2024-01-20 - Special:\n"
        "$today,$ltoday,$week,$lweek,$month,$leq-<date>,$lin-<date> - Null:\n?{n}=null"
    ),
}
FILTER_MARKDOWN = {
    "ID": "- Single: `?{n}=<value>`\n- Multiple: `?{n}=<value1>&{n}=<value2>`\n- Null: `?{n}=null`",
    "String": "- Single (partial match, case-insensitive): `?{n}=<value>`\n- Multiple: `?{n}=<value1>&{n}=<value2>`\n- Null: `?{n}=null`",
    "Enum": "- Single: `?{n}=<value>` (case-insensitive)\n- Multiple: `?{n}=<value1>&{n}=<value2>`\n- Null: `?{n}=null`",
    "Date": (
        "- Single date: `?{n}=2024-01-15`\n- Multiple dates: `?{n}=2024-01-15&{n}=2024-01-20`\n"
        "- Special: `$today`, `$ltoday`, `$week`, `$lweek`, `$month`, `$leq-<date>`, `$lin-<date>`\n- Null: `?{n}=null`"
    ),
}
LOCATION = {"path": "params", "query": "query", "body": "body"}
SELECT_LIST = "This route’s response is constrained to a select list of properties, and therefore does not encompass all attributes of the resource."


def api_section(title: str, name: str, method: str, route: str, *,
                params: Sequence[tuple[str, str, str | None, str]] = (),
                filters: Sequence[tuple[str, str, str]] = (),
                response: str = "", select_list: bool = False, default: str | None = None,
                declared: int | None = None, form: GuideForm = "text") -> str:
    """One API section. params: (name, Type, "true"/"false" or None for a missing Required cell, path/query/body);
    filters: (name, Type, description); response: the example JSON ("" = an empty example)."""
    if form == "markdown":
        return _api_section_markdown(title, name, method, route, params=params, filters=filters, response=response,
                                     select_list=select_list, default=default, declared=declared)
    parts = [f"{title} API"]
    if default:
        parts.append(f"[Default {default} API] — This is the designated default {default} API.")
    parts += [
        f"{title}: a made-up operation for the tests.",
        "API Frontend Description By The Backend Architect",
        f"Call {name} from the {title.lower()} screen.",
        "Rest Route",
        f"The {name} API REST controller can be triggered via the following route:",
        route,
        "Rest Request Parameters",
    ]
    count = len(params) if declared is None else declared
    if count == 0 and not params:
        parts.append(f"The {name} api has got no request parameters.")
    else:
        parts.append(f"The {name} api has got {count} regular request parameter{'s' if count != 1 else ''}")
        parts += ["| Parameter | Type | Required | Population |", "|---|---|---|---|"]
        for pname, ptype, required, location in params:
            population = f"request.{LOCATION[location]}?.[“{pname}”]"
            cells = [pname, ptype, *([required] if required is not None else []), population]
            parts.append("| " + " | ".join(cells) + " |" + (" |" if required is None else ""))
        parts += [f"| {pname} : The {pname} of the call. | | | |" for pname, *_ in params]
    if filters:
        parts += ["Filter Parameters", f"The {name} api supports {len(filters)} optional filter parameters for filtering list results:"]
        for fname, ftype, description in filters:
            parts += [f"{fname} ({ftype}): {description}", FILTER_TEXT[ftype].format(n=fname)]
    url = route.replace(":", "$")
    parts += [
        f"REST Request To access the api you can use the REST controller with the path {method} {route}",
        "axios({", f"method: '{method}',", f"url: `{url}`,", "data: {", "},", "params: {", "}", "});",
        "REST Response",
    ]
    if select_list:
        parts.append(SELECT_LIST)
    if response:
        parts.append(response)
    return "\n".join(parts)


def _api_section_markdown(title: str, name: str, method: str, route: str, *,
                          params: Sequence[tuple[str, str, str | None, str]], filters: Sequence[tuple[str, str, str]],
                          response: str, select_list: bool, default: str | None, declared: int | None) -> str:
    """`api_section` in the generator's Markdown layout (blank lines, bold labels, fenced code)."""
    parts = [f"### `{title}` API"]
    if default:
        parts.append(f"**[Default {default} API]** — This is the designated default `{default}` API.")
    parts += [
        f"{title}: a made-up operation for the tests.", "",
        "**API Frontend Description By The Backend Architect**", "",
        f"Call {name} from the {title.lower()} screen.", "",
        "**Rest Route**", "",
        f"The `{name}` API REST controller can be triggered via the following route:", "",
        f"`{route}`", "", "",
        "**Rest Request Parameters**", "",
    ]
    count = len(params) if declared is None else declared
    if count == 0 and not params:
        parts.append(f"The `{name}` api has got no request parameters.    ")
    else:
        parts += ["", f"The `{name}` api has got {count} regular request parameter{'s' if count != 1 else ''}  ", ""]
        parts += ["| Parameter              | Type                   | Required | Population                   |",
                  "| ---------------------- | ---------------------- | -------- | ---------------------------- |"]
        for pname, ptype, required, location in params:
            population = f'request.{LOCATION[location]}?.["{pname}"]'
            cells = [pname + " ", ptype + " ", *([required] if required is not None else []), population]
            parts.append("| " + " | ".join(cells) + " |")
        parts += [f"**{pname}** : The {pname} of the call." for pname, *_ in params]
    parts += ["", ""]
    if filters:
        parts += ["**Filter Parameters**", "",
                  f"The `{name}` api supports {len(filters)} optional filter parameters for filtering list results:", ""]
        for fname, ftype, description in filters:
            parts += [f"**{fname}** (`{ftype}`): {description}", "", FILTER_MARKDOWN[ftype].format(n=fname), "", ""]
    parts += [
        "**REST Request**",
        f"To access the api you can use the **REST** controller with the path **{method}  {route}**",
        "```js", "  axios({", f"    method: '{method}',", f"    url: '{route}',", "    data: {", "    },",
        "    params: {", "        }", "  });", "```   ",
        "**REST Response**", "",
    ]
    if select_list:
        parts += [SELECT_LIST.replace("’", "'"), ""]
    if response:
        parts += ["", "```json", response, "```"]
    parts.append("")
    return "\n".join(parts)


APPOINTMENT_RECORD = {
    "id": "ID", "petId": "ID", "scheduledAt": "Date", "reason": "String", "visitStatus": "Enum",
    "visitStatus_idx": "Integer", "notes": "Text", "weightKg": "Double", "reminderEmails": "String",
    "isActive": True, "recordVersion": "Integer", "createdAt": "Date", "updatedAt": "Date", "_owner": "ID",
}
VISIT_STATUSES = ["scheduled", "checkedIn", "completed", "noShow"]
BROKEN_JSON = '{\n"status": "OK",\n"statusCode": 200\n"dataName": "pet",\n"pet": {}\n}'


def default_objects(form: GuideForm = "text") -> dict[str, str]:
    appointment = data_object(
        "appointment", "A visit of a pet to the clinic.",
        property_rows([
            ("petId", "ID", "false", "Yes", "No", "The pet being seen."),
            ("scheduledAt", "Date", "false", "Yes", "No", "When the visit starts."),
            ("reason", "String", "false", "Yes", "No", "Why the owner booked."),
            ("visitStatus", "Enum", "false", "Yes", "No", "Where the visit stands."),
            ("notes", "Text", "false", "No", "No", "The vet's notes."),
            ("weightKg", "Double", "false", "No", "No", "-"),
            ("reminderEmails", "String", "true", "No", "No", "Addresses that get a reminder."),
        ], form=form),
        enums={"visitStatus": VISIT_STATUSES},
        relations=[relation("petId", "pet", form=form)],
        filters=[("visitStatus", "Enum"), ("reason", "String"), ("scheduledAt", "Date")],
        form=form,
    )
    pet = data_object(
        "pet", "An animal registered with the clinic.",
        property_rows([
            ("name", "String", "false", "Yes", "No", "The pet's name."),
            ("species", "String", "false", "Yes", "No", "Dog, cat, …"),
            ("ownerId", "ID", "false", "Yes", "No", "The owner (auth:user)."),
        ], form=form),
        relations=[relation("ownerId", "user", form=form)],
        form=form,
    )
    return {"appointment": appointment, "pet": pet}


def default_apis(form: GuideForm = "text") -> dict[str, str]:
    return {
        "createAppointment": api_section(
            "Create Appointment", "createAppointment", "POST", "/v1/appointments", default="create",
            params=[("petId", "ID", "true", "body"), ("scheduledAt", "Date", "true", "body"),
                    ("reason", "String", "true", "body"), ("visitStatus", "Enum", "true", "body"),
                    ("notes", "Text", "false", "body"), ("reminderEmails", "String", "false", "body")],
            response=envelope("appointment", "POST", "create", APPOINTMENT_RECORD, status=201, form=form), form=form,
        ),
        "getAppointment": api_section(
            "Get Appointment", "getAppointment", "GET", "/v1/appointments/:appointmentId", default="get",
            params=[("appointmentId", "ID", "true", "path")], select_list=True,
            response=envelope("appointment", "GET", "get", {
                "scheduledAt": "Date", "visitStatus": "Enum", "pet": {"name": "String", "species": "String"}, "isActive": True,
            }, form=form), form=form,
        ),
        "listAppointments": api_section(
            "List Appointments", "listAppointments", "GET", "/v1/appointments", default="list",
            filters=[("visitStatus", "Enum", "Where the visit stands."), ("reason", "String", "Why the owner booked."),
                     ("scheduledAt", "Date", "When the visit starts.")],
            response=envelope("appointments", "GET", "list", [APPOINTMENT_RECORD, {}, {}], paging=True, form=form), form=form,
        ),
        "updateAppointment": api_section(
            "Update Appointment", "updateAppointment", "PATCH", "/v1/appointments/:appointmentId", default="update",
            params=[("appointmentId", "ID", "true", "path"), ("visitStatus", "Enum", "false", "body"),
                    ("notes", "Text", "false", "body")],
            response="",  # the guide shows no example: the response is derived from the data object
            form=form,
        ),
        "deletePet": api_section(
            "Delete Pet", "deletePet", "DELETE", "/v1/pets/:petId",
            params=[("petId", "ID", "true", "path")],
            response=BROKEN_JSON,  # a missing comma: the response is derived from the data object
            form=form,
        ),
    }


@dataclass
class SyntheticGuide:
    """A guide of the made-up `vetclinic` project's appointmentManagement service.

    Every part is a plain string (or a dict of them) that a test may replace before calling `text()`.
    `form` picks the page text ("text", the default) or the generator's Markdown ("markdown"); the
    fragment builders below (`synthetic.api_section(...)`, …) write in the guide's form.
    """

    project: str = "vetclinic"
    service: str = "appointmentManagement"
    host: str = "vetclinic.example.test"
    tenant_header: str | None = "x-clinic-code"
    form: GuideForm = "text"
    objects: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, dict[str, str]] = field(default_factory=lambda: {
        "appointment": {"create": "createAppointment", "update": "updateAppointment", "get": "getAppointment", "list": "listAppointments"},
        "pet": {"delete": "deletePet"},
    })
    apis: dict[str, str] = field(default_factory=dict)
    api_reference: bool = True

    def __post_init__(self) -> None:
        self.objects = self.objects or default_objects(self.form)
        self.apis = self.apis or default_apis(self.form)

    # fragment builders in this guide's form, so tests can write their own parts in its layout
    def api_section(self, *args: Any, **kwargs: Any) -> str:
        return api_section(*args, form=self.form, **kwargs)

    def data_object(self, *args: Any, **kwargs: Any) -> str:
        return data_object(*args, form=self.form, **kwargs)

    def property_rows(self, *args: Any, **kwargs: Any) -> str:
        return property_rows(*args, form=self.form, **kwargs)

    def relation(self, *args: Any, **kwargs: Any) -> str:
        return relation(*args, form=self.form, **kwargs)

    def envelope(self, *args: Any, **kwargs: Any) -> str:
        return envelope(*args, form=self.form, **kwargs)

    @property
    def slug(self) -> str:
        return f"{self.project}-{self.service}".lower()

    @property
    def suffix(self) -> str:
        """The file suffix of this form: `.md` or `.txt`."""
        return ".md" if self.form == "markdown" else ".txt"

    @property
    def base_path(self) -> str:
        return f"/{self.service.lower()}-api"

    def _urls(self) -> dict[str, str]:
        return {
            "Preview": f"https://{self.host.replace('.', '.prw.', 1)}{self.base_path}",
            "Staging": f"https://stage.{self.host}{self.base_path}",
            "Production": f"https://{self.host}{self.base_path}",
        }

    def header(self) -> str:
        if self.form == "markdown":
            return self._header_markdown()
        title = _cap(self.service)
        urls = self._urls()
        lines = [
            self.project.upper(),
            f"FRONTEND GUIDE FOR AI CODING AGENTS - PART 3 - {title} Service",
            f"This document is a part of a REST API guide for the {self.project} project. It is designed for AI agents.",
            f"This document provides extensive instruction for the usage of {self.service}",
            "Service Access",
            f"For the {self.service} service, the base URLs are:",
            f"- Preview:\n{urls['Preview']} - Staging:",
            f"{urls['Staging']} - Production:",
            urls["Production"],
        ]
        if self.tenant_header:
            lines += [
                "Tenant URL Prefix and Header Forwarding",
                "Tenant context is resolved by frontend routing strategy.",
                "Then backend API calls must always claim target tenant with header:",
                f'headers["{self.tenant_header}"] = tenantCodenameFromUrl;',
            ]
        lines += [
            "Scope",
            f"{title} Service Description",
            "Books pet visits and keeps the pet register.",
            *(f"{name} Data Object: {_first_line_after_heading(text)}" for name, text in self.objects.items()),
            f"{title} Service Frontend Description By The Backend Architect",
            "Receptionists book visits; vets update them.",
            "API Structure",
        ]
        return "\n".join(lines)

    def _header_markdown(self) -> str:
        title = _cap(self.service)
        lines = [
            "", "", f"# **{self.project.upper()}**", "",
            f"**FRONTEND GUIDE FOR AI CODING AGENTS - PART 3 - {title} Service**", "",
            f"This document is a part of a REST API guide for the {self.project} project.",
            "It is designed for AI agents.", "",
            f"This document provides extensive instruction for the usage of {self.service}", "",
            "## Service Access", "",
            f"For the {self.service} service, the base URLs are:", "",
            *(f"* **{env}:** `{url}`" for env, url in self._urls().items()), "",
        ]
        if self.tenant_header:
            lines += [
                "### Tenant URL Prefix and Header Forwarding", "",
                "Tenant context is resolved by frontend routing strategy.", "",
                "Then backend API calls must always claim target tenant with header:", "",
                "```js", f'headers["{self.tenant_header}"] = tenantCodenameFromUrl;', "```", "",
            ]
        lines += [
            "## Scope", "", f"**{title} Service Description**", "", "Books pet visits and keeps the pet register.", "",
            *(f"**`{name}` Data Object**: {_first_line_after_heading(text)}\n" for name, text in self.objects.items()),
            f"## {title} Service Frontend Description By The Backend Architect", "",
            "Receptionists book visits; vets update them.", "",
            "## API Structure", "",
        ]
        return "\n".join(lines)

    def text(self) -> str:
        if self.form == "markdown":
            parts = [self.header(), *self.objects.values()]
            parts += ["## Default CRUD APIs", "", "For each data object, the backend architect may designate **default APIs**.", ""]
            parts += [defaults_table(name, apis, "markdown") for name, apis in self.defaults.items()]
            if self.api_reference:
                parts += ["", "## API Reference", "", *self.apis.values()]
            return "\n".join(parts) + "\n"
        parts = [self.header(), *self.objects.values()]
        parts += ["Default CRUD APIs", "For each data object, the backend architect may designate default APIs."]
        parts += [defaults_table(name, apis) for name, apis in self.defaults.items()]
        if self.api_reference:
            parts += ["API Reference", *self.apis.values()]
        return "\n".join(parts) + "\n"

    def write(self, folder: Path, name: str | None = None) -> Path:
        path = folder / (name or f"{self.slug}{self.suffix}")
        path.write_text(self.text(), encoding="utf-8")
        return path

    def line_of(self, needle: str, after: str | None = None, *, exact: bool = False) -> int:
        """The 1-based number of the first line containing `needle` (or equal to it, with `exact`),
        after the first line containing `after`."""
        lines = self.text().splitlines()
        start = next(i for i, line in enumerate(lines) if after in line) if after else 0
        return next(i for i in range(start, len(lines)) if (lines[i] == needle if exact else needle in lines[i])) + 1


def _first_line_after_heading(section: str) -> str:
    """A data object section's description (the first text after its heading), in either form."""
    return [line for line in section.splitlines() if line.strip()][1]
