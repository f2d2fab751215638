"""Event objects: what happened, with a snapshot of the object, as `GET /v1/events` and webhooks show it."""

from __future__ import annotations

from contextvars import ContextVar
from fnmatch import fnmatchcase
from typing import Any

from .objects import Store, newest_first, paginate, snapshot
from .params import Params

API_VERSION = "2024-06-20"
# The API request that caused the events being emitted (set by the HTTP layer; None in-process).
REQUEST: ContextVar[dict[str, Any] | None] = ContextVar("twin_stripe_request", default=None)


def new_event(store: Store, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Store and return an event of `event_type` carrying `obj` (already a snapshot)."""
    data: dict[str, Any] = {"object": obj}
    if previous:
        data["previous_attributes"] = previous
    event_id = store.ids.new("evt")
    event: dict[str, Any] = {
        "id": event_id, "object": "event", "api_version": API_VERSION, "created": store.now(),
        "data": data, "livemode": False, "pending_webhooks": 0,
        "request": dict(REQUEST.get() or {"id": None, "idempotency_key": None}), "type": event_type,
    }
    store.events[event_id] = event
    return event


def retrieve(store: Store, event_id: str) -> dict[str, Any]:
    """`GET /v1/events/{id}`."""
    return snapshot(store.get(event_id, kind="evt"))


def listing(store: Store, p: Params) -> dict[str, Any]:
    """`GET /v1/events`: `type=` (with `*` wildcards, as Stripe allows) or `types[]=`."""
    one = p.text("type")
    many = p.strings("types")
    patterns = ([one] if one else []) + many

    def keep(event: dict[str, Any]) -> bool:
        return not patterns or any(fnmatchcase(event["type"], pattern) for pattern in patterns)

    return paginate(newest_first(store.events, keep), p, "/v1/events")
