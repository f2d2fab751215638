"""A service's role table: the reviewed overlay next to its guide, merged into the spec at build time.

The guides state who may call an API only in prose ("Only admins can update refund requests"), so
the table is data a team writes and reviews once: `<guide-stem>.roles.yaml` beside the guide
(`tutorhub-enrollmentmanagement.txt` → `tutorhub-enrollmentmanagement.roles.yaml`):

    roles: [admin, tutor, student]        # the service's roles (beyond those its prose names)
    access:
      createEnrollment:
        roles: [student]
        why: "line 366: Creates a new enrollment for a student"   # the guide's words it rests on
      cancelEnrollment: [admin]           # short form: the roles alone

An API the overlay leaves out is open to every role; a guide without an overlay has every API open.
`twin specs build` writes each listed API's roles as the operation's `x-twin-access` and the declared
roles into `x-twin-roles`. A broken overlay (unknown API or role, a name given twice, a key the
format does not know) is refused like a broken guide, naming the file, the line and the allowed values.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .model import Service
from .parser import GuideError
from .project import OVERLAY_SUFFIX

_Path = tuple[str | int, ...]


class OverlayError(GuideError):
    """A role overlay that cannot be applied (the message names the file, the line and the fix)."""


class AccessRule(BaseModel):
    """Who may call one API, and the guide's words that say so."""

    model_config = ConfigDict(extra="forbid")

    roles: list[str]
    why: str = ""


