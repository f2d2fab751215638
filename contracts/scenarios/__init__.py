"""Scenarios: stateful and workflow rules that run against any deployment.

Importing the package registers the built-in ones (generic CRUD, filters, paging, auth probes, and
each project's business rules); `scenario` and `ScenarioContext` are the API for adding more.
"""

from __future__ import annotations

from . import access, airbnb, common, coverage, tutorhub, workforceos
from .base import SCENARIOS, Scenario, ScenarioContext, Skip, scenario
from .recipes import RECIPES, Recipe, recipe

__all__ = ["RECIPES", "SCENARIOS", "Recipe", "Scenario", "ScenarioContext", "Skip", "access", "airbnb", "common", "coverage", "recipe", "scenario", "tutorhub", "workforceos"]
