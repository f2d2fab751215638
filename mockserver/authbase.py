"""What the auth API's routes share (authapi.py: sessions; accounts.py: registration, users,
verification): each project's auth conventions and the plumbing every handler uses to read a
request (which project, which tenant, the body, the caller)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from specs.auth import AuthGuide, RegistrationApi

from . import envelope
from .engine import json_response
from .errors import ApiError, bad_request, not_found
from .identity import ROOT_TENANT, Identity, Persona, cookie_name, cookie_token
from .world import World

PREFIX = "/auth-api"


@dataclass(frozen=True)
class AuthProject:
    """One project's auth conventions: its tenant (name and header) and its guide, if given."""

    project: str
    tenant_header: str | None
    tenant_name: str | None
    guide: AuthGuide | None

    def cookie(self, tenant: str | None) -> str:
        return cookie_name(self.project, tenant)

    def registration(self, path: str) -> RegistrationApi | None:
        return next((r for r in (self.guide.registrations if self.guide else []) if PREFIX + r.path == path), None)


def auth_projects(world: World, guides: list[AuthGuide]) -> dict[str, AuthProject]:
    """Every served project's auth conventions; a guide for a project not served is ignored."""
    by_project = {g.project: g for g in guides}
    projects = {}
    for project in world.projects:
        headers = [s.spec.tenant_header for s in world.services.values()
                   if s.spec.project == project and s.spec.tenant_header]
        guide = by_project.get(project)
        header = (guide.tenant_header if guide else None) or (headers[0] if headers else None)
        name = (guide.tenant_name if guide else None) or _tenant_name(header)
        projects[project] = AuthProject(project=project, tenant_header=header, tenant_name=name, guide=guide)
    return projects


def _tenant_name(header: str | None) -> str | None:
    """`mbx-company-codename` → `company`."""
    if not header:
        return None
    name = header.lower().removeprefix("mbx-").removesuffix("-codename")
    return name or None


def project_for_host(host: str, projects: dict[str, Any]) -> str:
    """The project a request's Host names (`tutorhub.localhost:8080`), or the only one served;
    an ApiError (404) saying which hosts to use otherwise."""
    name, port = host.lower(), ""
    if name.count(":") == 1 or "]:" in name:
        name, port = name.rsplit(":", 1)
    name = name.rstrip(".")
    if name.endswith(".localhost"):
        label = name.removesuffix(".localhost").rsplit(".", 1)[-1]
        found = next((p for p in projects if p.lower() == label), None)  # host names are case-blind
        if found is not None:
            return found
        raise not_found("errMsg_projectNotFound",
                        f"no project {label!r} is served here; served: {', '.join(sorted(projects)) or 'none'}")
    if len(projects) == 1:
        return next(iter(projects))
    example = f"http://{sorted(projects)[0]}.localhost{f':{port}' if port else ''}/auth-api/login"
    raise not_found("errMsg_projectHostRequired",
                    f"several projects are served ({', '.join(sorted(projects))}): call the auth API on "
                    f"http://<project>.localhost:<port>, e.g. {example}")


def cookie_scope(request: web.Request) -> dict[str, Any]:
    """The session cookie's SameSite: `Lax` for same-origin logins (a proxied dev server, curl);
    a page on another origin (`http://localhost:5173` calling `http://tutorhub.localhost:8080`) is
    another site to the browser, which sends the cookie back only if it is `SameSite=None; Secure`
    (browsers take Secure cookies from loopback hosts over plain http)."""
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/").lower() != f"{request.scheme}://{request.host}".lower():
        return {"samesite": "None", "secure": True}
    return {"samesite": "Lax"}


class AuthRequests:
    """The request plumbing of the auth API's handlers; state comes from the world (sessions,
    personas) and the project table."""

    def __init__(self, world: World, projects: dict[str, AuthProject]) -> None:
        self.world = world
        self.projects = projects

    # -- plumbing --------------------------------------------------------------------------------
    def project(self, request: web.Request) -> AuthProject:
        return self.projects[project_for_host(request.host, self.projects)]

    def _error(self, error: ApiError) -> web.Response:
        return json_response(envelope.error(error.status, error.message, error.detail, self.world.clock.now()),
                             error.status)

    def tenant(self, request: web.Request, ap: AuthProject) -> tuple[str | None, dict[str, Any] | None]:
        """The tenant codename the request claims (None: root) and its record."""
        if ap.tenant_header is None:
            return None, None
        codename = request.headers.get(ap.tenant_header, "").strip().lower()
        if not codename or codename == ROOT_TENANT:
            return None, None
        company = self.world.company(ap.project, codename)
        if company is None:
            raise not_found("errMsg_tenantNotFound", f"{ap.tenant_header}: no tenant {codename!r}")
        return codename, company

    @staticmethod
    async def body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if not raw.strip():
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise bad_request("errMsg_invalidJsonBody", f"the body is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise bad_request("errMsg_bodyMustBeAJsonObject", "the request body must be a JSON object")
        return data

    def _token(self, request: web.Request, ap: AuthProject) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        tenant = request.headers.get(ap.tenant_header) if ap.tenant_header else None
        return cookie_token(request.cookies, ap.project, tenant)

    def identity(self, request: web.Request, ap: AuthProject) -> tuple[str, Identity] | None:
        token = self._token(request, ap)
        if not token:
            return None
        try:
            return token, self.world.auth.authenticate(f"Bearer {token}", ap.project)
        except ApiError:
            return None

    def user_record(self, persona: Persona) -> dict[str, Any]:
        table = self.world.foreign(persona.project, "user")
        record = table.get(persona.user_id, include_inactive=True) if table is not None else None
        return dict(record) if record else {}

    def guarded(self, handler: Callable[[web.Request], Awaitable[web.Response]]) \
            -> Callable[[web.Request], Awaitable[web.Response]]:
        """The handler with its ApiErrors answered in the error envelope."""
        async def run(request: web.Request) -> web.Response:
            try:
                return await handler(request)
            except ApiError as error:
                return self._error(error)
        return run

