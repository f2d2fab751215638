"""The HTTP API under `/v1` (mounted at `/stripe`): routes, API-key check, idempotency, Stripe errors.

Requests are form-encoded with bracket notation, as the SDK sends them (JSON bodies are accepted
too); answers are Stripe's objects, or `{"error": {...}}` with the status the SDK maps to its
exception classes. Input never yields a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from ..routing import Handler, Step, add_routes
from . import customers, events, forms, intents, methods, refunds, sessions
from .checkout import checkout_routes, message_page
from .errors import AuthenticationFailed, IdempotencyConflict, InvalidRequest, StripeError, invalid, no_such
from .events import API_VERSION, REQUEST
from .fake import FakeStripe
from .objects import expand, newest_first, paginate
from .params import Params

log = logging.getLogger("twin.stripe")
Operation = Callable[[Mapping[str, str], Params], Any]
NO_KEY = ("You did not provide an API key. You need to provide your API key in the Authorization header, using "
          "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
          "for details, or we can help at https://support.stripe.com/.")
VALID_KEY_PREFIXES = ("sk_test_", "rk_test_")


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """Stripe-style JSON (indented, as Stripe answers)."""
    return web.Response(body=orjson.dumps(body, option=orjson.OPT_INDENT_2), status=status,
                        content_type="application/json", headers=headers)


def error_response(error: StripeError) -> web.Response:
    """`{"error": {...}}` with the error's HTTP status."""
    return json_response(error.body(), error.status)


async def read_params(request: web.Request) -> Params:
    """Query string plus (for POST/DELETE) the form or JSON body, decoded into nested parameters."""
    pairs = list(request.query.items())
    if request.method in ("POST", "DELETE") and request.body_exists:
        raw = await request.read()
        if request.content_type == "application/json":
            try:
                data = orjson.loads(raw) if raw.strip() else {}
            except orjson.JSONDecodeError:
                raise InvalidRequest("Invalid JSON in the request body.") from None
            if not isinstance(data, dict):
                raise InvalidRequest("The JSON request body must be an object.")
            return Params({**forms.decode(pairs), **data})
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("The request body is not valid UTF-8.") from None
        pairs += parse_qsl(text, keep_blank_values=True)
    return Params(forms.decode(pairs))


def api_key(request: web.Request) -> str:
    """The secret key from `Authorization: Bearer …` (or Basic, key as user name); 401 unless `sk_test_…`."""
    header = request.headers.get("Authorization", "").strip()
    scheme, _, value = header.partition(" ")
    key = value.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if not key:
        raise AuthenticationFailed(NO_KEY)
    if not key.startswith(VALID_KEY_PREFIXES) or len(key) <= len("sk_test_"):
        shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
        raise AuthenticationFailed(f"Invalid API Key provided: {shown}")
    return key


def _api_path(request: web.Request) -> str:
    path = request.path
    return path[path.find("/v1/"):] if "/v1/" in path else path


def build_app(fake: FakeStripe, around: Sequence[Step] = ()) -> web.Application:
    """The sub-application: API routes and hosted checkout, each inside `around` (the twin's service
    plane) and then the fake's own request handling (request ids, keys, replays, Stripe's errors)."""
    app = web.Application()
    add_routes(app, [*api_routes(fake), *checkout_routes(fake)], [*around, _request_handling(fake)])
    return app


