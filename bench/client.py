"""A small keep-alive HTTP client for setting up and timing the twin (the stdlib's http.client:
one connection, no pooling, so a timed request is one round trip and nothing else)."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass
class Answer:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return orjson.loads(self.body)


class Client:
    """One keep-alive connection to a server on loopback."""

    def __init__(self, host: str, port: int, token: str | None = None, timeout: float = 120.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.token = token
        self._conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        payload: bytes | None
        if body is None or isinstance(body, bytes):
            payload = body
        else:
            payload = body.encode() if isinstance(body, str) else orjson.dumps(body)
        sent = dict(headers or {})
        if payload is not None:
            sent.setdefault("Content-Type", "application/json")
        if self.token and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            try:
                started = time.perf_counter()
                self._conn.request(method, path, payload, sent)
                response = self._conn.getresponse()
                data = response.read()
                return Answer(response.status, data, time.perf_counter() - started)
            except (ConnectionError, http.client.HTTPException):
                # The server closed an idle keep-alive connection: reconnect once.
                self._conn.close()
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, expect: int | tuple[int, ...] = (200, 201)) -> Any:
        answer = self.request(method, path, body)
        expected = (expect,) if isinstance(expect, int) else expect
        if answer.status not in expected:
            raise RuntimeError(f"{method} {path} answered {answer.status}: {answer.body[:500]!r}")
        return answer.json()

    def close(self) -> None:
        self._conn.close()


def admin_token(client: Client, project: str) -> str:
    """The bearer token of the project's first `admin` persona (control API)."""
    personas = client.json("GET", f"/__twin/personas?project={project}")["personas"]
    for persona in personas:
        if persona["role"] == "admin" and persona["project"] == project:
            return str(persona["token"])
    raise RuntimeError(f"no admin persona in project {project!r}: {[p['role'] for p in personas]}")


def service(client: Client, slug: str | None = None) -> dict[str, Any]:
    """A mounted service's description (slug, project, basePath, objects) from the control API."""
    services = client.json("GET", "/__twin/services")["services"]
    for item in services:
        if slug is None or item["slug"] == slug:
            found: dict[str, Any] = item
            return found
    raise RuntimeError(f"no service {slug!r}: {[s['slug'] for s in services]}")


def insert(client: Client, slug: str, obj: str, records: list[dict[str, Any]] | bytes) -> int:
    """Bulk insert through the control API; returns the object's total afterwards."""
    body = records if isinstance(records, bytes) else orjson.dumps({"records": records})
    return int(client.json("POST", f"/__twin/records/{slug}/{obj}", body)["total"])
