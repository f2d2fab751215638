"""Who may call the control API (`/__twin/*`, `/__twin/stripe/*`): the control plane's guard.

A web page the developer happens to open must not be able to read personas' tokens or wipe the
twin. The rules, checked on every control request before its handler runs:

1. **Same-site callers only.** A request with an `Origin` header is served only when that origin is
   *same-site*: a loopback origin (`localhost`, `127.0.0.0/8`, `[::1]`, any port), a `*.localhost`
   name, the twin's `--public-url`, or one given with `--control-origin`. Any other origin
   (including `null`) gets 403 and no CORS grant; its preflight gets 403 too. Requests without
   `Origin` (curl, SDKs, tests; a browser's same-origin reads) pass this rule.
2. **No DNS rebinding.** Without a control token, the `Host` header must name a loopback address, a
   `*.localhost` name, the public URL's host or a `--control-origin` host: a foreign name that
   resolves to 127.0.0.1 cannot reach the control plane (403).
3. **Changes need JSON.** A POST needs `Content-Type: application/json` (or `…+json`), or a header
   a browser cannot send cross-site without a preflight (`Authorization`, `X-Requested-With`): a
   simple cross-site request (a form, `text/plain`, `no-cors` fetch) never changes state (415
   otherwise). PUT, PATCH and DELETE are never simple: a browser preflights them cross-site, and
   rule 1 refuses the preflight, so a bodiless `DELETE /__twin/faults` from curl needs no header.
4. **A token when configured.** With `--control-token` (or `TWIN_CONTROL_TOKEN`) every control
   request needs `Authorization: Bearer <token>` (401 otherwise).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ApiError

# Headers no browser sends cross-site without a preflight the guard refuses.
PREFLIGHTED_HEADERS = ("Authorization", "X-Requested-With")


def is_loopback_host(host: str) -> bool:
    """True for `localhost`, `*.localhost`, 127.0.0.0/8 and ::1 (a host name without its port)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def normal_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case (default ports dropped), or None when `value` is not one."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def _host_name(netloc: str) -> str:
    """The host of a `Host` header value (`[::1]:8080` → `::1`, `a.b:80` → `a.b`)."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1:netloc.find("]")] if "]" in netloc else netloc
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


@dataclass(frozen=True)
class ControlGuard:
    """The control plane's policy: extra same-site origins and the optional bearer token."""

    token: str | None = None
    origins: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(cls, *, token: str | None = None, origins: Iterable[str] = (), public_url: str | None = None
              ) -> ControlGuard:
        """A guard from the settings; unparsable origins raise ValueError naming them."""
        allowed = set()
        for value in [*origins, *([public_url] if public_url else [])]:
            origin = normal_origin(value)
            if origin is None:
                raise ValueError(f"{value!r} is not an origin (expected scheme://host[:port])")
            allowed.add(origin)
        return cls(token=token or None, origins=frozenset(allowed))

    def origin_allowed(self, origin: str) -> bool:
        """Is a request from this `Origin` same-site for the control plane?"""
        normal = normal_origin(origin)
        if normal is None:
            return False  # "null" (sandboxed frames, file://) and anything malformed
        return normal in self.origins or is_loopback_host(urlsplit(normal).hostname or "")

    def host_allowed(self, host: str) -> bool:
        """Is this `Host` header one the twin answers control calls for (DNS-rebinding defence)?"""
        if self.token:
            return True  # a rebinding page cannot know the token
        name = _host_name(host)
        return is_loopback_host(name) or any(_host_name(urlsplit(o).netloc) == name for o in self.origins)

    def check(self, method: str, headers: Mapping[str, str]) -> ApiError | None:
        """Why this control request is refused, or None when it may run (`headers` as received)."""
        get = headers.get
        origin = get("Origin")
        if origin is not None and not self.origin_allowed(origin):
            return ApiError(403, "errMsg_crossSiteControlRequest",
                            f"the control API does not answer pages from {origin}; "
                            "allow an origin with --control-origin")
        if not self.host_allowed(get("Host") or ""):
            return ApiError(403, "errMsg_controlHostNotAllowed",
                            f"the control API answers loopback hosts only, not {get('Host')!r}; "
                            "set --control-token or --control-origin")
        if self.token is not None:
            scheme, _, given = (get("Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return ApiError(401, "errMsg_controlTokenRequired",
                                "the control API needs 'Authorization: Bearer <control token>'")
        if method == "POST" and not _json_or_preflighted(headers):
            return ApiError(415, "errMsg_controlNeedsJsonContentType",
                            f"{method} on the control API needs 'Content-Type: application/json'")
        return None


def _json_or_preflighted(headers: Mapping[str, str]) -> bool:
    """A JSON body, or a header a browser only sends cross-site after a preflight the guard refuses."""
    kind = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json")):
        return True
    return any(headers.get(name) for name in PREFLIGHTED_HEADERS)
