"""The suite as a pytest plugin, so teams can run it from pytest and add their own scenarios.

Enable it in a `conftest.py` (`pytest_plugins = ["contracts.pytest_plugin"]`) or with
`pytest -p contracts.pytest_plugin`, point it at a target with `--twin-base-url URL` (or
`--twin-env staging`, `--twin-config FILE`; the `TWIN_BASE_URL` / `TWIN_ENV` variables work too),
and write tests with the fixtures:

    def test_tutor_sees_booking(twin_context):
        ctx = twin_context("tutorhub")            # a ScenarioContext on that service
        api = ctx.api("student")                  # calls are judged by every response check
        reply = api.call("listEnrollments")
        ctx.expect("list-answers", reply.ok, reply.describe())

A test whose context records a failed expectation or a broken response check fails; `ctx.skip`
skips it with the reason. `pytest --pyargs contracts.pytest_suite` runs the built-in suite
(every scenario and the generated layer per service) as pytest tests.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from .registry import load_builtins
from .results import Tally
from .scenarios.base import Scenario, ScenarioContext, Skip, StopScenario
from .target import ConfigError, ServiceTarget, Target, build_target, load_config


def pytest_configure(config: pytest.Config) -> None:
    """The built-in response checks judge every call a test's context makes."""
    load_builtins()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("twin", "twin conformance suite")
    group.addoption("--twin-base-url", default=os.environ.get("TWIN_BASE_URL"), help="root URL of the deployment or twin")
    group.addoption("--twin-env", default=os.environ.get("TWIN_ENV"), help="preview, staging or production (the specs' servers)")
    group.addoption("--twin-config", default=os.environ.get("TWIN_CONFIG"), help="config file (identities, hooks, data)")
    group.addoption("--twin-spec", action="append", default=[], help="spec to verify (repeatable; default all)")
    group.addoption("--twin-max-examples", type=int, default=None, help="Schemathesis examples per operation")
    group.addoption("--twin-control-token", default=os.environ.get("TWIN_CONTROL_TOKEN"),
                    help="bearer token of a twin's guarded control API")


@pytest.fixture(scope="session")
def twin_target(request: pytest.FixtureRequest) -> Target:
    """The target the options name (the session is skipped when none is given)."""
    option = request.config.getoption
    if not option("--twin-base-url") and not option("--twin-env") and not option("--twin-config"):
        pytest.skip("no twin target: pass --twin-base-url URL (or --twin-env / --twin-config)")
    try:
        return build_target(base_url=option("--twin-base-url"), env_name=option("--twin-env"),
                            specs=option("--twin-spec") or None, config=load_config(option("--twin-config")),
                            settings={"max_examples": option("--twin-max-examples")},
                            control_token=option("--twin-control-token"))
    except ConfigError as error:
        pytest.fail(f"twin target: {error}")


def find_service(target: Target, name: str) -> ServiceTarget:
    """A service of the target by slug or project name."""
    for service in target.services:
        if name in (service.name, service.project):
            return service
    pytest.skip(f"the target has no service {name!r}")


class StrictTally(Tally):
    """A tally that fails the test at the call whose answer breaks a response check."""

    def add(self, service: str, operation: str, check: str, passed: bool, layer: str, example: str = "",
            exchange: dict[str, str] | None = None) -> None:
        super().add(service, operation, check, passed, layer, example, exchange)
        if not passed:
            raise AssertionError(f"{operation}: {check}: {example}")


class PytestContext(ScenarioContext):
    """A scenario context for a pytest test: a failed expectation fails the test, a skip skips it."""

    def expect(self, rule: str, condition: bool, message: str, *, operation: str | None = None, fatal: bool = True) -> bool:
        if not condition:
            pytest.fail(f"{rule}" + (f" ({operation})" if operation else "") + f": {message}", pytrace=False)
        return super().expect(rule, condition, message, operation=operation, fatal=fatal)

    def skip(self, reason: str) -> Any:
        pytest.skip(reason)

    def skip_rule(self, rule: str, reason: str, *, operation: str | None = None) -> None:
        pytest.skip(f"{rule}: {reason}")


@pytest.fixture
def twin_context(twin_target: Target) -> Iterator[Callable[..., ScenarioContext]]:
    """A factory of contexts (`twin_context("tutorhub")`); their clean-ups run after the test."""
    made: list[ScenarioContext] = []
    session = requests.Session()

    def make(service: str, name: str = "pytest") -> ScenarioContext:
        ctx = PytestContext(target=find_service(twin_target, service), settings=twin_target.settings, tally=StrictTally(),
                            session=session, scenario=Scenario(name=name, func=lambda c: None, rules=()))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        for func in reversed(ctx._cleanups):
            with contextlib.suppress(Exception):  # clean-up is best effort
                func()
    session.close()


def run_in_pytest(func: Callable[[ScenarioContext], Any], ctx: ScenarioContext) -> None:
    """Run a scenario function inside a test (its skips skip the test; a failure fails it)."""
    try:
        func(ctx)
    except Skip as skip:
        pytest.skip(str(skip))
    except StopScenario as stop:
        pytest.fail(str(stop), pytrace=False)
