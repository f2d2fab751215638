"""The typed keys under which one twin's application holds its runtime state.

Everything a twin changes while it runs lives on its own application (or its `World`), never in a
module global, so two twins created in one process stay independent. The modules that serve
routes (app.py, control.py, docs.py, the engine) import the keys from here; this module imports
only the state types themselves, so nothing imports a module back that imports it.
"""

from __future__ import annotations

from aiohttp import web

from .cors import CorsPolicy
from .faults import FaultSet
from .guard import ControlGuard
from .persistence.keeper import Keeper
from .settings import Settings
from .stripe import FakeStripe
from .world import World

WORLD = web.AppKey("world", World)
"""Records, fixtures, clock, sessions, journal and the active mutants (`World.mutants`)."""
FAULTS = web.AppKey("faults", FaultSet)
"""The faults injected through `/__twin/faults`."""
GUARD = web.AppKey("guard", ControlGuard)
"""Who may call the control API."""
CORS_POLICY = web.AppKey("cors_policy", CorsPolicy)
"""Which web origins may call the services with credentials."""
SETTINGS = web.AppKey("settings", Settings)
"""The twin's configuration (frozen)."""
KEEPER = web.AppKey("keeper", Keeper)
"""The state file's keeper; set only when the twin runs with `--state-file`."""
STRIPE = web.AppKey("stripe", FakeStripe)
"""The fake Stripe mounted under `/stripe`; the payment workflows reach it through this key."""

