"""Who is calling: personas, their JWTs, and the bearer-token check.

Tokens are HS256 JWTs carrying `userId`, `role`, `tenant` (a company codename or null) and
`project`; the twin signs them with its own secret, so a token from elsewhere, a tampered one or
one for another project is refused with 401. A token minted by `POST /auth-api/login` also names
its session (`ses`); it is refused once that session has ended (logout, reset). Persona tokens
from the control API name none and stay valid.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Mapping
from dataclasses import asdict, dataclass

import jwt

from .errors import unauthorized

DEFAULT_SECRET = "twin-local-development-signing-secret-not-for-production"  # a mock's tokens guard nothing real
_CACHE_LIMIT = 4096
ROOT_TENANT = "root"  # the codename the guides give the SaaS level: no tenant
EXPIRED = "the token has expired (its exp is in the past); log in again for a new one"


@dataclass(frozen=True)
class Persona:
    """A fixture user the twin knows, with the role and tenant the guides talk about."""

    project: str
    name: str
    role: str
    user_id: str
    email: str
    fullname: str
    tenant: str | None = None
    company_id: str | None = None
    password: str = ""

    def public(self, token: str) -> dict[str, object]:
        """The persona as the control API shows it."""
        data = asdict(self)
        return {
            "project": data["project"], "name": data["name"], "role": data["role"], "userId": data["user_id"],
            "email": data["email"], "fullname": data["fullname"], "tenant": data["tenant"],
            "companyId": data["company_id"], "password": data["password"], "token": token,
        }


@dataclass(frozen=True)
class Identity:
    """The authenticated caller of one request."""

    user_id: str
    role: str
    project: str
    tenant: str | None
    company_id: str | None
    session_id: str
    name: str
    login: bool = False  # minted by the auth API's login: valid only while its session lives
    expires: float | None = None  # the token's `exp` (seconds since 1970), when it has one


def system_identity(project: str, name: str = "stripe-webhook") -> Identity:
    """The caller of a signed webhook: no user, a `system` role."""
    return Identity(user_id="00000000-0000-4000-8000-000000000000", role="system", project=project, tenant=None,
                    company_id=None, session_id=name, name=name)


def refusal(error: jwt.PyJWTError) -> str:
    """Why a token was refused, in a client developer's words (not the JWT library's). An expired
    one is `authenticate`'s to refuse (EXPIRED): PyJWT's own `exp` check is off."""
    if isinstance(error, jwt.ImmatureSignatureError):
        return "the token is not valid yet (its nbf or iat is in the future)"
    if isinstance(error, jwt.InvalidSignatureError):
        return "the token's signature is wrong: it was not issued by this twin (or was changed after)"
    if isinstance(error, jwt.InvalidAlgorithmError):
        return "the token is signed with an algorithm the twin does not use (it signs HS256)"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"the token lacks the claim {error.claim!r}: it was not issued by this twin"
    if isinstance(error, jwt.DecodeError):
        return "the token is malformed: a JWT is three base64url parts separated by dots (header.payload.signature)"
    return f"the token is not valid: {error}"


class Authenticator:
    """Issues and checks the twin's bearer tokens."""

    def __init__(self, personas: list[Persona], secret: str = DEFAULT_SECRET,
                 sessions: Container[str] = frozenset(), now: Callable[[], float] = time.time) -> None:
        self.secret = secret
        # What a token's `exp` is compared with, on every call (a known header's identity is kept,
        # and must still expire): the wall clock, as PyJWT would.
        self.now = now
        self.personas = {(p.project, p.name): p for p in personas}
        self._by_user = {(p.project, p.user_id): p for p in personas}
        self._cache: dict[str, Identity] = {}  # Authorization header -> its identity
        # The live login sessions (the world's session store, by id): a login token whose session
        # is not in it is refused.
        self.sessions = sessions

    def add_persona(self, persona: Persona) -> None:
        """Know one more user (a registration)."""
        self.personas[(persona.project, persona.name)] = persona
        self._by_user[(persona.project, persona.user_id)] = persona

    def persona_of(self, identity: Identity) -> Persona | None:
        """The persona behind an authenticated identity (None for system callers)."""
        return self._by_user.get((identity.project, identity.user_id))

    def token_for(self, persona: Persona, session_id: str | None = None) -> str:
        """A token for `persona` (deterministic: the same persona always gets the same token); with
        `session_id`, a login token bound to that session."""
        claims: dict[str, object] = {
            "sub": persona.user_id, "userId": persona.user_id, "role": persona.role, "tenant": persona.tenant,
            "companyId": persona.company_id, "project": persona.project, "name": persona.name,
            "sid": session_id or f"sess-{persona.user_id[:8]}", "iss": "twin",
        }
        if session_id:
            claims["ses"] = True
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def authenticate(self, authorization: str | None, project: str) -> Identity:
        """The identity behind an `Authorization` header, or a 401 ApiError."""
        # Known headers (a client sends the same one on every call) skip parsing and decoding.
        identity = self._cache.get(authorization) if authorization else None
        if identity is None:
            identity = self._read(authorization)
        if identity.expires is not None and identity.expires <= self.now():
            raise unauthorized("errMsg_invalidToken", EXPIRED)
        if identity.project != project:
            raise unauthorized("errMsg_tokenIsForAnotherProject",
                               f"this token was issued for project {identity.project!r}, this service belongs to "
                               f"{project!r}: log in to {project!r} (POST /__twin/login)")
        if identity.login and identity.session_id not in self.sessions:
            raise unauthorized("errMsg_sessionNotFound", "the session of this token has ended (logout or reset); log in again")
        return identity

    def _read(self, authorization: str | None) -> Identity:
        """The identity of a header not seen before, kept for the next call with it."""
        if not authorization:
            raise unauthorized()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("errMsg_invalidAuthorizationHeader", "use 'Authorization: Bearer <token>'")
        identity = self._decode(token.strip())
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[authorization] = identity
        return identity

    def _decode(self, token: str) -> Identity:
        try:
            # `exp` is checked by `authenticate` on every call, this one included.
            claims = jwt.decode(token, self.secret, algorithms=["HS256"],
                                options={"require": ["userId", "role", "project"], "verify_exp": False})
        except jwt.PyJWTError as error:
            raise unauthorized("errMsg_invalidToken", refusal(error)) from None
        expires = claims.get("exp")
        if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int | float)):
            raise unauthorized("errMsg_invalidToken", f"the token's exp must be a number of seconds since 1970, "
                                                      f"not {expires!r}")
        identity = Identity(
            user_id=str(claims["userId"]), role=str(claims["role"]), project=str(claims["project"]),
            tenant=claims.get("tenant"), company_id=claims.get("companyId"),
            session_id=str(claims.get("sid") or claims["userId"]), name=str(claims.get("name") or ""),
            login=bool(claims.get("ses")), expires=expires,
        )
        return identity


def cookie_name(project: str, tenant: str | None = None) -> str:
    """The session cookie's name: `<project>-access-token`, `-<tenantCodename>` for a tenant login."""
    return f"{project}-access-token-{tenant.lower()}" if tenant and tenant.lower() != ROOT_TENANT \
        else f"{project}-access-token"


def cookie_token(cookies: Mapping[str, str], project: str, tenant: str | None = None) -> str | None:
    """The token a request's cookies carry for `project`: the tenant's cookie when the request names
    a tenant (a user logged in to it), else the root one (a platform user acting for any tenant)."""
    if tenant:
        token = cookies.get(cookie_name(project, tenant.strip()))
        if token:
            return token
    return cookies.get(cookie_name(project)) or None
