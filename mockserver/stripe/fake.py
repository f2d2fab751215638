"""`FakeStripe`: the twin's Stripe — state, an in-process API and webhook delivery (its web apps are
assembled around it in `apps.py`).

The in-process methods follow the HTTP API's rules and return the same Stripe-shaped dicts; they
raise `StripeError` subclasses where the HTTP API answers 4xx (an unknown id raises `NotFound`,
which is also a `LookupError`). One difference, for the twin's workflows: a declined card does not
raise unless `raise_on_decline=True`; the returned intent carries `last_payment_error` instead.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any

from ..clock import Clock
from . import customers, events, intents, methods, refunds, sessions
from .errors import CardError, NotFound, invalid
from .ids import IdFactory
from .objects import DEFAULT_HISTORY, Store, snapshot
from .params import Params
from .webhooks import Dispatcher, Endpoint, sign, verify_signature

log = logging.getLogger("twin.stripe")
Subscriber = Callable[[dict[str, Any]], Any]


def _params(values: dict[str, Any]) -> Params:
    return Params({k: v for k, v in values.items() if v is not None})


def _matching(table: dict[str, dict[str, Any]], **filters: Any) -> list[dict[str, Any]]:
    """Copies of the objects (oldest first) whose fields equal every filter that is not None."""
    wanted = {k: v for k, v in filters.items() if v is not None}
    return [snapshot(obj) for obj in table.values() if all(obj.get(k) == v for k, v in wanted.items())]


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _settled(result: tuple[dict[str, Any], CardError | None], raise_on_decline: bool) -> dict[str, Any]:
    obj, error = result
    if error is not None and raise_on_decline:
        raise error
    return obj


class FakeStripe:
    """A stateful fake of Stripe's API (customers, payment methods, payment intents, refunds,
    checkout sessions, events) with signed webhook delivery and a hosted checkout page."""

    def __init__(self, clock: Clock, *, webhook_secret: str = "whsec_twin_test", seed: int = 0,
                 retry_delays: Iterable[float] = (0.5, 1, 2, 4), public_base_url: str | None = None,
                 mount_path: str = "/stripe", webhook_timeout: float = 10.0,
                 history: int | None = DEFAULT_HISTORY) -> None:
        self.clock = clock
        self.webhook_secret = webhook_secret
        self.ids = IdFactory(seed)
        # Endpoints outlive a reset (they are the twin's wiring), so their ids come from a sequence
        # of their own: restarting the objects' sequence must not hand an endpoint's id out again.
        self.endpoint_ids = IdFactory(seed + 1)
        # `history` bounds what is kept of each kind once finished (None keeps everything): see Store.trim.
        self.store = Store(clock, self.ids, self._emit, history=history)
        self.dispatcher = Dispatcher(clock, tuple(retry_delays), webhook_timeout)
        self.store.busy = lambda event_id: self.dispatcher.pending(event_id) > 0
        self._deliveries_trim_at = (history or 0) + max(16, (history or 0) // 10)
        self.public_base_url = public_base_url
        self.mount_path = mount_path.rstrip("/")
        # Responses kept per (API key, Idempotency-Key): (fingerprint, status, body).
        self.idempotency: dict[tuple[str, str], tuple[str, int, bytes]] = {}
        self._subscribers: list[Subscriber] = []
        self._observer_tasks: set[asyncio.Task[Any]] = set()
        self._seen_base: str | None = None

    # ----------------------------------------------------------------- events and webhooks

    def _emit(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None) -> None:
        event = events.new_event(self.store, event_type, obj, previous)
        event["pending_webhooks"] = sum(1 for e in self.dispatcher.endpoints.values() if e.wants(event_type))
        self.dispatcher.dispatch(event)
        for callback in list(self._subscribers):
            self._notify(callback, snapshot(event))
        self.trim_history()

    def trim_history(self) -> None:
        """Bound the history (objects, the delivery log, kept idempotent answers); see Store.trim."""
        limit = self.store.history
        if limit is None:
            return
        self.store.trim()
        if len(self.dispatcher.deliveries) > self._deliveries_trim_at:
            self.dispatcher.trim(limit)
            # Pending deliveries stay: the next pass waits for as many new ones (O(1) per event on average).
            self._deliveries_trim_at = len(self.dispatcher.deliveries) + max(16, limit // 10)
        if len(self.idempotency) > limit + max(16, limit // 10):
            for key in list(self.idempotency)[:len(self.idempotency) - limit]:
                del self.idempotency[key]

    def _notify(self, callback: Subscriber, event: dict[str, Any]) -> None:
        try:
            result = callback(event)
        except Exception:  # an observer's bug must not break the API call that emitted the event
            log.exception("stripe event subscriber failed on %s", event["type"])
            return
        if not inspect.isawaitable(result):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            task = asyncio.ensure_future(result)
            self._observer_tasks.add(task)
            task.add_done_callback(self._observer_tasks.discard)
        elif self.dispatcher.loop_running():
            self.dispatcher.run_soon(result)  # emitted from another thread: run it on the server's loop
        else:
            asyncio.run(_awaited(result))  # no loop anywhere: plain synchronous use

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` for every event from now on (it may be async); returns an unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def add_webhook_endpoint(self, url: str, secret: str | None = None, events: Iterable[str] | None = None, *,
                             description: str | None = None) -> dict[str, Any]:
        """Deliver events to `url`, signed with `secret` (default: this fake's `webhook_secret`).

        `events` lists the types it wants (default all, `["*"]`). Returns the `webhook_endpoint` object
        including its `secret`.
        """
        if not url.startswith(("http://", "https://")):
            raise invalid("url", f"Invalid URL: {url!r} must be an http(s) URL.")
        endpoint = Endpoint(self.endpoint_ids.new("we"), url, secret or self.webhook_secret, list(events or ["*"]),
                            self.store.now(), description)
        self.dispatcher.endpoints[endpoint.id] = endpoint
        return endpoint.public(with_secret=True)

    def remove_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        """Stop delivering to that endpoint; returns Stripe's deleted stub."""
        if self.dispatcher.endpoints.pop(endpoint_id, None) is None:
            raise NotFound(f"No such webhook endpoint: '{endpoint_id}'")
        return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}

    def webhook_endpoints(self) -> list[dict[str, Any]]:
        """Every endpoint, with its secret."""
        return [e.public(with_secret=True) for e in self.dispatcher.endpoints.values()]

    def deliveries(self, event_id: str | None = None) -> list[dict[str, Any]]:
        """The delivery log (oldest first), optionally for one event: each delivery with all its attempts."""
        found = self.dispatcher.of_event(event_id) if event_id is not None else self.dispatcher.deliveries.values()
        return [d.public() for d in found]

    def _resend(self, event_id: str, kind: str, endpoint_id: str | None) -> list[dict[str, Any]]:
        event = self.store.get(event_id, kind="evt")
        if endpoint_id is not None and endpoint_id not in self.dispatcher.endpoints:
            raise NotFound(f"No such webhook endpoint: '{endpoint_id}'", param="endpoint")
        return [d.public() for d in self.dispatcher.dispatch(event, kind, endpoint_id)]

    def redeliver(self, event_id: str, endpoint_id: str | None = None) -> list[dict[str, Any]]:
        """Send the event again (freshly signed) to its endpoints, or to one; like the Dashboard's "Resend"."""
        return self._resend(event_id, "redeliver", endpoint_id)

    def duplicate(self, event_id: str, endpoint_id: str | None = None, count: int = 1) -> list[dict[str, Any]]:
        """Deliver the same event (same id, same body) once more, as Stripe's at-least-once delivery may."""
        return [d for _ in range(max(1, count)) for d in self._resend(event_id, "duplicate", endpoint_id)]

    async def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every pending webhook delivery (retries included) and async subscriber has finished."""
        done = await self.dispatcher.drain(timeout)
        if self._observer_tasks:
            await asyncio.wait(set(self._observer_tasks), timeout=timeout)
        return done

    def verify_signature(self, payload: bytes | str, header: str | None, secret: str | None = None,
                         tolerance: int = 300) -> bool:
        """Does `header` sign `payload` with `secret` (default `webhook_secret`), judged by the twin's clock?"""
        return verify_signature(payload, header, secret or self.webhook_secret, tolerance,
                                now=self.clock.now().timestamp())

    def sign(self, payload: bytes, secret: str | None = None, timestamp: int | None = None) -> str:
        """A `Stripe-Signature` header for `payload` (for tests and hand-made callbacks)."""
        return sign(payload, secret or self.webhook_secret, timestamp if timestamp is not None else self.store.now())

    def list_events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Every event so far (oldest first), optionally of one type."""
        return [snapshot(e) for e in self.store.events.values() if type in (None, e["type"])]

    def retrieve_event(self, event_id: str) -> dict[str, Any]:
        """One event, with `pending_webhooks` as it stands now."""
        event = events.retrieve(self.store, event_id)
        event["pending_webhooks"] = self.dispatcher.pending(event_id)
        return event

    # ------------------------------------------------------------------------- customers

    def create_customer(self, *, email: str | None = None, name: str | None = None, description: str | None = None,
                        phone: str | None = None, metadata: dict[str, Any] | None = None,
                        payment_method: str | None = None, **extra: Any) -> dict[str, Any]:
        """Create a customer (`payment_method` attaches one at once)."""
        return customers.create(self.store, _params({"email": email, "name": name, "description": description,
                                                     "phone": phone, "metadata": metadata,
                                                     "payment_method": payment_method, **extra}))

    def retrieve_customer(self, customer_id: str) -> dict[str, Any]:
        """The customer; NotFound if unknown."""
        return customers.retrieve(self.store, customer_id)

    def update_customer(self, customer_id: str, **params: Any) -> dict[str, Any]:
        """Update email, name, description, phone, metadata, invoice_settings.default_payment_method."""
        return customers.update(self.store, customer_id, _params(params))

    def list_customers(self, *, email: str | None = None) -> list[dict[str, Any]]:
        """Every customer (oldest first), optionally with that email."""
        return _matching(self.store.customers, email=email)

    # ------------------------------------------------------------------- payment methods

    def create_payment_method(self, *, type: str = "card", card: dict[str, Any] | None = None,
                              billing_details: dict[str, Any] | None = None,
                              metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create a card method from `card={"token": "tok_visa"}` or `{"number", "exp_month", "exp_year"}`."""
        return methods.create(self.store, _params({"type": type, "card": card, "billing_details": billing_details,
                                                   "metadata": metadata}))

    def retrieve_payment_method(self, payment_method_id: str) -> dict[str, Any]:
        """The payment method (a magic `pm_card_…` id yields a fresh clone)."""
        return methods.retrieve(self.store, payment_method_id)

    def attach_payment_method(self, payment_method_id: str, customer: str) -> dict[str, Any]:
        """Attach to a customer; a magic id attaches a new clone, whose `id` the answer carries."""
        return methods.attach(self.store, payment_method_id, customer)

    def detach_payment_method(self, payment_method_id: str) -> dict[str, Any]:
        """Detach from its customer."""
        return methods.detach(self.store, payment_method_id)

    def list_payment_methods(self, customer: str | None = None) -> list[dict[str, Any]]:
        """A customer's payment methods (or all), oldest first; NotFound for an unknown customer."""
        if customer is not None:
            self.store.get(customer, "customer", kind="cus")
        return _matching(self.store.payment_methods, customer=customer)

    # ------------------------------------------------------------------- payment intents

    def create_payment_intent(self, *, amount: int, currency: str, customer: str | None = None,
                              payment_method: str | None = None, confirm: bool = False,
                              metadata: dict[str, Any] | None = None, description: str | None = None,
                              return_url: str | None = None, off_session: bool = False,
                              raise_on_decline: bool = False, **extra: Any) -> dict[str, Any]:
        """Create (and with `confirm=True` confirm) a payment intent.

        A decline returns the intent in `requires_payment_method` with `last_payment_error`
        (or raises `CardError` when `raise_on_decline`).
        """
        params = _params({"amount": amount, "currency": currency, "customer": customer,
                          "payment_method": payment_method, "confirm": confirm, "metadata": metadata,
                          "description": description, "return_url": return_url, "off_session": off_session,
                          **extra})
        return _settled(intents.create(self.store, params), raise_on_decline)

    def confirm_payment_intent(self, payment_intent_id: str, *, payment_method: str | None = None,
                               return_url: str | None = None, off_session: bool = False,
                               raise_on_decline: bool = False) -> dict[str, Any]:
        """Confirm an intent (optionally with a new payment method)."""
        params = _params({"payment_method": payment_method, "return_url": return_url, "off_session": off_session})
        return _settled(intents.confirm(self.store, payment_intent_id, params), raise_on_decline)

    def retrieve_payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        """The payment intent; NotFound if unknown."""
        return intents.retrieve(self.store, payment_intent_id)

    def update_payment_intent(self, payment_intent_id: str, **params: Any) -> dict[str, Any]:
        """Update amount, currency, customer, payment_method, description, receipt_email, metadata."""
        return intents.update(self.store, payment_intent_id, _params(params))

    def cancel_payment_intent(self, payment_intent_id: str, *, cancellation_reason: str | None = None
                              ) -> dict[str, Any]:
        """Cancel an unfinished intent (emits `payment_intent.canceled`)."""
        return intents.cancel(self.store, payment_intent_id, _params({"cancellation_reason": cancellation_reason}))

    def list_payment_intents(self, *, customer: str | None = None, status: str | None = None
                             ) -> list[dict[str, Any]]:
        """Every payment intent (oldest first), optionally of one customer or in one status."""
        return _matching(self.store.payment_intents, customer=customer, status=status)

    def authenticate_payment_intent(self, payment_intent_id: str, outcome: str = "succeed") -> dict[str, Any]:
        """Finish the 3-D Secure step of an intent in `requires_action`: `succeed` or `fail`."""
        return intents.authenticate(self.store, payment_intent_id, outcome)

    def retrieve_charge(self, charge_id: str) -> dict[str, Any]:
        """A charge (`latest_charge` of an intent)."""
        return intents.retrieve_charge(self.store, charge_id)

    def list_charges(self, *, payment_intent: str | None = None) -> list[dict[str, Any]]:
        """Every charge (oldest first), optionally of one payment intent."""
        return _matching(self.store.charges, payment_intent=payment_intent)

    # --------------------------------------------------------------------------- refunds

    def create_refund(self, *, payment_intent: str | None = None, charge: str | None = None,
                      amount: int | None = None, reason: str | None = None,
                      metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """Refund a succeeded payment, fully or `amount` of it (emits `refund.created`, `charge.refunded`)."""
        return refunds.create(self.store, _params({"payment_intent": payment_intent, "charge": charge,
                                                   "amount": amount, "reason": reason, "metadata": metadata}))

    def retrieve_refund(self, refund_id: str) -> dict[str, Any]:
        """A refund; NotFound if unknown."""
        return refunds.retrieve(self.store, refund_id)

    def list_refunds(self, *, payment_intent: str | None = None, charge: str | None = None) -> list[dict[str, Any]]:
        """Every refund (oldest first), optionally of one payment intent or charge."""
        return _matching(self.store.refunds, payment_intent=payment_intent, charge=charge)

    # ----------------------------------------------------------------- checkout sessions

    def checkout_base(self, request_base: str | None = None) -> str:
        """Where the hosted checkout pages live: `<public_base_url><mount_path>/checkout`."""
        base = self.public_base_url or request_base or self._seen_base or "http://127.0.0.1:8080"
        return f"{base.rstrip('/')}{self.mount_path}/checkout"

    def create_checkout_session(self, *, success_url: str, cancel_url: str | None = None,
                                line_items: list[dict[str, Any]] | None = None, amount: int | None = None,
                                currency: str = "usd", name: str | None = None,
                                metadata: dict[str, Any] | None = None, customer: str | None = None,
                                customer_email: str | None = None, client_reference_id: str | None = None,
                                payment_intent_data: dict[str, Any] | None = None, mode: str = "payment",
                                **extra: Any) -> dict[str, Any]:
        """Create a payment-mode session from `line_items` (with `price_data`) or a plain `amount`;
        its `url` is the hosted page at `<public_base_url>/stripe/checkout/<id>`."""
        params = _params({"mode": mode, "success_url": success_url, "cancel_url": cancel_url,
                          "line_items": line_items, "amount": amount if not line_items else None,
                          "currency": currency if not line_items else None, "name": name, "metadata": metadata,
                          "customer": customer, "customer_email": customer_email,
                          "client_reference_id": client_reference_id, "payment_intent_data": payment_intent_data,
                          **extra})
        return sessions.create(self.store, params, self.checkout_base())

    def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        """The session (expired on the way if its `expires_at` has passed)."""
        return sessions.retrieve(self.store, session_id)

    def list_checkout_sessions(self, *, status: str | None = None, payment_intent: str | None = None
                               ) -> list[dict[str, Any]]:
        """Every checkout session (oldest first, due ones expired first), optionally filtered."""
        found = [sessions.retrieve(self.store, session_id) for session_id in list(self.store.checkout_sessions)]
        return [s for s in found if status in (None, s["status"]) and payment_intent in (None, s["payment_intent"])]

    def expire_checkout_session(self, session_id: str) -> dict[str, Any]:
        """Expire an open session (emits `checkout.session.expired`)."""
        return sessions.expire(self.store, session_id)

    def complete_checkout_session(self, session_id: str, *, card: str = "visa", email: str | None = None,
                                  raise_on_decline: bool = False) -> dict[str, Any]:
        """Pay an open session with a test card (`visa`, `chargeDeclined`…), as the hosted page's Pay does."""
        return _settled(sessions.complete(self.store, session_id, card, email), raise_on_decline)

    # ------------------------------------------------------------------------- lifecycle

    def reset(self, *, endpoints: bool = False) -> None:
        """Forget every object, event, delivery and idempotent answer; ids start over from the seed.

        Webhook endpoints and subscribers stay (they are the twin's wiring) unless `endpoints=True`.
        """
        self.dispatcher.cancel_all()
        history = self.store.history or 0
        self._deliveries_trim_at = history + max(16, history // 10)
        self.store.clear()
        self.ids.reset()
        self.idempotency.clear()
        if endpoints:
            self.dispatcher.endpoints.clear()
            self.endpoint_ids.reset()

    def state(self, *, copy: bool = True) -> dict[str, Any]:
        """Everything the fake holds, as JSON-able data (`copy=False`: the live objects, to encode at once)."""
        store = self.store
        return (snapshot if copy else dict)({
            "customers": list(store.customers.values()),
            "payment_methods": list(store.payment_methods.values()),
            "payment_intents": list(store.payment_intents.values()),
            "charges": list(store.charges.values()),
            "refunds": list(store.refunds.values()),
            "checkout_sessions": list(store.checkout_sessions.values()),
            "events": list(store.events.values()),
            "webhook_endpoints": self.webhook_endpoints(),
            # Without a copy the log's dataclasses go to the encoder as they are (orjson encodes them).
            "deliveries": self.deliveries() if copy else list(self.dispatcher.deliveries.values()),
        })

    async def close(self) -> None:
        """Cancel deliveries still in flight (the public app calls this when the twin shuts down)."""
        await self.dispatcher.close()

    def note_request_base(self, base: str) -> None:
        """Remember the scheme and host clients reach the twin at (for checkout URLs made in-process)."""
        self._seen_base = base

