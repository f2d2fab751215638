"""Fixtures for the fake Stripe's tests: a served fake and an official SDK client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from stripe_harness import API_KEY, StripeServer


@pytest.fixture
def server() -> Iterator[StripeServer]:
    """The fake Stripe served on 127.0.0.1 (webhook retries 50 ms apart, to keep tests quick)."""
    served = StripeServer().start()
    yield served
    served.stop()


@pytest.fixture
def client(server: StripeServer) -> stripe.StripeClient:
    """The official SDK, as an application would configure it, but with the twin as its API base."""
    return stripe.StripeClient(API_KEY, base_addresses={"api": f"{server.url}/stripe"}, max_network_retries=0)
