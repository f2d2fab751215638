"""The twin's fake Stripe: `FakeStripe` serves Stripe's API under `/stripe`, delivers signed webhooks
and hosts a checkout page; `verify_signature` checks a `Stripe-Signature` header.

Mounting (the twin's app):

    fake = FakeStripe(clock, public_base_url="http://127.0.0.1:8080")
    app.add_subapp("/stripe", fake.app())
    app.add_subapp("/__twin/stripe", fake.control_app())
    app[STRIPE] = fake  # mockserver.keys.STRIPE: how the payment workflows find it
"""

from .errors import CardError, InvalidRequest, NotFound, StripeError
from .fake import FakeStripe
from .webhooks import sign, verify_signature

__all__ = ["CardError", "FakeStripe", "InvalidRequest", "NotFound", "StripeError", "sign", "verify_signature"]
