"""The in-memory Stripe objects, shared by every operation: lookup by id, lists, `expand`, events.

The operations themselves live in one module per resource (customers, intents, refunds,
sessions); they all read and write a `Store` and report what happened through `emit`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..clock import Clock
from .cards import CardSpec
from .errors import InvalidRequest, invalid, no_such
from .ids import IdFactory
from .params import Params

Emit = Callable[[str, dict[str, Any], dict[str, Any] | None], None]
"""(event type, the object as it now stands, its previous attributes) → records and delivers the event."""

# id prefix → (store attribute, the name Stripe's "No such …" message uses)
KINDS: dict[str, tuple[str, str]] = {
    "cus": ("customers", "customer"),
    "pm": ("payment_methods", "PaymentMethod"),
    "pi": ("payment_intents", "payment_intent"),
    "ch": ("charges", "charge"),
    "re": ("refunds", "refund"),
    "cs": ("checkout_sessions", "checkout session"),
    "evt": ("events", "event"),
}
MAX_EXPAND_DEPTH = 4
DEFAULT_HISTORY = 1000

# When an object is finished (nothing more can happen to it that a client waits for): only those are
# ever forgotten. Customers are never: there is one per user, and payment methods live with them.
_FINISHED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "payment_intents": lambda o: o.get("status") in ("succeeded", "canceled"),
    "charges": lambda o: o.get("status") in ("succeeded", "failed"),
    "refunds": lambda o: o.get("status") in ("succeeded", "failed", "canceled"),
    "checkout_sessions": lambda o: o.get("status") in ("complete", "expired"),
}


class Store:
    """Every object the fake holds, keyed by id, in creation order."""

    def __init__(self, clock: Clock, ids: IdFactory, emit: Emit, *, history: int | None = DEFAULT_HISTORY) -> None:
        self.clock = clock
        self.ids = ids
        self.emit = emit
        # How many objects of each kind are kept once finished (None: all); see `trim`.
        self.history = history
        # Is an event still being delivered? (the fake wires its dispatcher in; such events stay)
        self.busy: Callable[[str], bool] = lambda event_id: False
        self._trim_at: dict[str, int] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self.line_items: dict[str, list[dict[str, Any]]] = {}
        # A checkout session's `payment_intent_data`, for the intent that paying it creates.
        self.session_intent_data: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        # What each payment method's card does when charged; not part of the public object.
        self.cards: dict[str, CardSpec] = {}

    def clear(self) -> None:
        """Forget every object."""
        for name in ("customers", "payment_methods", "payment_intents", "charges", "refunds",
                     "checkout_sessions", "line_items", "session_intent_data", "events", "cards"):
            getattr(self, name).clear()
        self._trim_at.clear()

    def trim(self) -> None:
        """Keep the history bounded: beyond `history` objects of a kind, the oldest finished ones go
        (with what hangs on them: a session's line items, a method's card). Live objects never go:
        an unfinished intent or open session, an undelivered event, a method a customer or a live
        intent holds. Runs in batches (a tenth of the bound over it) so a create costs O(1) on average."""
        limit = self.history
        if limit is None:
            return
        for name, finished in _FINISHED.items():
            if self._due(name, limit):
                table: dict[str, dict[str, Any]] = getattr(self, name)
                for key in _oldest(table, finished, len(table) - limit):
                    del table[key]
                    self.line_items.pop(key, None)
                    self.session_intent_data.pop(key, None)
                self._trimmed(name, limit)
        if self._due("events", limit):
            busy = self.busy
            for key in _oldest(self.events, lambda e: not busy(e["id"]), len(self.events) - limit):
                del self.events[key]
            self._trimmed("events", limit)
        if self._due("payment_methods", limit):
            held = {i.get("payment_method") for i in self.payment_intents.values()
                    if i.get("status") not in ("succeeded", "canceled")}
            for key in _oldest(self.payment_methods, lambda m: m.get("customer") is None and m["id"] not in held,
                               len(self.payment_methods) - limit):
                del self.payment_methods[key]
                self.cards.pop(key, None)
            self._trimmed("payment_methods", limit)

    def _due(self, name: str, limit: int) -> bool:
        return len(getattr(self, name)) > self._trim_at.get(name, limit + max(16, limit // 10))

    def _trimmed(self, name: str, limit: int) -> None:
        # What stayed live is not scanned again until as many new objects came (a pass per slack).
        self._trim_at[name] = len(getattr(self, name)) + max(16, limit // 10)

    def now(self) -> int:
        """Unix seconds from the twin's clock (Stripe's `created` and friends)."""
        return int(self.clock.now().timestamp())

    def get(self, object_id: str | None, param: str = "id", *, kind: str | None = None) -> dict[str, Any]:
        """The stored object (not a copy) with that id, of kind `kind` (an id prefix) if given; else 404."""
        object_id = object_id or ""
        prefix = kind or object_id.split("_", 1)[0]
        attribute, label = KINDS.get(prefix, ("", "object"))
        table: dict[str, dict[str, Any]] = getattr(self, attribute) if attribute else {}
        found = table.get(object_id) if object_id.startswith(prefix + "_") else None
        if found is None:
            raise no_such(label, object_id, param)
        return found

    def lookup(self, object_id: str) -> dict[str, Any] | None:
        """Any object by id, whatever its kind (for `expand`)."""
        attribute = KINDS.get(object_id.split("_", 1)[0], ("", ""))[0]
        table = getattr(self, attribute, {}) if attribute else {}
        return table.get(object_id)

    def record(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        """Emit an event carrying a snapshot of `obj` as it is now (and, for updates, what changed)."""
        self.emit(event_type, copy.deepcopy(obj), previous)


def _oldest(table: dict[str, dict[str, Any]], finished: Callable[[dict[str, Any]], bool], count: int) -> list[str]:
    """The ids of up to `count` finished objects, oldest first."""
    found: list[str] = []
    for key, obj in table.items():
        if finished(obj):
            found.append(key)
            if len(found) >= count:
                break
    return found


def snapshot(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy callers may change freely without touching the store."""
    return copy.deepcopy(obj)


