"""Who is calling: personas, their JWTs, and the bearer-token check.

Tokens are HS256 JWTs carrying `userId`, `role`, `tenant` (a company codename or null) and
`project`; the twin signs them with its own secret, so a token from elsewhere, a tampered one or
one for another project is refused with 401.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import jwt

from .errors import unauthorized

DEFAULT_SECRET = "twin-local-development-signing-secret-not-for-production"  # a mock's tokens guard nothing real
_CACHE_LIMIT = 4096


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

    def public(self, token: str) -> dict[str, object]:
        """The persona as the control API shows it."""
        data = asdict(self)
        return {
            "project": data["project"], "name": data["name"], "role": data["role"], "userId": data["user_id"],
            "email": data["email"], "fullname": data["fullname"], "tenant": data["tenant"],
            "companyId": data["company_id"], "token": token,
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


def system_identity(project: str, name: str = "stripe-webhook") -> Identity:
    """The caller of a signed webhook: no user, a `system` role."""
    return Identity(user_id="00000000-0000-4000-8000-000000000000", role="system", project=project, tenant=None,
                    company_id=None, session_id=name, name=name)


class Authenticator:
    """Issues and checks the twin's bearer tokens."""

    def __init__(self, personas: list[Persona], secret: str = DEFAULT_SECRET) -> None:
        self.secret = secret
        self.personas = {(p.project, p.name): p for p in personas}
        self._by_user = {(p.project, p.user_id): p for p in personas}
        self._cache: dict[str, Identity] = {}

    def token_for(self, persona: Persona) -> str:
        """A token for `persona` (deterministic: the same persona always gets the same token)."""
        claims = {
            "sub": persona.user_id, "userId": persona.user_id, "role": persona.role, "tenant": persona.tenant,
            "companyId": persona.company_id, "project": persona.project, "name": persona.name,
            "sid": f"sess-{persona.user_id[:8]}", "iss": "twin",
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def authenticate(self, authorization: str | None, project: str) -> Identity:
        """The identity behind an `Authorization` header, or a 401 ApiError."""
        if not authorization:
            raise unauthorized()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("errMsg_invalidAuthorizationHeader", "use 'Authorization: Bearer <token>'")
        token = token.strip()
        identity = self._cache.get(token)
        if identity is None:
            identity = self._decode(token)
        if identity.project != project:
            raise unauthorized("errMsg_tokenIsForAnotherProject", f"this token belongs to project {identity.project}")
        return identity

    def _decode(self, token: str) -> Identity:
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": ["userId", "role", "project"]})
        except jwt.PyJWTError as error:
            raise unauthorized("errMsg_invalidToken", f"the token was refused: {error}") from None
        identity = Identity(
            user_id=str(claims["userId"]), role=str(claims["role"]), project=str(claims["project"]),
            tenant=claims.get("tenant"), company_id=claims.get("companyId"),
            session_id=str(claims.get("sid") or claims["userId"]), name=str(claims.get("name") or ""),
        )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = identity
        return identity
