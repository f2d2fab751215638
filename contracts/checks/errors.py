"""Error rules (the guides' "Error Response") and transport rules every answer must follow."""

from __future__ import annotations

from .base import NOT_APPLICABLE, NOT_JSON, Exchange, Problems, is_int, is_iso_datetime, response_check

DOCUMENTED_ERRORS = (400, 401, 403, 404, 500)


@response_check("twin_error_envelope", "error",
                "errors answer {result: ERR, status = errCode = HTTP status, a message, an ISO date}")
def error_envelope(exchange: Exchange) -> bool | None:
    """Every 4xx/5xx carries the guides' error envelope, agreeing with the HTTP status."""
    if not exchange.is_error:
        return NOT_APPLICABLE
    body = exchange.body
    problems = Problems()
    if not isinstance(body, dict):
        problems.add("the error body is not a JSON object")
        problems.raise_if_any()
    problems.expect(body.get("result") == "ERR", f"result is {body.get('result', '<missing>')!r}, expected 'ERR'")
    for key in ("status", "errCode"):
        value = body.get(key, "<missing>")
        if problems.expect(is_int(value), f"{key} is {value!r}, expected the integer {exchange.status}"):
            problems.expect(value == exchange.status, f"{key} {value} differs from the HTTP status {exchange.status}")
    message = body.get("message")
    problems.expect(isinstance(message, str) and bool(message.strip()), f"message is {message!r}, expected a non-empty string")
    date = body.get("date")
    problems.expect(is_iso_datetime(date), f"date is {date!r}, expected an ISO-8601 date-time")
    detail = body.get("detail")
    problems.expect(detail is None or isinstance(detail, str), f"detail is {type(detail).__name__}, expected a string or null")
    problems.raise_if_any()
    return None


@response_check("twin_documented_status", "status",
                "the operation answers only its success status or a documented error (400, 401, 403, 404, 500)")
def documented_status(exchange: Exchange) -> bool | None:
    """No status the guide does not list for this operation."""
    if not exchange.same_method or exchange.sends_foreign_media_type:
        return NOT_APPLICABLE
    allowed = (exchange.facts.status, *DOCUMENTED_ERRORS)
    if exchange.status not in allowed:
        raise_failed = Problems()
        raise_failed.add(f"HTTP {exchange.status}; the guide documents {sorted(set(allowed))}")
        raise_failed.raise_if_any()
    return None


@response_check("twin_json_answer", "transport", "every answer is JSON with a JSON content type")
def json_answer(exchange: Exchange) -> bool | None:
    """Content type and body of every answer are JSON."""
    if not exchange.same_method or exchange.status in (204, 304):
        return NOT_APPLICABLE
    problems = Problems()
    content_type = exchange.headers.get("content-type", "")
    problems.expect("json" in content_type.lower(), f"Content-Type is {content_type!r}, expected application/json")
    problems.expect(exchange.body is not NOT_JSON, "the body is not JSON")
    problems.raise_if_any()
    return None