def paginate(items: list[dict[str, Any]], params: Params, url: str) -> dict[str, Any]:
    """Stripe's list object over `items` (newest first) with `limit`, `starting_after`, `ending_before`."""
    limit = params.integer("limit", minimum=1, maximum=100) or 10
    after = params.text("starting_after")
    before = params.text("ending_before")
    ids = [item["id"] for item in items]
    if after is not None:
        if after not in ids:
            raise no_such("object", after, "starting_after")
        start = ids.index(after) + 1
        page = items[start:start + limit]
        has_more = start + limit < len(items)
    elif before is not None:
        if before not in ids:
            raise no_such("object", before, "ending_before")
        end = ids.index(before)
        page = items[max(0, end - limit):end]
        has_more = end - limit > 0
    else:
        page = items[:limit]
        has_more = len(items) > limit
    return {"object": "list", "data": [snapshot(item) for item in page], "has_more": has_more, "url": url}


def newest_first(table: dict[str, dict[str, Any]], keep: Callable[[dict[str, Any]], bool] | None = None
                 ) -> list[dict[str, Any]]:
    """The table's objects, latest created first (Stripe's list order)."""
    return [obj for obj in reversed(list(table.values())) if keep is None or keep(obj)]


def expand(obj: dict[str, Any], paths: list[str], store: Store) -> dict[str, Any]:
    """Replace ids named by `expand[]` paths (`customer`, `data.latest_charge`) with the objects."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_EXPAND_DEPTH:
            raise invalid("expand", f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property.")
        _expand(obj, parts, store, path)
    return obj


def _expand(node: Any, parts: list[str], store: Store, path: str) -> None:
    if isinstance(node, list):
        for item in node:
            _expand(item, parts, store, path)
        return
    if not isinstance(node, dict):
        return
    key, rest = parts[0], parts[1:]
    if key not in node:
        raise InvalidRequest(f"This property cannot be expanded ({path}).", param="expand")
    value = node[key]
    if isinstance(value, str):
        found = store.lookup(value)
        if found is None:
            raise InvalidRequest(f"This property cannot be expanded ({path}).", param="expand")
        value = node[key] = snapshot(found)
    elif value is not None and not isinstance(value, dict | list):
        raise InvalidRequest(f"This property cannot be expanded ({path}).", param="expand")
    if rest and value is not None:
        _expand(value, rest, store, path)
