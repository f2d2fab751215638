"""Reading a project's authentication guide (part 1 of a Mindbricks frontend guide, Markdown form).

The twin serves the auth API of every project by Mindbricks conventions (login, logout,
currentuser); an auth guide refines it with what only the guide knows: whether the project is
multi-tenant and how a tenant is claimed (its name and header), the sample tenant, and the
registration APIs a frontend may call publicly, with their body parameters.

Only what a frontend needs is read; a guide missing a part simply leaves the convention in place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from .build import SPEC_SUFFIXES
from .project import classify_guide_file, guide_files

_PROJECT = re.compile(r"REST API guide for the\s+\**([\w-]+)\**\s+project", re.I)
_TITLE = re.compile(r"^#\s+\**([\w-]+)\**\s*$", re.M)
_PART = re.compile(r"PART\s+\d+\s*-\s*Authentication", re.I)
_MULTI = re.compile(r"THIS APPLICATION IS MULTI-TENANT", re.I)
_TENANT_NAME = re.compile(r"Tenant data is isolated per `(\w+)`", re.I)
_TENANT_HEADER = re.compile(r"""headers\[\s*["'](mbx-[\w-]+?-codename)["']\s*\]""", re.I)
_SAMPLE_TENANT = re.compile(r"sample \w+ has codename `([\w-]+)`", re.I)
_API_HEADING = re.compile(r"^###\s+`([^`]+)`\s+API\s*$", re.M)
_ROUTE = re.compile(r"triggered via the following route:\s*`([^`]+)`", re.I)
_METHOD = re.compile(r"path \*\*(GET|POST|PUT|PATCH|DELETE)\s+(/[^*\s]+)\*\*", re.I)
_PARAM_ROW = re.compile(r"^\|\s*(\w+)\s*\|\s*(\w+)\s*\|\s*(true|false)\s*\|\s*request\.(\w+)", re.M | re.I)
_CONTROLLER = re.compile(r"The `(\w+)` API REST controller", re.I)
_TARGETING = re.compile(r"should be called as targeting an existing `(\w+)`", re.I)


class AuthParam(BaseModel):
    """A request parameter of a registration API."""

    name: str
    type: str
    required: bool
    location: str  # body, query, params


class RegistrationApi(BaseModel):
    """A public registration API of the auth service (`registerUser`, `registerSchoolUser`, …)."""

    api: str
    method: str
    path: str  # versioned, under the auth base path: /v1/registerschooluser
    params: list[AuthParam]
    tenant_level: bool  # registers a user of the tenant named in the tenant header


class AuthGuide(BaseModel):
    """What an auth guide adds to the conventions."""

    project: str
    multi_tenant: bool = False
    tenant_name: str | None = None
    tenant_header: str | None = None
    sample_tenant: str | None = None
    registrations: list[RegistrationApi] = []
    source: str = ""


@dataclass
class AuthGuideError(ValueError):
    """The text is not an auth guide: says which file and what is missing."""

    source: str
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.source}: not an authentication guide ({'; '.join(self.problems)})"


def is_auth_guide(text: str) -> bool:
    """True for a guide's authentication part (its title says so)."""
    return bool(_PART.search(text[:2000]))


def parse_auth_guide(text: str, source: str = "<text>") -> AuthGuide:
    """The auth guide's facts; AuthGuideError when the text is not one (no project named)."""
    match = _PROJECT.search(text) or _TITLE.search(text)
    if match is None:
        raise AuthGuideError(source, ["no project name: expected 'REST API guide for the <name> project'"])
    project = match.group(1).lower()
    multi = bool(_MULTI.search(text))
    tenant_name = _first(_TENANT_NAME, text) if multi else None
    header = _first(_TENANT_HEADER, text) if multi else None
    if multi and header is None and tenant_name:
        header = f"mbx-{tenant_name.lower()}-codename"
    return AuthGuide(
        project=project, multi_tenant=multi, tenant_name=tenant_name, tenant_header=header.lower() if header else None,
        sample_tenant=_first(_SAMPLE_TENANT, text) if multi else None,
        registrations=_registrations(text, multi), source=source,
    )


def read_auth_guide(path: str | Path) -> AuthGuide:
    """`parse_auth_guide` of a file (a clear error naming the file when it cannot be read)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AuthGuideError(str(file), [f"cannot read it: {error}"]) from None
    return parse_auth_guide(text, str(file))


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


def _registrations(text: str, multi: bool) -> list[RegistrationApi]:
    """Every `### \\`Register …\\` API` section: the guide documents only the public ones."""
    headings = list(_API_HEADING.finditer(text))
    found = []
    for index, heading in enumerate(headings):
        title = heading.group(1).strip()
        if not title.lower().startswith("register"):
            continue
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        # The API's section ends at the next heading of level 2 or 3 that is not part of it.
        section = text[heading.end():end]
        stop = re.search(r"^##\s", section, re.M)
        section = section[: stop.start()] if stop else section
        request = _METHOD.search(section)
        route = _first(_ROUTE, section)
        if request is None and route is None:
            continue
        method, path = (request.group(1).upper(), request.group(2)) if request else ("POST", route or "")
        params = [AuthParam(name=m.group(1), type=m.group(2), required=m.group(3).lower() == "true",
                            location=m.group(4).lower()) for m in _PARAM_ROW.finditer(section)]
        # "This api should be called as targeting an existing `school`" precedes a tenant user's registration.
        before = text[max(0, heading.start() - 1500):heading.start()]
        found.append(RegistrationApi(
            api=_first(_CONTROLLER, section) or _camel(title), method=method, path=path.lower(), params=params,
            tenant_level=multi and _TARGETING.search(before) is not None,
        ))
    return found


def _camel(title: str) -> str:
    """`Register Schooluser` → `registerSchooluser` (the guide's heading spelling of the API)."""
    words = title.split()
    return words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])


def authentication_parts(paths: Iterable[str | Path]) -> list[Path]:
    """The authentication parts among guide files and folders (what `twin serve DIR` serves the
    auth API from); specs and files that are no guide are skipped (`load_specs` reports those)."""
    found = []
    for path in guide_files(paths):
        if path.suffix.lower() in SPEC_SUFFIXES:
            continue
        try:
            part = classify_guide_file(path)
        except ValueError:
            continue
        if part.kind == "authentication":
            found.append(path)
    return found