class RoleOverlay(BaseModel):
    """A service's overlay file: its roles and its role table."""

    model_config = ConfigDict(extra="forbid")

    roles: list[str] = Field(default_factory=list)
    access: dict[str, AccessRule] = Field(default_factory=dict)

    @field_validator("access", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        """`api: [role, …]` is short for `api: {roles: [role, …]}`."""
        if isinstance(value, dict):
            return {api: {"roles": rule} if isinstance(rule, list) else rule for api, rule in value.items()}
        return value


def overlay_path(guide: Path) -> Path:
    """Where the overlay of the guide at `guide` lives (`<guide-stem>.roles.yaml` beside it)."""
    return guide.with_name(guide.stem + OVERLAY_SUFFIX)


def is_overlay(path: Path) -> bool:
    """True for a role overlay file (read with its guide, never as a guide or spec of its own)."""
    return path.name.lower().endswith(OVERLAY_SUFFIX)


def with_overlay(service: Service, guide: Path) -> Service:
    """`service` with the role table of the overlay beside `guide` merged in (unchanged without one).
    Raises `OverlayError` naming the overlay when it is broken."""
    path = overlay_path(guide)
    if not path.is_file():
        return service
    overlay, lines = read_overlay(path)
    return apply_overlay(service, overlay, lines, path.name)


# -- reading ----------------------------------------------------------------------------------------
def read_overlay(path: Path) -> tuple[RoleOverlay, dict[_Path, int]]:
    """The overlay at `path` and the line of each of its entries (by key path). Raises
    `OverlayError` for a file that is no YAML, repeats a key, or does not fit the format."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise OverlayError(f"{name}: cannot read the role overlay ({getattr(error, 'strerror', None) or error})") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[_Path, int] = {}
        problems: list[str] = []
        if node is not None:
            _walk(node, (), lines, problems)
        if problems:
            raise OverlayError("\n".join(f"{name}: {problem}" for problem in problems))
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise OverlayError(f"{name}: not valid YAML ({where}{error.problem})") from None
    except yaml.YAMLError as error:
        raise OverlayError(f"{name}: not valid YAML ({error})") from None
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise OverlayError(f"{name}: a role overlay is a mapping with the keys roles and access")
    try:
        return RoleOverlay.model_validate(data), lines
    except ValidationError as error:
        raise OverlayError("\n".join(f"{name}: {_explain(item, lines)}" for item in error.errors())) from None


def _walk(node: yaml.Node, path: _Path, lines: dict[_Path, int], problems: list[str]) -> None:
    """Record the line of every entry under `node`; a key repeated in one mapping is a problem
    (YAML loaders keep the last one silently, and a reviewed table must not hide a row)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            label = str(key.value)
            line = key.start_mark.line + 1
            if label in seen:
                where = ".".join(str(p) for p in (*path, label))
                problems.append(f"line {line}: {where} is given twice (first on line {seen[label]}); keep one")
                continue
            seen[label] = line
            lines[(*path, label)] = line
            _walk(value, (*path, label), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, problems)


def _line_of(loc: Iterable[str | int], lines: dict[_Path, int]) -> int | None:
    """The line of a validation error's location (the short form has no `roles` key of its own)."""
    full = tuple(loc)
    short = tuple(part for index, part in enumerate(full) if not (index == 2 and part == "roles" and full[0] == "access"))
    for candidate in (full, short):
        for end in range(len(candidate), 0, -1):
            if candidate[:end] in lines:
                return lines[candidate[:end]]
    return None


_KEYS = {(): ("roles", "access"), ("access", "*"): ("roles", "why")}


def _explain(item: Any, lines: dict[_Path, int]) -> str:
    """One pydantic error in the overlay's terms: the line, the entry, what is wrong."""
    loc: tuple[str | int, ...] = tuple(item["loc"])
    line = _line_of(loc, lines)
    where = ".".join(str(part) for part in loc) or "the file"
    prefix = f"line {line}: " if line else ""
    if item["type"] == "extra_forbidden":
        parent = () if len(loc) == 1 else ("access", "*")
        allowed = ", ".join(_KEYS.get(parent, ()))
        return f"{prefix}unknown key {loc[-1]!r} in {'the file' if len(loc) == 1 else '.'.join(map(str, loc[:-1]))} (allowed: {allowed})"
    if len(loc) == 2 and loc[0] == "access" and item["type"] != "missing":
        return f"{prefix}{where}: give its roles as a list ([role, …]) or as {{roles: [role, …], why: …}}, not {item.get('input')!r}"
    if item["type"] == "missing":
        return f"{prefix}{where} is missing (give the roles that may call it: [role, …])"
    return f"{prefix}{where}: {item['msg']} (got {item.get('input')!r})"


# -- applying ---------------------------------------------------------------------------------------
def apply_overlay(service: Service, overlay: RoleOverlay, lines: dict[_Path, int], source: str) -> Service:
    """A copy of `service` with the overlay's roles and role table. Raises `OverlayError` listing
    every entry that names an API the guide lacks or a role neither the guide nor the overlay
    declares, or repeats a role."""
    problems: list[str] = []

    def at(*path: str | int) -> str:
        line = _line_of(path, lines)
        return f"line {line}: " if line else ""

    roles = list(service.roles)
    for index, role in enumerate(overlay.roles):
        if not role.strip() or role != role.strip():
            problems.append(f"{at('roles', index)}roles: {role!r} is no role name")
        elif role in overlay.roles[:index]:
            problems.append(f"{at('roles', index)}roles: {role} is given twice; keep one")
        elif role not in roles:
            roles.append(role)
    apis = {api.name: api for api in service.apis}
    known = ", ".join(roles) if roles else "none yet: declare them under roles:"
    for name, rule in overlay.access.items():
        if name not in apis:
            close = difflib.get_close_matches(name, list(apis), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"{at('access', name)}access: {name!r} is no API of {service.project} {service.name}{hint}; "
                            f"its APIs: {', '.join(apis)}")
            continue
        if not rule.roles:
            problems.append(f"{at('access', name)}access.{name}: no role may call it; list its roles "
                            "(or leave the API out to open it to every role)")
        for index, role in enumerate(rule.roles):
            if role not in roles:
                close = difflib.get_close_matches(role, roles, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(f"{at('access', name, 'roles', index)}access.{name}: unknown role {role!r}{hint}; "
                                f"the roles: {known} (declare others under roles:)")
            elif role in rule.roles[:index]:
                problems.append(f"{at('access', name, 'roles', index)}access.{name}: {role} is given twice; keep one")
    if problems:
        raise OverlayError("\n".join(f"{source}: {problem}" for problem in problems))
    merged = service.model_copy(deep=True)
    merged.roles = roles
    order = {role: index for index, role in enumerate(roles)}
    for api in merged.apis:
        granted = overlay.access.get(api.name)
        api.access = sorted(granted.roles, key=order.__getitem__) if granted is not None else None
    return merged
