"""Helpers for the suite's tests: hand-made exchanges and verifying a served twin (the `twin serve`
subprocess itself is `twin_process.twin_serve`)."""

from __future__ import annotations

import copy
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twin_process import ROOT

from contracts.checks import Exchange
from contracts.results import Report
from contracts.runner import verify
from contracts.spec import load_spec
from contracts.target import build_target

SPECS = ROOT / "specs" / "openapi"
TUTORHUB = SPECS / "tutorhub-enrollmentmanagement.yaml"
WORKFORCEOS = SPECS / "workforceos-subscriptionmanagement.yaml"
AIRBNB = SPECS / "airbnb-bookingmanagement.yaml"

PAYMENT = {
    "id": "6f1c5e0e-0000-4000-8000-000000000001", "ownerId": None, "orderId": "6f1c5e0e-0000-4000-8000-000000000002",
    "paymentId": "pi_demo", "paymentStatus": "succeeded", "statusLiteral": "paid", "redirectUrl": None,
    "isActive": True, "recordVersion": 1, "createdAt": "2026-11-23T14:05:44.985Z", "updatedAt": "2026-11-23T14:05:44.985Z",
    "_owner": "6f1c5e0e-0000-4000-8000-000000000003",
}
ENROLLMENT = {
    "id": "6f1c5e0e-0000-4000-8000-000000000010", "coursePackId": "6f1c5e0e-0000-4000-8000-000000000011",
    "studentId": "6f1c5e0e-0000-4000-8000-000000000012", "tutorProfileId": "6f1c5e0e-0000-4000-8000-000000000013",
    "lessonSlotIds": ["6f1c5e0e-0000-4000-8000-000000000014"], "totalAmount": 240.0, "currency": "USD",
    "paymentStatus": "paid", "paymentStatus_idx": 1, "refundStatus": "notRequested", "refundStatus_idx": 0,
    "enrollmentStatus": "active", "enrollmentStatus_idx": 1, "enrolledAt": None, "paymentConfirmation": "paid",
    "paymentConfirmation_idx": 2, "isActive": True, "recordVersion": 2, "createdAt": "2026-11-23T14:05:44.985Z",
    "updatedAt": "2026-11-23T14:05:45.100Z", "_owner": "6f1c5e0e-0000-4000-8000-000000000012",
}


def envelope(api: str, resource: Any, http_status: int | None = None, spec_path: Path = TUTORHUB, **extra: Any) -> dict[str, Any]:
    """A correct success envelope for `api` holding `resource`."""
    facts = load_spec(spec_path).op(api)
    body: dict[str, Any] = {
        "status": "OK", "statusCode": http_status or facts.status, "elapsedMs": 1.5, "ssoTime": 0, "source": "db", "cacheKey": "x",
        "userId": "u", "sessionId": "s", "requestId": "6f1c5e0e-aaaa-4000-8000-000000000001", "dataName": facts.data_name,
        "method": facts.method, "action": facts.action, "appVersion": "1",
        "rowCount": len(resource) if isinstance(resource, list) else 1, facts.data_name: copy.deepcopy(resource),
    }
    if facts.is_list:
        count = len(resource)
        body.update(paging={"pageNumber": 1, "pageRowCount": 25, "totalRowCount": count, "pageCount": -(-count // 25)},
                    filters=[], uiPermissions=[])
    body.update(extra)
    return body


def error_body(http_status: int, **changes: Any) -> dict[str, Any]:
    body = {"result": "ERR", "status": http_status, "message": "errMsg_x", "errCode": http_status,
            "date": "2026-11-23T14:05:44.985Z", "detail": "why"}
    body.update(changes)
    return body


def exchange(api: str, status: int, body: Any, spec_path: Path = TUTORHUB, method: str | None = None,
             url: str = "http://twin.test/x", content_type: str = "application/json") -> Exchange:
    """An exchange of `api` answering `status` with `body` (serialized as the server would)."""
    spec = load_spec(spec_path)
    facts = spec.op(api)
    text = body if isinstance(body, str) and content_type != "application/json" else json.dumps(body)
    return Exchange(spec=spec, facts=facts, method=method or facts.method, url=url, status=status,
                    headers={"content-type": content_type}, text=text)


def post(url: str, payload: Any) -> Any:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def verify_twin(url: str, mutant: str | None = None, specs: list[str] | None = None,
                after_reset: Callable[[], None] | None = None, **settings: Any) -> Report:
    """Reset the twin, switch `mutant` on (alone), run the suite in-process, switch it off again."""
    post(f"{url}/__twin/reset", {})
    post(f"{url}/__twin/mutants", {"active": [mutant] if mutant else []})
    if after_reset is not None:
        after_reset()
    try:
        options = {"layers": ["probes", "scenarios"], "payment_wait": 2.0, **settings}
        return verify(build_target(base_url=url, specs=specs, settings=options, environ={}))
    finally:
        post(f"{url}/__twin/mutants", {"active": []})
