"""The typed model of one service, as read from its frontend guide.

Everything downstream (the OpenAPI emitter, and through the specs the twin and the conformance
suite) is derived from these classes, so they hold the guide's meaning, not its layout.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

GuideType = Literal["ID", "String", "Text", "Integer", "Double", "Boolean", "Date", "Enum", "Object", "Number"]
Location = Literal["path", "query", "body", "header"]
CrudRole = Literal["create", "update", "delete", "get", "list"]
FilterMatch = Literal["exact", "partial", "enum", "date", "any"]


class GuideWarning(BaseModel):
    """A guess the parser had to make, with the guide line it was made at."""

    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: [{self.code}] {self.message}"


class Property(BaseModel):
    """One field of a data object (a column of its table)."""

    name: str
    type: GuideType
    is_array: bool = False
    required: bool = False
    secret: bool = False
    description: str = ""
    enum: list[str] | None = None
    line: int = 0


class Relation(BaseModel):
    """A property that points at another data object (here or in another service)."""

    property: str
    target: str
    target_field: str = "id"
    kind: Literal["parent", "sibling", "unknown"] = "unknown"
    required: bool = False


class DataObject(BaseModel):
    """A data object (a database table) with its properties, relations and filters."""

    name: str
    description: str = ""
    frontend_description: str = ""
    properties: list[Property] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    filters: list[str] = Field(default_factory=list)
    default_apis: dict[CrudRole, str | None] = Field(default_factory=dict)
    line: int = 0

    def find_property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)

    @property
    def enums(self) -> dict[str, list[str]]:
        return {p.name: p.enum for p in self.properties if p.enum}


class Parameter(BaseModel):
    """A regular request parameter of an API, located by the guide's "Population" column."""

    name: str
    type: GuideType
    required: bool = False
    location: Location
    is_array: bool = False
    description: str = ""
    enum: list[str] | None = None


class FilterParam(BaseModel):
    """A list filter with the semantics the guide states for it."""

    name: str
    type: GuideType
    description: str = ""
    match: FilterMatch
    case_insensitive: bool = False
    multiple: bool = True
    null: bool = True
    specials: list[str] = Field(default_factory=list)
    enum: list[str] | None = None


class Join(BaseModel):
    """An object joined into a response (e.g. getEnrollment's `coursePack`)."""

    key: str
    is_array: bool
    fields: dict[str, GuideType]
    target: str | None = None
    via: list[str] = Field(default_factory=list)


class ResponseShape(BaseModel):
    """What a successful call answers: the envelope's dataName/action and the resource's shape."""

    status: int
    data_name: str
    method: str
    action: str
    is_list: bool
    select_list: bool = False
    fields: dict[str, GuideType] = Field(default_factory=dict)
    joins: list[Join] = Field(default_factory=list)
    extra_keys: dict[str, Any] = Field(default_factory=dict)
    derived: bool = False


class Api(BaseModel):
    """One REST operation of the service."""

    name: str
    title: str
    description: str = ""
    frontend_description: str = ""
    method: str
    route: str
    parameters: list[Parameter] = Field(default_factory=list)
    filters: list[FilterParam] = Field(default_factory=list)
    response: ResponseShape
    data_object: str | None = None
    default_role: CrudRole | None = None
    line: int = 0
    # The roles that may call it, from the service's role overlay (`specs/overlay.py`); None: every role.
    access: list[str] | None = None

    @property
    def path(self) -> str:
        """The route in OpenAPI form (`:id` → `{id}`)."""
        import re

        return re.sub(r":(\w+)", r"{\1}", self.route)


class TenantRule(BaseModel):
    """A multi-tenant service: every call names its tenant in a header."""

    header: str
    description: str = ""


class Service(BaseModel):
    """One service of one project, as its guide describes it."""

    project: str
    name: str
    description: str = ""
    frontend_description: str = ""
    servers: dict[str, str] = Field(default_factory=dict)
    base_path: str = ""
    tenant: TenantRule | None = None
    data_objects: list[DataObject] = Field(default_factory=list)
    apis: list[Api] = Field(default_factory=list)
    warnings: list[GuideWarning] = Field(default_factory=list)
    source: str = ""
    # The role names the guide's prose uses, then those only its role overlay declares.
    roles: list[str] = Field(default_factory=list)

    @property
    def slug(self) -> str:
        """`<project>-<service>` in lower case, the spec's file stem."""
        return f"{self.project}-{self.name}".lower()

    def data_object(self, name: str) -> DataObject | None:
        return next((d for d in self.data_objects if d.name == name), None)
