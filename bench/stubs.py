"""The static stubs: one captured twin answer per request, served by Prism (as the operation's
response example in a temporary copy of the spec), by WireMock (as mappings) and by the bare aiohttp
handler (bench/bare.py), so that all four servers send the same body bytes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml


@dataclass
class Exchange:
    """One benchmarked request and the answer every server sends to it."""

    name: str  # get / list / create
    method: str  # GET / POST
    base_path: str  # the service's base path, e.g. /enrollmentmanagement-api
    template: str  # the spec's path template, e.g. /v1/enrollmentpayment/{sys_enrollmentPaymentId}
    path: str  # the request target: base path + concrete path + query
    status: int
    response: str  # the body, compact JSON
    body: str | None = None  # the request body (POST)

    @property
    def url_path(self) -> str:
        return self.path.split("?", 1)[0]


def save(exchanges: list[Exchange], path: Path) -> None:
    path.write_bytes(orjson.dumps([asdict(e) for e in exchanges], option=orjson.OPT_INDENT_2))


def load(path: Path) -> list[Exchange]:
    return [Exchange(**item) for item in orjson.loads(path.read_bytes())]


# -- hand-written answers (used when the twin is not part of the run) ------------------------------
def _payment(rid: str, order_id: str, now: str) -> dict[str, Any]:
    return {
        "id": rid, "ownerId": None, "orderId": order_id, "paymentId": "pi_bench_000001",
        "paymentStatus": "succeeded", "statusLiteral": "paid", "redirectUrl": None, "isActive": True,
        "recordVersion": 1, "createdAt": now, "updatedAt": now, "_owner": "70a5b4b3-fb86-4327-ac6a-bd75870214ca",
    }


def _envelope(status: int, data_name: str, method: str, action: str, data: Any) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return {
        "status": "OK", "statusCode": status, "elapsedMs": 0.151, "ssoTime": 0, "source": "db",
        "cacheKey": request_id.replace("-", ""), "userId": "70a5b4b3-fb86-4327-ac6a-bd75870214ca",
        "sessionId": "sess-70a5b4b3", "requestId": request_id, "dataName": data_name, "method": method,
        "action": action, "appVersion": "twin-0.1.0", "rowCount": len(data) if isinstance(data, list) else 1,
        data_name: data,
    }


def sample_exchanges(requests: list[Exchange]) -> list[Exchange]:
    """Fill `requests` (the three benchmarked requests, without answers) with hand-written envelopes
    shaped like the twin's, for runs without the twin."""
    now = "2026-01-15T10:00:00.000Z"
    order_id = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    out = []
    for request in requests:
        if request.name == "get":
            rid = request.url_path.rsplit("/", 1)[1]
            body = _envelope(200, "sys_enrollmentPayment", "GET", "get", _payment(rid, order_id, now))
        elif request.name == "list":
            rows = [_payment(str(uuid.UUID(int=i + 1)), order_id, now) for i in range(25)]
            body = _envelope(200, "sys_enrollmentPayments", "GET", "list", rows)
            body.update(paging={"pageNumber": 1, "pageRowCount": 25, "totalRowCount": 30, "pageCount": 2},
                        filters=[], uiPermissions=[])
        else:
            body = _envelope(201, "sys_enrollmentPayment", "POST", "create", _payment(str(uuid.uuid4()), order_id, now))
        out.append(Exchange(**{**asdict(request), "response": orjson.dumps(body).decode()}))
    return out


# -- Prism ----------------------------------------------------------------------------------------
def prism_spec(spec_path: Path, exchanges: list[Exchange], out: Path) -> Path:
    """A temporary copy of the spec for Prism: every path key under the service's base path (so the
    request lines equal the twin's) and each benchmarked operation's answer as its response example
    (static mode returns the example). The committed spec is never changed."""
    spec = yaml.safe_load(spec_path.read_text())
    for exchange in exchanges:
        operation = spec["paths"][exchange.template][exchange.method.lower()]
        content = operation["responses"][str(exchange.status)]["content"]["application/json"]
        content.pop("examples", None)
        content["example"] = json.loads(exchange.response)
    base_path = exchanges[0].base_path
    spec["paths"] = {base_path + key: value for key, value in spec["paths"].items()}
    out.write_text(json.dumps(spec))
    return out


# -- WireMock -------------------------------------------------------------------------------------
def wiremock_root(exchanges: list[Exchange], root: Path) -> Path:
    """A WireMock root directory whose mappings answer each request with its captured envelope.
    Each stub matches the method, the exact URL and a bearer token, as a hand-written stub would."""
    mappings = root / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    (root / "__files").mkdir(exist_ok=True)
    for exchange in exchanges:
        mapping = {
            "name": exchange.name,
            "request": {
                "method": exchange.method,
                "url": exchange.path,
                "headers": {"Authorization": {"matches": "Bearer .+"}},
            },
            "response": {
                "status": exchange.status,
                "body": exchange.response,
                "headers": {"Content-Type": "application/json"},
            },
        }
        (mappings / f"{exchange.name}.json").write_text(json.dumps(mapping))
    return root
