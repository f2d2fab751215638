"""Customers: create, retrieve, update, list."""

from __future__ import annotations

from typing import Any

from . import methods
from .errors import invalid
from .objects import Store, newest_first, paginate, snapshot
from .params import Params, merge_metadata


def create(store: Store, p: Params) -> dict[str, Any]:
    """`POST /v1/customers`; `payment_method` attaches that method at once, as Stripe does."""
    email, name = p.text("email", max_length=512), p.text("name", max_length=256)
    description, phone, metadata = p.text("description"), p.text("phone", max_length=20), p.metadata() or {}
    pm_id = p.text("payment_method")
    default_pm = p.nested("invoice_settings").text("default_payment_method")
    # Check every reference before storing anything: a failed request changes nothing.
    method = methods.resolve(store, pm_id, "payment_method") if pm_id is not None else None
    if method is not None and method["customer"] is not None:
        raise invalid("payment_method", "The payment method you provided has already been attached to a customer.")
    if default_pm is not None and (method is None or default_pm not in (pm_id, method["id"])):
        raise invalid("invoice_settings[default_payment_method]",
                      f"The customer does not have a payment method with the ID {default_pm}.")
    customer_id = store.ids.new("cus")
    customer: dict[str, Any] = {
        "id": customer_id, "object": "customer", "address": None, "balance": 0, "created": store.now(),
        "currency": None, "default_source": None, "delinquent": False, "description": description,
        "discount": None, "email": email, "invoice_prefix": customer_id[4:12].upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                             "rendering_options": None},
        "livemode": False, "metadata": metadata, "name": name, "next_invoice_sequence": 1, "phone": phone,
        "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None,
    }
    store.customers[customer_id] = customer
    store.record("customer.created", customer)
    if method is not None:
        methods.attach(store, method["id"], customer_id, param="payment_method")
        if default_pm is not None:
            customer["invoice_settings"]["default_payment_method"] = method["id"]
    return snapshot(customer)


def retrieve(store: Store, customer_id: str) -> dict[str, Any]:
    """`GET /v1/customers/{id}`."""
    return snapshot(store.get(customer_id, kind="cus"))


def update(store: Store, customer_id: str, p: Params) -> dict[str, Any]:
    """`POST /v1/customers/{id}`: the plain fields, metadata (merged) and the default payment method."""
    customer = store.get(customer_id, kind="cus")
    changes: dict[str, Any] = {}
    for field, limit in (("email", 512), ("name", 256), ("description", 5000), ("phone", 20)):
        if field in p:
            changes[field] = p.text(field, max_length=limit)
    changes["metadata"] = merge_metadata(customer["metadata"], p.metadata())
    default_pm = p.nested("invoice_settings").text("default_payment_method")
    if default_pm is not None:
        method = store.get(default_pm, "invoice_settings[default_payment_method]", kind="pm")
        if method["customer"] != customer_id:
            raise invalid("invoice_settings[default_payment_method]",
                          f"The customer does not have a payment method with the ID {default_pm}.")
        changes["invoice_settings"] = {**customer["invoice_settings"], "default_payment_method": default_pm}
    # Validated above; only now does the stored customer change.
    previous = {k: customer[k] for k, v in changes.items() if customer[k] != v}
    customer.update(changes)
    if previous:
        store.record("customer.updated", customer, previous)
    return snapshot(customer)


def listing(store: Store, p: Params) -> dict[str, Any]:
    """`GET /v1/customers` (optionally `email=`)."""
    email = p.text("email")
    items = newest_first(store.customers, lambda c: email is None or c.get("email") == email)
    return paginate(items, p, "/v1/customers")
