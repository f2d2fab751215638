"""Which web origins may call the twin's services and auth API with credentials (cookies).

A browser sends the session cookie cross-origin only when the answer names the page's origin and
allows credentials, so the origin is echoed back — but only for origins this policy allows: by
default every loopback origin (`http://localhost:5173`, `http://tutorhub.localhost:8080`,
`http://127.0.0.1:3000`, `http://[::1]:4200`), where frontend dev servers run; more by
`twin serve --cors-origin` (an exact origin, a `*.` wildcard host such as `https://*.example.test`,
or `*` for any). A page from anywhere else gets no CORS headers, so its browser refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp import web

from .guard import is_loopback_host

_CACHE_LIMIT = 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback_origin(origin: str) -> bool:
    """True for an http(s) origin on `localhost`, `*.localhost` or a loopback address."""
    try:
        parts = urlsplit(origin)
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    return is_loopback_host(host)


def _pattern(origin: str) -> re.Pattern[str]:
    """An allowed-origin spec as a regex: `*` any, `https://*.example.test` any subdomain."""
    if origin == "*":
        return re.compile(r".+")
    return re.compile(re.escape(origin.rstrip("/").lower()).replace(r"\*", r"[^/]+") + r"\Z")


class CorsPolicy:
    """Loopback origins plus the configured ones; decisions are memoized per origin."""

    def __init__(self, extra_origins: Iterable[str] = (), *, loopback: bool = True) -> None:
        self.extra = [o for o in extra_origins if o]
        self.loopback = loopback
        self._patterns = [_pattern(o) for o in self.extra]
        self._decided: dict[str, bool] = {}

    def allows(self, origin: str) -> bool:
        """May a page from `origin` call the twin with credentials?"""
        decided = self._decided.get(origin)
        if decided is None:
            lowered = origin.lower()
            decided = (self.loopback and is_loopback_origin(origin)) or any(p.match(lowered) for p in self._patterns)
            if len(self._decided) >= _CACHE_LIMIT:
                self._decided.clear()
            self._decided[origin] = decided
        return decided

    def cookie_use_refused(self, request: web.Request) -> bool:
        """A state change carried by the session cookie from a page this policy does not allow
        (a foreign site forging it: the browser attaches the cookie, CORS only hides the answer)."""
        origin = request.headers.get("Origin")
        if not origin or request.method in SAFE_METHODS:
            return False
        same_origin = origin.rstrip("/").lower() == f"{request.scheme}://{request.host}".lower()
        return not same_origin and not self.allows(origin)


