"""Success status and envelope rules (the guides' "Object Structure of a Successful Response")."""

from __future__ import annotations

import math

from .base import NOT_APPLICABLE, CheckFailed, Exchange, Problems, is_int, is_number, response_check


def _success_json(exchange: Exchange) -> bool:
    return exchange.is_success and exchange.same_method


@response_check("twin_success_status", "status",
                "a success answers the operation's status: 201 for create, 200 for everything else")
def success_status(exchange: Exchange) -> bool | None:
    """2xx answers must be exactly the operation's `x-twin-status` (201 only for create)."""
    if not _success_json(exchange):
        return NOT_APPLICABLE
    facts = exchange.facts
    problems = Problems()
    problems.expect(exchange.status == facts.status,
                    f"HTTP {exchange.status} for a {facts.action} operation; the guide answers {facts.status}")
    if exchange.status == 201:
        problems.expect(facts.action == "create", f"201 Created from a {facts.action} operation (201 is for create only)")
    problems.raise_if_any()
    return None


@response_check("twin_success_envelope", "envelope",
                "status OK, statusCode = HTTP status, dataName names the key holding the resource, method/action match, "
                "rowCount counts it, requestId and elapsedMs present")
def success_envelope(exchange: Exchange) -> bool | None:
    """The success envelope's keys and their agreement with the operation and the HTTP status."""
    if not _success_json(exchange):
        return NOT_APPLICABLE
    facts = exchange.facts
    body = exchange.body
    problems = Problems()
    if not isinstance(body, dict):
        problems.add("the body is not a JSON object")
        problems.raise_if_any()
    problems.expect(body.get("status") == "OK", f"status is {body.get('status', '<missing>')!r}, expected 'OK'")
    code = body.get("statusCode", "<missing>")
    if problems.expect(is_int(code), f"statusCode is {code!r}, expected the integer {exchange.status}"):
        problems.expect(code == exchange.status, f"statusCode {code} differs from the HTTP status {exchange.status}")
    name = body.get("dataName", "<missing>")
    problems.expect(name == facts.data_name, f"dataName is {name!r}, expected {facts.data_name!r}")
    if isinstance(name, str) and name not in body:
        problems.add(f"dataName names {name!r} but the body has no such key")
    data = body.get(facts.data_name, "<missing>")
    if data == "<missing>":
        problems.add(f"the resource key {facts.data_name!r} is missing")
    elif facts.is_list:
        problems.expect(isinstance(data, list), f"{facts.data_name} is {type(data).__name__}, expected an array (list operation)")
    else:
        problems.expect(isinstance(data, dict), f"{facts.data_name} is {type(data).__name__}, expected an object (single resource)")
    method = body.get("method", "<missing>")
    problems.expect(method == facts.method, f"method is {method!r}, expected {facts.method!r}")
    action = body.get("action", "<missing>")
    problems.expect(action == facts.action, f"action is {action!r}, expected {facts.action!r}")
    rows = body.get("rowCount", "<missing>")
    if problems.expect(is_int(rows), f"rowCount is {rows!r}, expected an integer"):
        expected = len(data) if isinstance(data, list) else 1
        if isinstance(data, (list, dict)):
            problems.expect(rows == expected, f"rowCount {rows} but the resource holds {expected}")
    request_id = body.get("requestId")
    problems.expect(isinstance(request_id, str) and bool(request_id), f"requestId is {request_id!r}, expected a non-empty string")
    elapsed = body.get("elapsedMs", "<missing>")
    problems.expect(is_number(elapsed) and elapsed >= 0, f"elapsedMs is {elapsed!r}, expected a number ≥ 0")
    for key in facts.extra_keys:
        problems.expect(key in body, f"the extra key {key!r} the guide shows is missing")
    problems.raise_if_any()
    return None


@response_check("twin_list_paging", "envelope",
                "lists carry paging (pageNumber, pageRowCount, totalRowCount ≥ rowCount, pageCount = ⌈total/rows⌉), "
                "filters and uiPermissions", applies_to=lambda facts: facts.is_list)
def list_paging(exchange: Exchange) -> bool | None:
    """The `paging` block of list answers is present and consistent."""
    if not _success_json(exchange) or not exchange.facts.is_list or not isinstance(exchange.body, dict):
        return NOT_APPLICABLE
    body = exchange.body
    problems = Problems()
    paging = body.get("paging")
    if not isinstance(paging, dict):
        raise CheckFailed(f"paging is {paging!r}, expected an object")
    values = {}
    for key in ("pageNumber", "pageRowCount", "totalRowCount", "pageCount"):
        value = paging.get(key, "<missing>")
        if problems.expect(is_int(value) and value >= 0, f"paging.{key} is {value!r}, expected an integer ≥ 0"):
            values[key] = value
    rows = body.get("rowCount")
    data = body.get(exchange.facts.data_name)
    count = len(data) if isinstance(data, list) else rows if is_int(rows) else None
    if len(values) == 4 and count is not None:
        total, size, pages = values["totalRowCount"], values["pageRowCount"], values["pageCount"]
        problems.expect(total >= count, f"paging.totalRowCount {total} < the {count} rows answered")
        if size > 0:
            problems.expect(count <= size, f"{count} rows answered but paging.pageRowCount is {size}")
            problems.expect(pages == math.ceil(total / size),
                            f"paging.pageCount {pages} ≠ ⌈{total}/{size}⌉ = {math.ceil(total / size)}")
        if values["pageNumber"] >= 1 and size > 0 and total > 0:
            before = (values["pageNumber"] - 1) * size
            if before < total:
                problems.expect(count == min(size, total - before),
                                f"page {values['pageNumber']} of {total} rows by {size} should hold {min(size, total - before)}, holds {count}")
    query = exchange.query
    for key in ("pageNumber", "pageRowCount"):
        sent = query.get(key)
        if sent and len(sent) == 1 and sent[0].isdigit() and key in values and exchange.facts.method == "GET":
            problems.expect(values[key] == int(sent[0]), f"paging.{key} is {values[key]}, the request asked for {sent[0]}")
    for key in ("filters", "uiPermissions"):
        problems.expect(isinstance(body.get(key), list), f"{key} is {body.get(key, '<missing>')!r}, expected an array")
    problems.raise_if_any()
    return None