def _request_handling(fake: FakeStripe) -> Step:
    async def stripe_request(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Request ids, API keys, idempotent replays and Stripe-shaped errors for every `/v1` call."""
        fake.note_request_base(f"{request.scheme}://{request.host}")
        is_api = "/v1/" in request.path
        request_id = f"req_{uuid.uuid4().hex[:14]}"
        idempotency_key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        token = REQUEST.set({"id": request_id, "idempotency_key": idempotency_key})
        try:
            if is_api:
                response = await _api_call(fake, request, handler, idempotency_key)
                response.headers["Stripe-Version"] = request.headers.get("Stripe-Version", API_VERSION)
            else:
                response = await _page_call(request, handler)
        finally:
            REQUEST.reset(token)
        response.headers["Request-Id"] = request_id
        return response

    return stripe_request


async def _page_call(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return message_page(404, "Page not found", f"The twin's Stripe has no page at {request.path}.")


async def _api_call(fake: FakeStripe, request: web.Request, handler: Handler,
                    idempotency_key: str | None) -> web.StreamResponse:
    key: str | None = None  # stays None when the key is refused: nothing is kept for a 401
    try:
        key = api_key(request)
        fingerprint = ""
        if idempotency_key:
            raw = await request.read() if request.body_exists else b""
            fingerprint = hashlib.sha256(f"{request.method} {_api_path(request)}\n".encode() + raw).hexdigest()
            cached = fake.idempotency.get((key, idempotency_key))
            if cached is not None:
                if cached[0] != fingerprint:
                    raise IdempotencyConflict(idempotency_key)
                # Same key, same request: the first answer again, as Stripe replays it.
                return web.Response(body=cached[2], status=cached[1], content_type="application/json",
                                    headers={"Idempotent-Replayed": "true", "Idempotency-Key": idempotency_key})
        response = await handler(request)
    except StripeError as error:
        response = error_response(error)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        response = error_response(InvalidRequest(
            f"Unrecognized request URL ({request.method}: {_api_path(request)}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/."))
        response.set_status(404)
    except web.HTTPException:
        raise
    except Exception:  # a bug of the fake, not the client's fault: say so the way Stripe does
        log.exception("stripe fake failed on %s %s", request.method, request.path)
        return error_response(StripeError(500, "api_error", "An unexpected error occurred in the twin's Stripe."))
    if idempotency_key and key is not None and isinstance(response, web.Response) and response.status < 500 \
            and isinstance(response.body, bytes):
        fake.idempotency[(key, idempotency_key)] = (fingerprint, response.status, response.body)
        fake.trim_history()
        response.headers["Idempotency-Key"] = idempotency_key
    return response


def api_routes(fake: FakeStripe) -> list[web.RouteDef]:
    """Every `/v1` route of the fake."""
    store = fake.store

    def route(method: str, path: str, operation: Operation) -> web.RouteDef:
        async def handler(request: web.Request) -> web.Response:
            params = await read_params(request)
            result = operation(request.match_info, params)
            if isinstance(result, tuple):  # (intent or session, decline or None)
                result, error = result
                if error is not None:
                    raise error
            return json_response(expand(result, params.strings("expand"), store))

        handler.__name__ = f"{method.lower()}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}"
        return web.route(method, path, handler)

    def create_endpoint(p: Params) -> dict[str, Any]:
        url = p.text("url", required=True) or ""
        wanted = p.strings("enabled_events")
        if not wanted:
            raise invalid("enabled_events", "Missing required param: enabled_events.", code="parameter_missing")
        endpoint = fake.add_webhook_endpoint(url, f"whsec_{fake.ids.token(32)}", wanted,
                                             description=p.text("description"))
        return endpoint

    def list_endpoints(p: Params) -> dict[str, Any]:
        table = {e["id"]: e for e in (ep.public() for ep in fake.dispatcher.endpoints.values())}
        return paginate(newest_first(table), p, "/v1/webhook_endpoints")

    def get_endpoint(endpoint_id: str) -> dict[str, Any]:
        endpoint = fake.dispatcher.endpoints.get(endpoint_id)
        if endpoint is None:
            raise no_such("webhook endpoint", endpoint_id)
        return endpoint.public()

    return [
        route("POST", "/v1/customers", lambda m, p: customers.create(store, p)),
        route("GET", "/v1/customers", lambda m, p: customers.listing(store, p)),
        route("GET", "/v1/customers/{id}", lambda m, p: customers.retrieve(store, m["id"])),
        route("POST", "/v1/customers/{id}", lambda m, p: customers.update(store, m["id"], p)),
        route("GET", "/v1/customers/{id}/payment_methods", lambda m, p: methods.listing(store, p, m["id"])),
        route("POST", "/v1/payment_methods", lambda m, p: methods.create(store, p)),
        route("GET", "/v1/payment_methods", lambda m, p: methods.listing(store, p)),
        route("GET", "/v1/payment_methods/{id}", lambda m, p: methods.retrieve(store, m["id"])),
        route("POST", "/v1/payment_methods/{id}/attach",
              lambda m, p: methods.attach(store, m["id"], p.text("customer", required=True))),
        route("POST", "/v1/payment_methods/{id}/detach", lambda m, p: methods.detach(store, m["id"])),
        route("POST", "/v1/payment_intents", lambda m, p: intents.create(store, p)),
        route("GET", "/v1/payment_intents", lambda m, p: intents.listing(store, p)),
        route("GET", "/v1/payment_intents/{id}", lambda m, p: intents.retrieve(store, m["id"])),
        route("POST", "/v1/payment_intents/{id}", lambda m, p: intents.update(store, m["id"], p)),
        route("POST", "/v1/payment_intents/{id}/confirm", lambda m, p: intents.confirm(store, m["id"], p)),
        route("POST", "/v1/payment_intents/{id}/cancel", lambda m, p: intents.cancel(store, m["id"], p)),
        route("GET", "/v1/charges", lambda m, p: intents.list_charges(store, p)),
        route("GET", "/v1/charges/{id}", lambda m, p: intents.retrieve_charge(store, m["id"])),
        route("POST", "/v1/refunds", lambda m, p: refunds.create(store, p)),
        route("GET", "/v1/refunds", lambda m, p: refunds.listing(store, p)),
        route("GET", "/v1/refunds/{id}", lambda m, p: refunds.retrieve(store, m["id"])),
        route("POST", "/v1/checkout/sessions", lambda m, p: sessions.create(store, p, fake.checkout_base())),
        route("GET", "/v1/checkout/sessions", lambda m, p: sessions.listing(store, p)),
        route("GET", "/v1/checkout/sessions/{id}", lambda m, p: sessions.retrieve(store, m["id"])),
        route("POST", "/v1/checkout/sessions/{id}/expire", lambda m, p: sessions.expire(store, m["id"])),
        route("GET", "/v1/checkout/sessions/{id}/line_items", lambda m, p: sessions.line_items(store, m["id"], p)),
        route("GET", "/v1/events", lambda m, p: events.listing(store, p)),
        route("GET", "/v1/events/{id}", lambda m, p: fake.retrieve_event(m["id"])),
        route("POST", "/v1/webhook_endpoints", lambda m, p: create_endpoint(p)),
        route("GET", "/v1/webhook_endpoints", lambda m, p: list_endpoints(p)),
        route("GET", "/v1/webhook_endpoints/{id}", lambda m, p: get_endpoint(m["id"])),
        route("DELETE", "/v1/webhook_endpoints/{id}", lambda m, p: fake.remove_webhook_endpoint(m["id"])),
    ]
