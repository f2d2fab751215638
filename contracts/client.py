"""A small HTTP client for scenarios: call an operation by its API name, as an identity.

Every answer to a spec operation is judged by the registered response checks (the same rules the
generated cases meet), and the verdicts are tallied per operation, so a scenario's traffic also
proves the envelope, resource and error rules on the records it creates.
"""

from __future__ import annotations

import contextlib
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from .checks import Exchange, judge
from .results import Tally
from .spec import OperationFacts
from .target import Identity, ServiceTarget

DEFAULT: Any = object()
# Rules judged over a sequence of answers (the state of a record as last seen), not one exchange.
SYSTEM_FIELDS_CHECK = "twin_system_fields"
STATEFUL_CHECKS = {SYSTEM_FIELDS_CHECK: "a created record has recordVersion 1 and isActive true; its _owner and createdAt "
                                        "never change; a default update raises recordVersion and moves updatedAt; a delete "
                                        "answers isActive false"}


@dataclass
class Reply:
    """An answer: status, parsed JSON (or None), and what was asked."""

    method: str
    url: str
    status: int
    headers: dict[str, str]
    text: str
    facts: OperationFacts | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = None

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

    def curl(self) -> str:
        """The request as a curl command line (to replay a failure by hand)."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() == "accept":
                continue
            if name.lower() == "authorization":  # reports end up in CI artifacts: never print a token
                parts += ["-H", '"Authorization: Bearer $TOKEN"']
                continue
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body is not None:
            body = self.request_body if isinstance(self.request_body, str) else json.dumps(self.request_body)
            parts += ["-H", shlex.quote("Content-Type: application/json"), "--data", shlex.quote(body)]
        return " ".join(parts)

    def exchange_text(self, limit: int = 2500) -> dict[str, str]:
        """Request, answer and curl line, for reports."""
        sent = ""
        if self.request_body is not None:
            sent = self.request_body if isinstance(self.request_body, str) else json.dumps(self.request_body)
        answer = self.text
        with contextlib.suppress(ValueError):
            answer = json.dumps(json.loads(self.text), indent=2, ensure_ascii=False) if self.text else ""
        if len(answer) > limit:
            answer = answer[:limit] + f"\n… ({len(answer) - limit} more characters)"
        return {"request": f"{self.method} {self.url}" + (f"\n{sent[:limit]}" if sent else ""),
                "response": f"HTTP {self.status}\n{answer}", "curl": self.curl()}

    def describe(self) -> str:
        """`POST /v1/x → 400 errMsg_…` for messages."""
        path = self.url.split("://", 1)[-1]
        path = path[path.find("/"):] if "/" in path else path
        message = f" {self.error_message}" if self.error_message else ""
        return f"{self.method} {path} → {self.status}{message}"


class Api:
    """Calls one service as one identity (or anonymously); judges and tallies every answer."""

    def __init__(self, target: ServiceTarget, identity: Identity | None, session: requests.Session, tally: Tally,
                 timeout: float = 10.0, layer: str = "scenario", observe: Callable[[Reply], None] | None = None) -> None:
        self.target = target
        self.observe = observe
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
        return Api(self.target, identity, self.session, self.tally, self.timeout, self.layer, self.observe)

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
        self._note(facts, reply, tenant)
        if reply.ok and self.identity is not None and self.identity.user_id is None:
            body_json = reply.json
            if isinstance(body_json, dict) and isinstance(body_json.get("userId"), str) and token is DEFAULT:
                self.identity.user_id = body_json["userId"]
        return reply

    def _note(self, facts: OperationFacts, reply: Reply, tenant: Any) -> None:
        """Write what the call created or deleted into the run's ledger (for the clean-up)."""
        if self.observe is not None:
            self.observe(reply)
        self._judge_evolution(facts, reply)
        data = reply.data if reply.ok else None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or facts.data_object not in self.spec.objects:
            return
        name = self.target.name
        if facts.action == "create":
            sent_tenant = (self.identity.tenant if self.identity else None) if tenant is DEFAULT else tenant
            self.tally.ledger.created(name, facts.data_object, data["id"], self.identity.name if self.identity else None,
                                      sent_tenant, data)
        elif facts.action == "delete" and data.get("isActive") is False:
            self.tally.ledger.deleted(name, data["id"])

    def _judge_evolution(self, facts: OperationFacts, reply: Reply) -> None:
        """Judge how each full record in a success answer evolved since the run last saw it."""
        if not reply.ok or facts.select_list:
            return
        for record in reply.records:
            if not isinstance(record.get("id"), str) or "recordVersion" not in record:
                continue
            before = self.tally.ledger.seen(self.target.name, record)
            if facts.action == "create" and facts.default_api == "create":
                fresh = [f"{key} is {record.get(key)!r}, expected {value!r}" for key, value in (("recordVersion", 1), ("isActive", True))
                         if record.get(key) != value]
                self.tally.add(self.target.name, facts.api, SYSTEM_FIELDS_CHECK, not fresh, self.layer,
                               f"{reply.describe()}: new record {record['id']}: " + "; ".join(fresh) if fresh else "",
                               reply.exchange_text() if fresh else None)
            if before is None:
                continue
            problems = [f"{key} {before.get(key)!r} → {record.get(key)!r}" for key in ("_owner", "createdAt")
                        if key in before and key in record and before[key] != record[key]]
            if facts.default_api == "update" and facts.action == "update":
                # Only a change raises the version: an update that leaves every value as it was may
                # keep it (the twin does; a backend that skips no-op writes does too).
                changed = any(record.get(key) != before.get(key) for key in record
                              if key not in ("recordVersion", "updatedAt") and key in before)
                if changed and not (isinstance(record.get("recordVersion"), int) and isinstance(before.get("recordVersion"), int)
                                    and record["recordVersion"] > before["recordVersion"]):
                    problems.append(f"recordVersion {before.get('recordVersion')!r} → {record.get('recordVersion')!r} (an update raises it)")
                if str(record.get("updatedAt") or "") < str(before.get("updatedAt") or ""):
                    problems.append(f"updatedAt went back {before.get('updatedAt')!r} → {record.get('updatedAt')!r}")
            if facts.action == "delete" and record.get("isActive") is not False:
                problems.append(f"isActive {record.get('isActive')!r} after delete (expected false)")
            example = f"{reply.describe()}: record {record['id']}: " + "; ".join(problems) if problems else ""
            self.tally.add(self.target.name, facts.api, SYSTEM_FIELDS_CHECK, not problems, self.layer, example,
                           reply.exchange_text() if problems else None)

    def raw(self, method: str, route: str, *, query: dict[str, Any] | None = None, body: Any = None,
            token: Any = DEFAULT, tenant: Any = DEFAULT, headers: dict[str, str] | None = None, data: bytes | None = None) -> Reply:
        """A request outside the spec's operations (e.g. a method the guide forbids); not judged."""
        url = self.target.base_url.rstrip("/") + route
        reply = self._send(method, url, query, body, self.headers(token, tenant, headers), data=data)
        if self.observe is not None:
            self.observe(reply)
        return reply

    def _send(self, method: str, url: str, query: dict[str, Any] | None, body: Any, headers: dict[str, str],
              data: bytes | None = None) -> Reply:
        kwargs: dict[str, Any] = {"params": query, "headers": headers, "timeout": self.timeout}
        if data is not None:
            kwargs["data"] = data
        elif body is not None:
            kwargs["json"] = body
        response = self.session.request(method, url, **kwargs)
        return Reply(method=method, url=response.url, status=response.status_code,
                     headers={k.lower(): v for k, v in response.headers.items()}, text=response.text,
                     request_headers=dict(headers), request_body=data.decode("utf-8", "replace") if data is not None else body)

    def _judge(self, facts: OperationFacts, reply: Reply) -> None:
        exchange = Exchange(spec=self.spec, facts=facts, method=reply.method, url=reply.url, status=reply.status,
                            headers=reply.headers, text=reply.text)
        for verdict in judge(exchange):
            example = "" if verdict.passed else f"{reply.describe()}: {verdict.message}"
            self.tally.add(self.target.name, facts.api, verdict.check, verdict.passed, self.layer, example,
                           None if verdict.passed else reply.exchange_text())
