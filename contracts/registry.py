"""Which checks and scenarios a run knows: the built-in ones are loaded explicitly.

The decorators `response_check`, `scenario` and `recipe` register into the tables of
`contracts.checks.base`, `contracts.scenarios.base` and `contracts.scenarios.recipes`. Importing
`contracts` (or any of its packages) registers nothing by itself; `load_builtins()` imports the
modules that hold the suite's own rules, and a team's plugin module registers its rules when it is
imported. The runner, `twin verify`, the pytest plugin and the Schemathesis hooks call
`load_builtins()` before they read the tables.
"""

from __future__ import annotations

import importlib

# In registration order (the order `--list` shows and the runner keeps among equal `order`s):
# the response checks, then the generic scenarios, then each known project's business rules.
BUILTIN_MODULES: tuple[str, ...] = (
    "contracts.checks.envelope",
    "contracts.checks.errors",
    "contracts.checks.resources",
    "contracts.scenarios.common",
    "contracts.scenarios.access",
    "contracts.scenarios.airbnb",
    "contracts.scenarios.coverage",
    "contracts.scenarios.tutorhub",
    "contracts.scenarios.workforceos",
)


def load_builtins() -> None:
    """Register the suite's built-in response checks, scenarios and recipes (idempotent)."""
    for name in BUILTIN_MODULES:
        importlib.import_module(name)


def load_plugins(modules: list[str]) -> None:
    """Load the built-ins, then import each plugin module (it registers its checks and scenarios as
    it is imported; registered after the built-ins, a rule of the same name replaces the built-in one)."""
    load_builtins()
    for name in modules:
        importlib.import_module(name)
