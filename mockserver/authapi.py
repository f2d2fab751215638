"""The projects' auth API under `/auth-api`, by Mindbricks conventions, refined by auth guides.

- `POST /auth-api/login` — `username` (or `email`; `username` wins when both are sent) and
  `password` of a persona (passwords in `GET /__twin/personas`) or of a registered user. Answers
  the session object, sets the `<project>-access-token[-<tenantCodename>]` cookie and sends the
  same token in a response header of that name. A multi-tenant project's user logs in to the
  tenant its tenant header names (none, or `root`: the SaaS level).
- `POST /auth-api/logout` — ends the session of the token (Bearer header or cookie) and clears the
  cookie; always 200, with or without a session.
- `GET /auth-api/currentuser` — the session: `userId`, `sessionId` (no `id`), identity, role,
  tenant fields, 2FA flags, `accessToken`; 401 `{"status": "ERR", "message": "No login found"}`.
- Registration, the user list and verification: `accounts.py`.

Which project answers: the Host `<project>.localhost[:port]` names it (one origin per project, as
real deployments have); on any other host, the only project served, if there is exactly one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
import orjson
from aiohttp import web

from specs.auth import AuthGuide, RegistrationApi

from . import envelope
from .engine import json_response
from .errors import ApiError, bad_request, forbidden, not_found, unauthorized
from .identity import ROOT_TENANT, Identity, Persona, cookie_name, cookie_token
from .sessions import Session
from .world import World

PREFIX = "/auth-api"
NO_LOGIN = {"status": "ERR", "message": "No login found"}  # the guides' currentuser 401, verbatim


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


class AuthApi:
    """The handlers; state comes from the world (sessions, personas) and the project table."""

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

    def session_object(self, ap: AuthProject, persona: Persona, session_id: str, tenant: str | None,
                       token: str, login_date: str) -> dict[str, Any]:
        """The session as login and currentuser answer it: user and session fields, no `id`."""
        user = self.user_record(persona)
        company = self.world.company(ap.project, tenant) if tenant else None
        body: dict[str, Any] = {
            "sessionId": session_id, "userId": persona.user_id, "email": persona.email,
            "fullname": persona.fullname, "avatar": user.get("avatar"), "roleId": persona.role,
            "emailVerified": bool(user.get("emailVerified", True)), "mobileVerified": False,
            "isActive": bool(user.get("isActive", True)),
        }
        if ap.tenant_header:
            tenant_id = (company or {}).get("id")
            body.update({"tenantId": tenant_id or ROOT_TENANT, "tenantCodename": tenant or ROOT_TENANT})
            if ap.tenant_name:
                body[f"{ap.tenant_name}Id"] = tenant_id
                body[f"{ap.tenant_name}Codename"] = tenant or ROOT_TENANT
        body.update({
            "loginDate": login_date, "sessionNeedsEmail2FA": False, "sessionNeedsMobile2FA": False,
            "accessToken": token, "userBucketToken": self._bucket_token(persona, session_id),
        })
        return body

    def user_record(self, persona: Persona) -> dict[str, Any]:
        table = self.world.foreign(persona.project, "user")
        record = table.get(persona.user_id, include_inactive=True) if table is not None else None
        return dict(record) if record else {}

    def _bucket_token(self, persona: Persona, session_id: str) -> str:
        """The token the bucket service takes (it opens no service route: no role in it)."""
        claims = {"userId": persona.user_id, "sid": session_id, "project": persona.project, "purpose": "bucket"}
        return jwt.encode(claims, self.world.auth.secret, algorithm="HS256")

    # -- routes ----------------------------------------------------------------------------------
    async def login(self, request: web.Request) -> web.Response:
        ap = self.project(request)
        data = await self.body(request)
        username = data.get("username") if data.get("username") not in (None, "") else data.get("email")
        password = data.get("password")
        if username in (None, ""):
            raise bad_request("errMsg_usernameIsRequired", "send 'username' (or 'email') and 'password'")
        if password in (None, ""):
            raise bad_request("errMsg_passwordIsRequired", "send 'password' with the username")
        if not isinstance(username, str) or not isinstance(password, str):
            raise bad_request("errMsg_credentialsMustBeStrings", "'username'/'email' and 'password' must be strings")
        tenant, _company = self.tenant(request, ap)
        persona = self._check_credentials(ap, username.strip(), password, tenant)
        session = Session(session_id=self.world.sessions.new_id(), project=ap.project, user_id=persona.user_id,
                          tenant=tenant, token="", login_date=self.world.now_iso())
        token = self.world.auth.token_for(persona, session.session_id)
        session = Session(**{**session.__dict__, "token": token})
        self.world.sessions.add(session)
        name = ap.cookie(tenant)
        response = json_response(self.session_object(ap, persona, session.session_id, tenant, token,
                                                     session.login_date), 200,
                                 {name: token, "Access-Control-Expose-Headers": name})
        response.set_cookie(name, token, path="/", httponly=True, **cookie_scope(request))
        return response

    def _check_credentials(self, ap: AuthProject, username: str, password: str, tenant: str | None) -> Persona:
        wanted = username.lower()
        users = [p for p in self.world.personas(ap.project) if wanted in (p.email.lower(), p.name.lower())]
        here = [p for p in users if (p.tenant or None) == tenant]
        where = f"tenant {tenant}" if tenant else "the root tenant"
        if not here:
            if users and ap.tenant_header:
                other = users[0].tenant
                hint = f"send {ap.tenant_header}: {other}" if other else f"log in without {ap.tenant_header}"
                raise unauthorized("errMsg_invalidCredentials", f"{username} is not a user of {where}; {hint}")
            raise unauthorized("errMsg_invalidCredentials",
                               f"no user {username} in {where}; see GET /__twin/personas?project={ap.project}")
        persona = here[0]
        if not persona.password or password != persona.password:
            raise unauthorized("errMsg_invalidCredentials",
                               f"wrong password for {username} (the personas' passwords are in GET /__twin/personas)")
        if not self.user_record(persona).get("isActive", True):
            raise forbidden("errMsg_userIsNotActive", f"{username} has been deactivated")
        return persona

    async def logout(self, request: web.Request) -> web.Response:
        ap = self.project(request)
        found = self.identity(request, ap)
        names = {n for n in request.cookies if n == ap.cookie(None) or n.startswith(ap.cookie(None) + "-")}
        if found is not None and found[1].login:
            session = self.world.sessions.end(found[1].session_id)
            if session is not None:
                names.add(ap.cookie(session.tenant))
        response = json_response({"status": "OK", "message": "User logged out successfully"}, 200)
        for name in sorted(names):
            response.del_cookie(name, path="/")
        return response

    async def currentuser(self, request: web.Request) -> web.Response:
        ap = self.project(request)
        found = self.identity(request, ap)
        persona = self.world.auth.persona_of(found[1]) if found else None
        if found is None or persona is None:
            return json_response(NO_LOGIN, 401)
        token, identity = found
        session = self.world.sessions.get(identity.session_id) if identity.login else None
        if session is not None:
            body = self.session_object(ap, persona, session.session_id, session.tenant, token, session.login_date)
        else:  # a persona token from the control API: a session of its own, always open
            body = self.session_object(ap, persona, identity.session_id, persona.tenant, token, self.world.now_iso())
        return json_response(body, 200)

    def guarded(self, handler: Callable[[web.Request], Awaitable[web.Response]]) \
            -> Callable[[web.Request], Awaitable[web.Response]]:
        """The handler with its ApiErrors answered in the error envelope."""
        async def run(request: web.Request) -> web.Response:
            try:
                return await handler(request)
            except ApiError as error:
                return self._error(error)
        return run


def add_routes(app: web.Application, world: World, guides: list[AuthGuide]) -> AuthApi:
    """Mount `/auth-api` (one set of routes; the Host picks the project)."""
    from .accounts import Accounts

    api = AuthApi(world, auth_projects(world, guides))
    accounts = Accounts(api)
    routes = [("POST", f"{PREFIX}/login", api.login), ("POST", f"{PREFIX}/logout", api.logout),
              ("GET", f"{PREFIX}/currentuser", api.currentuser), *accounts.routes()]
    # A served spec of the auth service itself answers its own routes: the conventions step aside.
    taken = {(route.method, route.resource.canonical) for route in app.router.routes() if route.resource}
    for method, path, handler in routes:
        if (method, path) not in taken:
            app.router.add_route(method, path, api.guarded(handler))
    return api
