"""The control API of the fake Stripe (mounted by the twin at `/__twin/stripe`).

What a test or a developer needs that Stripe's own API does not offer: the event and delivery
log, resending events, finishing 3-D Secure, paying a checkout session without a browser,
waiting for webhooks, state and reset. JSON in, JSON out; errors are Stripe-shaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from aiohttp import web

from ..routing import Handler, Step, add_routes
from ..streaming import Rows, stream_json
from .api import error_response, json_response
from .errors import InvalidRequest, StripeError, invalid
from .fake import FakeStripe
from .webhooks import Delivery


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read() if request.body_exists else b""
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("The body must be JSON.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return data


def window(items: list[Any], query: Mapping[str, str], default: int = 100) -> tuple[list[Any], bool]:
    """A page of a log (oldest first) and whether more lies beyond it in the direction read.

    Without a cursor: the latest `limit` items (like a log's tail; `has_more` says older ones exist).
    `starting_after=<id>`: the `limit` items after that one (`has_more`: newer ones exist).
    `ending_before=<id>`: the `limit` items before it (`has_more`: older ones exist).
    `limit` is 1 to 1000 (default 100)."""
    raw = query.get("limit", str(default))
    try:
        limit = int(raw)
    except ValueError:
        raise invalid("limit", f"Invalid integer: {raw}") from None
    if not 1 <= limit <= 1000:
        raise invalid("limit", "limit must be between 1 and 1000.")
    after, before = query.get("starting_after"), query.get("ending_before")
    if after and before:
        raise invalid("starting_after", "Give starting_after or ending_before, not both.")
    ids = [_id(item) for item in items]
    if after:
        if after not in ids:
            raise invalid("starting_after", f"No such object in this list: '{after}'")
        start = ids.index(after) + 1
        return items[start:start + limit], start + limit < len(items)
    end = len(items)
    if before:
        if before not in ids:
            raise invalid("ending_before", f"No such object in this list: '{before}'")
        end = ids.index(before)
    start = max(0, end - limit)
    return items[start:end], start > 0


def _id(item: Any) -> str:
    return str(item["id"] if isinstance(item, dict) else item.id)


def _text(data: dict[str, Any], key: str, default: str | None = None) -> str | None:
    value = data.get(key, default)
    if value is not None and not isinstance(value, str):
        raise invalid(key, f"{key} must be a string.")
    return value


async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except StripeError as error:
        return error_response(error)


def build_control_app(fake: FakeStripe, around: Sequence[Step] = ()) -> web.Application:
    """The control sub-application, each route inside `around` (the twin's control plane) and then
    Stripe's error answers."""

    async def state(request: web.Request) -> web.StreamResponse:
        # Streamed straight from the store, a slice at a time (a deep copy of thousands of objects,
        # encoded in one go, held the loop for seconds).
        state = fake.state(copy=False)
        return await stream_json(request, {k: Rows(v) if isinstance(v, list) else v for k, v in state.items()})

    async def reset(request: web.Request) -> web.Response:
        data = await _body(request)
        fake.reset(endpoints=bool(data.get("endpoints", False)))
        return json_response({"reset": True})

    async def list_events(request: web.Request) -> web.StreamResponse:
        wanted = request.query.get("type")
        matching = [e for e in fake.store.events.values() if wanted in (None, e["type"])]
        page, has_more = window(matching, request.query)
        def render(event: dict[str, Any]) -> dict[str, Any]:
            # A shallow copy, encoded at once (a deep copy per event was most of a big page's cost).
            return {**event, "pending_webhooks": fake.dispatcher.pending(event["id"]),
                    "deliveries": fake.deliveries(event["id"])}

        return await stream_json(request, {"count": len(page), "total": len(matching), "has_more": has_more,
                                           "events": Rows(page, render)})

    async def get_event(request: web.Request) -> web.Response:
        event = fake.retrieve_event(request.match_info["id"])
        return json_response({**event, "deliveries": fake.deliveries(event["id"])})

    async def redeliver(request: web.Request) -> web.Response:
        data = await _body(request)
        sent = fake.redeliver(request.match_info["id"], _text(data, "endpoint"))
        return json_response({"deliveries": sent})

    async def duplicate(request: web.Request) -> web.Response:
        data = await _body(request)
        count = data.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 20:
            raise invalid("count", "count must be an integer from 1 to 20.")
        sent = fake.duplicate(request.match_info["id"], _text(data, "endpoint"), count)
        return json_response({"deliveries": sent})

    async def deliveries(request: web.Request) -> web.StreamResponse:
        event_id, endpoint_id = request.query.get("event"), request.query.get("endpoint")
        state_filter = request.query.get("state")
        source = fake.dispatcher.of_event(event_id) if event_id else fake.dispatcher.deliveries.values()
        matching = [d for d in source if endpoint_id in (None, d.endpoint_id) and state_filter in (None, d.state)]
        page, has_more = window(matching, request.query)
        return await stream_json(request, {"count": len(page), "total": len(matching), "has_more": has_more,
                                           "pending": fake.dispatcher.pending(),
                                           "deliveries": Rows(page, Delivery.public)})

    async def list_endpoints(request: web.Request) -> web.Response:
        return json_response({"endpoints": fake.webhook_endpoints()})

    async def add_endpoint(request: web.Request) -> web.Response:
        data = await _body(request)
        url = _text(data, "url")
        if not url:
            raise invalid("url", "Missing required param: url.", code="parameter_missing")
        wanted = data.get("events")
        if wanted is not None and (not isinstance(wanted, list) or not all(isinstance(e, str) for e in wanted)):
            raise invalid("events", "events must be a list of event types.")
        return json_response(fake.add_webhook_endpoint(url, _text(data, "secret"), wanted), 201)

    async def remove_endpoint(request: web.Request) -> web.Response:
        return json_response(fake.remove_webhook_endpoint(request.match_info["id"]))

    async def authenticate(request: web.Request) -> web.Response:
        data = await _body(request)
        outcome = _text(data, "outcome", "succeed") or "succeed"
        return json_response(fake.authenticate_payment_intent(request.match_info["id"], outcome))

    async def complete_session(request: web.Request) -> web.Response:
        data = await _body(request)
        session = fake.complete_checkout_session(request.match_info["id"], card=_text(data, "card", "visa") or "visa",
                                                 email=_text(data, "email"), raise_on_decline=True)
        return json_response(session)

    async def drain(request: web.Request) -> web.Response:
        data = await _body(request)
        timeout = data.get("timeout", 30)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= 300:
            raise invalid("timeout", "timeout must be a number of seconds from 0 to 300.")
        done = await fake.drain(float(timeout))
        return json_response({"drained": done, "pending": fake.dispatcher.pending()})

    app = web.Application()
    add_routes(app, [
        web.get("/state", state),
        web.post("/reset", reset),
        web.get("/events", list_events),
        web.get("/events/{id}", get_event),
        web.post("/events/{id}/redeliver", redeliver),
        web.post("/events/{id}/duplicate", duplicate),
        web.get("/deliveries", deliveries),
        web.get("/webhook_endpoints", list_endpoints),
        web.post("/webhook_endpoints", add_endpoint),
        web.delete("/webhook_endpoints/{id}", remove_endpoint),
        web.post("/payment_intents/{id}/authenticate", authenticate),
        web.post("/checkout/sessions/{id}/complete", complete_session),
        web.post("/drain", drain),
    ], [*around, _errors])
    return app
