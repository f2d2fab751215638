"""The judge (`twin verify`): proves a deployment behaves like its guides.

What a team's plugin module needs is exported here, so it never reaches into the suite's modules:

    from contracts import NOT_APPLICABLE, Exchange, ScenarioContext, response_check, scenario

    @scenario("myteam.unknown-enrollment", projects=["tutorhub"], rules=["get-unknown-404"])
    def unknown_enrollment(ctx: ScenarioContext) -> None:
        reply = ctx.api("admin").call("getEnrollment", path={"enrollmentId": "nope"})
        ctx.expect("get-unknown-404", reply.status == 404, reply.describe())

    @response_check("myteam_no_debug_keys", "envelope", "no debug keys in answers")
    def no_debug_keys(exchange: Exchange) -> bool | None:
        if not exchange.is_success:
            return NOT_APPLICABLE
        assert "debug" not in exchange.body, "the answer carries a debug key"
        return None

Importing `contracts` registers nothing: the suite's own checks and scenarios are registered by
`load_builtins()`, which `twin verify`, the runner and the pytest plugin call.
"""

from __future__ import annotations

from .checks.base import NOT_APPLICABLE, NOT_JSON, CheckFailed, Exchange, Problems, response_check
from .client import Api, Reply
from .registry import load_builtins
from .scenarios.base import ScenarioContext, Skip, scenario
from .scenarios.recipes import Recipe, recipe
from .spec import ObjectFacts, OperationFacts, PropertyFacts, ServiceSpec
from .target import Identity, ServiceTarget, Settings

__all__ = [
    "NOT_APPLICABLE",
    "NOT_JSON",
    "Api",
    "CheckFailed",
    "Exchange",
    "Identity",
    "ObjectFacts",
    "OperationFacts",
    "Problems",
    "PropertyFacts",
    "Recipe",
    "Reply",
    "ScenarioContext",
    "ServiceSpec",
    "ServiceTarget",
    "Settings",
    "Skip",
    "load_builtins",
    "recipe",
    "response_check",
    "scenario",
]
