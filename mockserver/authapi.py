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
- Registration, the user list and verification: `accounts.py`; what both share (the project
  table, reading a request): `authbase.py`.

Which project answers: the Host `<project>.localhost[:port]` names it (one origin per project, as
real deployments have); on any other host, the only project served, if there is exactly one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
from aiohttp import web

from specs.auth import AuthGuide

from .accounts import Accounts
from .authbase import PREFIX, AuthProject, AuthRequests, auth_projects, cookie_scope
from .engine import json_response
from .errors import bad_request, forbidden, unauthorized
from .identity import ROOT_TENANT, Persona
from .routing import Handler
from .sessions import Session
from .world import World

NO_LOGIN = {"status": "ERR", "message": "No login found"}  # the guides' currentuser 401, verbatim


class AuthApi(AuthRequests):
    """The session handlers: login, logout, currentuser."""

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



def add_routes(app: web.Application, world: World, guides: list[AuthGuide],
               through: Callable[[Handler], Handler] | None = None) -> AuthApi:
    """Mount `/auth-api` (one set of routes; the Host picks the project); `through` wraps each
    route's handler (the service plane's steps, see pipeline.py)."""
    api = AuthApi(world, auth_projects(world, guides))
    accounts = Accounts(api)
    routes = [("POST", f"{PREFIX}/login", api.login), ("POST", f"{PREFIX}/logout", api.logout),
              ("GET", f"{PREFIX}/currentuser", api.currentuser), *accounts.routes()]
    # A served spec of the auth service itself answers its own routes: the conventions step aside.
    taken = {(route.method, route.resource.canonical) for route in app.router.routes() if route.resource}
    for method, path, handler in routes:
        if (method, path) not in taken:
            guarded = api.guarded(handler)
            app.router.add_route(method, path, through(guarded) if through is not None else guarded)
    return api
