"""The fake Stripe's web side, assembled in one place: the public app (Stripe's `/v1` API and the
hosted checkout) and the control app, both built around a `FakeStripe`.

`FakeStripe` is state and behaviour only; the HTTP modules (`api`, `checkout`, `control`) take it as
an argument, and only this module puts them together — so nothing the fake is made of imports back.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from ..routing import Step
from .api import build_app
from .control import build_control_app
from .fake import FakeStripe

CONTROL_PATH = "/__twin/stripe"


def public_app(fake: FakeStripe, around: Sequence[Step] = ()) -> web.Application:
    """The sub-application serving `/v1/...` and the hosted checkout; mount it at `fake.mount_path`.
    `around`: steps each of its requests goes through first (middleware-shaped, see routing.py).

    When the server shuts down it cancels the webhook deliveries still in flight."""
    app = build_app(fake, around)

    async def on_shutdown(_: web.Application) -> None:
        # Before the server stops: a delivery to the twin itself must not hold the shutdown up.
        await fake.close()

    app.on_shutdown.append(on_shutdown)
    return app


def control_app(fake: FakeStripe, around: Sequence[Step] = ()) -> web.Application:
    """The control sub-application (events, deliveries, 3-D Secure outcomes, state, reset…);
    `around` as for `public_app`."""
    return build_control_app(fake, around)


def mount(app: web.Application, fake: FakeStripe, *, control_path: str = CONTROL_PATH) -> None:
    """Serve `fake` from `app`: its public app at `fake.mount_path`, its control app at `control_path`."""
    app.add_subapp(fake.mount_path, public_app(fake))
    app.add_subapp(control_path, control_app(fake))
