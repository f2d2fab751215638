"""A small HTTP client for scenarios: call an operation by its API name, as an identity.

Every answer to a spec operation is judged by the registered response checks (the same rules the
generated cases meet), and the verdicts are tallied per operation, so a scenario's traffic also
proves the envelope, resource and error rules on the records it creates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from .checks import Exchange, judge
from .results import Tally
from .spec import OperationFacts
from .target import Identity, ServiceTarget

DEFAULT: Any = object()


@dataclass
class Reply:
    """An answer: status, parsed JSON (or None), and what was asked."""

    method: str
    url: str
    status: int
    headers: dict[str, str]
    text: str
    facts: OperationFacts | None = None

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.text) if self.text else None
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def data(self) -> Any:
        """The resource the envelope's `dataName` names (None when absent)."""
        body = self.json
        if not isinstance(body, dict):
            return None
        name = self.facts.data_name if self.facts is not None else body.get("dataName")
        return body.get(name) if isinstance(name, str) else None

    @property
    def records(self) -> list[dict[str, Any]]:
        """The resource as a list of records (one record for single answers)."""
        data = self.data
        if isinstance(data, list):
            return [r for r in data if isinstance(r, dict)]
        return [data] if isinstance(data, dict) else []

    @property
    def error_message(self) -> str:
        body = self.json
        return str(body.get("message", "")) if isinstance(body, dict) else ""

    def describe(self) -> str:
        """`POST /v1/x → 400 errMsg_…` for messages."""
        path = self.url.split("://", 1)[-1]
        path = path[path.find("/"):] if "/" in path else path
        message = f" {self.error_message}" if self.error_message else ""
        return f"{self.method} {path} → {self.status}{message}"


class Api:
    """Calls one service as one identity (or anonymously); judges and tallies every answer."""

    def __init__(self, target: ServiceTarget, identity: Identity | None, session: requests.Session, tally: Tally,
                 timeout: float = 10.0, layer: str = "scenario") -> None:
        self.target = target
        self.identity = identity
        self.session = session
        self.tally = tally
        self.timeout = timeout
        self.layer = layer

    @property
    def spec(self) -> Any:
        return self.target.spec

    def as_(self, identity: Identity | None) -> Api:
        """The same client for another identity."""
        return Api(self.target, identity, self.session, self.tally, self.timeout, self.layer)

    def headers(self, token: Any = DEFAULT, tenant: Any = DEFAULT, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers: dict[str, str] = {"Accept": "application/json"}
        token = (self.identity.token if self.identity else None) if token is DEFAULT else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        header = self.spec.tenant_header
        if header:
            tenant = (self.identity.tenant if self.identity else None) if tenant is DEFAULT else tenant
            if tenant:
                headers[header] = str(tenant)
        headers.update(extra or {})
        return headers

    def url(self, facts: OperationFacts, path: dict[str, Any] | None = None) -> str:
        route = facts.path
        for name in facts.path_params:
            value = (path or {}).get(name)
            if value is None:
                raise ValueError(f"{facts.api}: path parameter {name!r} is missing")
            route = route.replace("{" + name + "}", quote(str(value), safe=""))
        return self.target.base_url.rstrip("/") + route

    def call(self, api: str, *, path: dict[str, Any] | None = None, query: dict[str, Any] | None = None,
             body: Any = DEFAULT, token: Any = DEFAULT, tenant: Any = DEFAULT, headers: dict[str, str] | None = None,
             judge_answer: bool = True) -> Reply:
        """Call the operation `api` and judge its answer."""
        facts = self.spec.op(api)
        url = self.url(facts, path)
        sent_body = None if body is DEFAULT else body
        if body is DEFAULT and facts.method in ("POST", "PATCH", "PUT"):
            sent_body = {}
        reply = self._send(facts.method, url, query, sent_body, self.headers(token, tenant, headers))
        reply.facts = facts
        if judge_answer:
            self._judge(facts, reply)
        if reply.ok and self.identity is not None and self.identity.user_id is None:
            body_json = reply.json
            if isinstance(body_json, dict) and isinstance(body_json.get("userId"), str) and token is DEFAULT:
                self.identity.user_id = body_json["userId"]
        return reply

    def raw(self, method: str, route: str, *, query: dict[str, Any] | None = None, body: Any = None,
            token: Any = DEFAULT, tenant: Any = DEFAULT, headers: dict[str, str] | None = None, data: bytes | None = None) -> Reply:
        """A request outside the spec's operations (e.g. a method the guide forbids); not judged."""
        url = self.target.base_url.rstrip("/") + route
        return self._send(method, url, query, body, self.headers(token, tenant, headers), data=data)

    def _send(self, method: str, url: str, query: dict[str, Any] | None, body: Any, headers: dict[str, str],
              data: bytes | None = None) -> Reply:
        kwargs: dict[str, Any] = {"params": query, "headers": headers, "timeout": self.timeout}
        if data is not None:
            kwargs["data"] = data
        elif body is not None:
            kwargs["json"] = body
        response = self.session.request(method, url, **kwargs)
        return Reply(method=method, url=response.url, status=response.status_code,
                     headers={k.lower(): v for k, v in response.headers.items()}, text=response.text)

    def _judge(self, facts: OperationFacts, reply: Reply) -> None:
        exchange = Exchange(spec=self.spec, facts=facts, method=reply.method, url=reply.url, status=reply.status,
                            headers=reply.headers, text=reply.text)
        for verdict in judge(exchange):
            example = "" if verdict.passed else f"{reply.describe()}: {verdict.message}"
            self.tally.add(self.target.name, facts.api, verdict.check, verdict.passed, self.layer, example)
