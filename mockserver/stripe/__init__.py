"""The twin's fake Stripe: `FakeStripe` serves Stripe's API under `/stripe`, delivers signed webhooks
and hosts a checkout page; `verify_signature` checks a `Stripe-Signature` header.

Mounting (the twin's app):

    fake = FakeStripe(clock, public_base_url="http://127.0.0.1:8080")
    mount(app, fake)  # `public_app(fake)` at /stripe, `control_app(fake)` at /__twin/stripe
    app[STRIPE] = fake  # mockserver.keys.STRIPE: how the payment workflows find it
"""

from .apps import control_app, mount, public_app
from .errors import CardError, InvalidRequest, NotFound, StripeError
from .fake import FakeStripe
from .webhooks import sign, verify_signature

__all__ = [
    "CardError", "FakeStripe", "InvalidRequest", "NotFound", "StripeError", "control_app", "mount", "public_app", "sign",
    "verify_signature",
]
