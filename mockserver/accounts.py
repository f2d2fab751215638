"""The auth API's account routes beyond the session: public registration (as an auth guide offers
it), the user list for admin panels, and Mindbricks' verification services in test mode.

- `POST /auth-api/v1/register…` — each public registration API of the project's auth guide, with
  the guide's body parameters; the user can log in at once and is a persona from then on.
- `GET /auth-api/v1/users` — `listUsers`: roles named like `admin`/`owner` see the users (a
  tenant's admins, their tenant's).
- `/auth-api/verification-services/email-verification/{start,complete}` and
  `…/password-reset-by-email/{start,complete}`: `start` answers the 6-digit `secretCode` (and
  `codeIndex`) as Mindbricks does in test mode, so a demo passes the flow without a mailbox.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import envelope
from .authbase import PREFIX, AuthProject, AuthRequests
from .engine import json_response
from .errors import bad_request, forbidden, not_found, unauthorized
from .identity import Persona

VERIFICATION = f"{PREFIX}/verification-services"
ADMIN_WORDS = ("admin", "owner")  # roles that see the user list (superAdmin, saasAdmin, tenantOwner, admin…)
Route = tuple[str, str, Callable[[web.Request], Awaitable[web.Response]]]


class Accounts:
    """The handlers; the request plumbing (project, tenant, body, caller) is the auth API's."""

    def __init__(self, api: AuthRequests) -> None:
        self.api = api
        self.world = api.world

    def routes(self) -> list[Route]:
        """Every route, the registrations of the served projects' guides included."""
        routes: list[Route] = [
            ("GET", f"{PREFIX}/v1/users", self.users),
            ("POST", f"{VERIFICATION}/email-verification/start", self.email_verification_start),
            ("POST", f"{VERIFICATION}/email-verification/complete", self.email_verification_complete),
            ("POST", f"{VERIFICATION}/password-reset-by-email/start", self.password_reset_start),
            ("POST", f"{VERIFICATION}/password-reset-by-email/complete", self.password_reset_complete),
        ]
        registrations = {(reg.method, PREFIX + reg.path) for ap in self.api.projects.values() if ap.guide
                         for reg in ap.guide.registrations}
        return routes + [(method, path, self.register) for method, path in sorted(registrations)]

    async def register(self, request: web.Request) -> web.Response:
        ap = self.api.project(request)
        api = ap.registration(request.path.lower())
        if api is None:
            raise not_found("errMsg_routeNotFound",
                            f"project {ap.project} has no public {request.path} (its auth guide does not offer it)")
        data = await self.api.body(request)
        values = {}
        for param in api.params:
            value = data.get(param.name)
            if value in (None, ""):
                if param.required:
                    raise bad_request(f"errMsg_{param.name}isRequired", f"{param.name} is required")
                continue
            if param.type in ("String", "Text") and not isinstance(value, str):
                raise bad_request(f"errMsg_{param.name}isNotAString", f"{param.name} must be a string")
            values[param.name] = value
        email = str(values.get("email") or "").strip().lower()
        if "@" not in email:
            raise bad_request("errMsg_emailIsNotValid", "email must be an email address")
        tenant, company = self.api.tenant(request, ap)
        if api.tenant_level and tenant is None:
            raise bad_request("errMsg_tenantCodenameIsRequired",
                              f"{api.api} registers a user of a tenant: send {ap.tenant_header}")
        scope = tenant if api.tenant_level else None
        if any(p.email.lower() == email and (p.tenant or None) == scope for p in self.world.personas(ap.project)):
            raise bad_request("errMsg_emailAlreadyRegistered", f"{email} is already registered")
        now = self.world.now_iso()
        user_id = self.world.new_id()
        role = "tenantUser" if scope else "user"
        persona = Persona(project=ap.project, name=email, role=role, user_id=user_id, email=email,
                          fullname=str(values.get("fullname") or email.split("@")[0]), tenant=scope,
                          company_id=(company or {}).get("id") if scope else None, password=str(values["password"]))
        user: dict[str, Any] = {
            "id": user_id, "email": email, "password": hashlib.sha256(persona.password.encode()).hexdigest(),
            "fullname": persona.fullname,
            "avatar": values.get("avatar") or f"https://avatars.twin.test/{user_id[:8]}.png",
            "roleId": role, "emailVerified": False,
        }
        if scope and ap.tenant_name:
            user[f"{ap.tenant_name}Id"] = persona.company_id
        user.update({"isActive": True, "recordVersion": 0, "createdAt": now, "updatedAt": now, "_owner": user_id})
        self.world.register(persona, user)
        body = envelope.success(status=201, elapsed_ms=0, user_id=None, session_id=None,
                                request_id=self.world.request_id(), data_name="user", method="POST",
                                action="create", data=user)
        return json_response(body, 201)

    async def users(self, request: web.Request) -> web.Response:
        """`listUsers`: admin roles see the users (a tenant's admins, those of their tenant)."""
        ap = self.api.project(request)
        found = self.api.identity(request, ap)
        if found is None:
            raise unauthorized()
        identity = found[1]
        if not any(word in identity.role.lower() for word in ADMIN_WORDS):
            raise forbidden("errMsg_roleNotAllowed", f"role {identity.role} may not list users")
        table = self.world.foreign(ap.project, "user")
        records = table.records() if table is not None else []
        if identity.tenant:
            ids = {p.user_id for p in self.world.personas(ap.project) if p.tenant == identity.tenant}
            records = [r for r in records if r.get("id") in ids]
        records = [{k: v for k, v in r.items() if k != "password"} for r in records]
        body = envelope.success(status=200, elapsed_ms=0, user_id=identity.user_id, session_id=identity.session_id,
                                request_id=self.world.request_id(), data_name="users", method="GET", action="list",
                                data=records, page=envelope.paging(1, max(len(records), 1), len(records)))
        return json_response(body, 200)

    # -- verification stubs (Mindbricks' /verification-services, in its test mode) ----------------
    def _verification_user(self, request: web.Request, ap: AuthProject, data: dict[str, Any]) -> Persona:
        email = data.get("email")
        if not isinstance(email, str) or not email.strip():
            raise bad_request("errMsg_emailIsRequired", "send the user's 'email'")
        tenant, _ = self.api.tenant(request, ap)
        wanted = email.strip().lower()
        found = [p for p in self.world.personas(ap.project) if p.email.lower() == wanted and (p.tenant or None) == tenant]
        if not found:
            raise unauthorized("errMsg_userNotFound", f"no user {email} in {f'tenant {tenant}' if tenant else 'the root tenant'}")
        return found[0]

    def _start(self, ap: AuthProject, persona: Persona, kind: str) -> dict[str, Any]:
        index, code = self.world.sessions.start_code((ap.project, persona.tenant, persona.email, kind))
        now = self.world.clock.now()
        return {"status": "OK", "codeIndex": index, "timeStamp": int(now.timestamp() * 1000), "date": self.world.now_iso(),
                "expireTime": 86400, "verificationType": "byCode", "secretCode": code, "userId": persona.user_id,
                "email": persona.email}

    def _complete(self, ap: AuthProject, persona: Persona, kind: str, data: dict[str, Any]) -> None:
        key = (ap.project, persona.tenant, persona.email, kind)
        started = self.world.sessions.codes.get(key)
        if started is None:
            raise not_found("errMsg_noVerificationInProgress", f"start the {kind} of {persona.email} first")
        if str(data.get("secretCode") or "") != started[1]:
            raise forbidden("errMsg_secretCodeMismatch", "the secretCode is not the one the start answered")
        del self.world.sessions.codes[key]

    async def email_verification_start(self, request: web.Request) -> web.Response:
        ap = self.api.project(request)
        persona = self._verification_user(request, ap, await self.api.body(request))
        if self.api.user_record(persona).get("emailVerified", True):
            raise bad_request("errMsg_emailAlreadyVerified", f"{persona.email} is verified already")
        return json_response(self._start(ap, persona, "email-verification"), 200)

    async def email_verification_complete(self, request: web.Request) -> web.Response:
        ap = self.api.project(request)
        data = await self.api.body(request)
        persona = self._verification_user(request, ap, data)
        self._complete(ap, persona, "email-verification", data)
        table = self.world.foreign(ap.project, "user")
        record = table.get(persona.user_id, include_inactive=True) if table is not None else None
        if table is not None and record is not None:
            table.replace({**record, "emailVerified": True})
        return json_response({"status": "OK", "isVerified": True, "email": persona.email, "userId": persona.user_id}, 200)

    async def password_reset_start(self, request: web.Request) -> web.Response:
        ap = self.api.project(request)
        persona = self._verification_user(request, ap, await self.api.body(request))
        return json_response(self._start(ap, persona, "password-reset-by-email"), 200)

    async def password_reset_complete(self, request: web.Request) -> web.Response:
        ap = self.api.project(request)
        data = await self.api.body(request)
        persona = self._verification_user(request, ap, data)
        password = data.get("password")
        if not isinstance(password, str) or not password:
            raise bad_request("errMsg_passwordIsRequired", "send the new 'password'")
        self._complete(ap, persona, "password-reset-by-email", data)
        self.world.set_password(persona, password)
        return json_response({"status": "OK", "isVerified": True, "email": persona.email, "userId": persona.user_id}, 200)
