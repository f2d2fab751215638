"""Scenarios: stateful and workflow rules that run against any deployment.

Importing this package registers nothing; the built-in scenarios (generic CRUD, filters, paging,
auth probes, and each known project's business rules) are registered by
`contracts.registry.load_builtins()`. `scenario`, `ScenarioContext` and `recipe` are the API for
adding more (also exported by `contracts`).
"""

from __future__ import annotations

from .base import SCENARIOS, Scenario, ScenarioContext, Skip, scenario
from .recipes import RECIPES, Recipe, recipe

__all__ = ["RECIPES", "SCENARIOS", "Recipe", "Scenario", "ScenarioContext", "Skip", "recipe", "scenario"]
