"""The guides' two envelopes: success (with `paging` for lists) and error.

Key order follows the guides' examples, so a response reads like the guide.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .clock import isoformat

APP_VERSION = "twin-0.1.0"


def paging(page_number: int, page_row_count: int, total: int) -> dict[str, int]:
    """The `paging` block: pageCount is the number of pages `total` rows fill."""
    return {
        "pageNumber": page_number,
        "pageRowCount": page_row_count,
        "totalRowCount": total,
        "pageCount": math.ceil(total / page_row_count) if page_row_count else 0,
    }


def success(
    *,
    status: int,
    elapsed_ms: float,
    user_id: str | None,
    session_id: str | None,
    request_id: str,
    data_name: str,
    method: str,
    action: str,
    data: Any,
    page: dict[str, int] | None = None,
    filters: Sequence[Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A success envelope; `page` present makes it a list envelope."""
    body: dict[str, Any] = {
        "status": "OK",
        "statusCode": status,
        "elapsedMs": elapsed_ms,
        "ssoTime": 0,
        "source": "db",
        "cacheKey": request_id.replace("-", ""),
        "userId": user_id,
        "sessionId": session_id,
        "requestId": request_id,
        "dataName": data_name,
        "method": method,
        "action": action,
        "appVersion": APP_VERSION,
        "rowCount": len(data) if isinstance(data, list) else 1,
        data_name: data,
    }
    if page is not None:
        body["paging"] = page
        body["filters"] = list(filters) if filters else []
        body["uiPermissions"] = []
    if extra:
        body.update(extra)
    return body


def error(status: int, message: str, detail: str | None, now: datetime) -> dict[str, Any]:
    """An error envelope: `status` and `errCode` are the HTTP status."""
    return {"result": "ERR", "status": status, "message": message, "errCode": status, "date": isoformat(now), "detail": detail}
