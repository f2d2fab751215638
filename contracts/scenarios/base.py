"""Scenarios: plain functions over a `ScenarioContext` that state rules and check them.

A scenario declares its rules up front; each `ctx.expect(rule, …)` records one verdict. A
failed expectation stops the scenario (later steps depend on it) and the rules it did not reach
are reported as skipped, naming the failure. `ctx.skip(reason)` (or `ctx.require(…)`) marks a
precondition the target cannot meet: every rule not yet judged is reported skipped with that
reason — never passed. Teams add their own with the same decorator:

    from contracts import ScenarioContext, scenario

    @scenario("myteam.enrollment-visible-to-tutor", projects=["tutorhub"], rules=["tutor-sees-it"])
    def tutor_sees_enrollment(ctx: ScenarioContext) -> None:
        ...
"""

from __future__ import annotations

import contextlib
import fnmatch
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import requests

from ..client import Api, Reply
from ..results import FAIL, PASS, SKIP, RuleResult, Tally
from ..spec import ServiceSpec
from ..target import Identity, ServiceTarget, Settings

Rules = tuple[str, ...] | Callable[[ServiceTarget], Iterable[str]]
T = TypeVar("T")


class Skip(Exception):
    """A precondition the target cannot meet; the message is the reason shown in the report."""


class StopScenario(Exception):
    """A fatal expectation failed; the rest of the scenario cannot run."""


@dataclass
class Scenario:
    """A registered scenario."""

    name: str
    func: Callable[[ScenarioContext], None]
    rules: Rules
    projects: tuple[str, ...] | None = None
    title: str = ""
    order: int = 50  # run order within a service: probes 0, business rules 50, what needs their rows later

    def applies_to(self, target: ServiceTarget) -> bool:
        return self.projects is None or target.project in self.projects

    def declared_rules(self, target: ServiceTarget) -> list[str]:
        rules = self.rules(target) if callable(self.rules) else self.rules
        return list(rules)


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, rules: Rules, projects: Iterable[str] | None = None,
             title: str = "", order: int = 50) -> Callable[[Callable[[ScenarioContext], None]], Callable[[ScenarioContext], None]]:
    """Register a scenario named `name` with its rules (a list, or a function of the target)."""
    def register(func: Callable[[ScenarioContext], None]) -> Callable[[ScenarioContext], None]:
        doc = (func.__doc__ or "").strip().splitlines()
        SCENARIOS[name] = Scenario(name=name, func=func, rules=rules, projects=tuple(projects) if projects else None,
                                   title=title or (doc[0] if doc else name), order=order)
        return func
    return register


@dataclass
class ScenarioContext:
    """What a scenario works with: the target, clients per identity, and the verdict recorder."""

    target: ServiceTarget
    settings: Settings
    tally: Tally
    session: requests.Session
    scenario: Scenario
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    results: list[RuleResult] = field(default_factory=list)
    _cleanups: list[Callable[[], Any]] = field(default_factory=list)
    _started: float = field(default_factory=time.perf_counter)
    _scratch: dict[str, Any] = field(default_factory=dict)
    last_reply: Reply | None = None

    @property
    def spec(self) -> ServiceSpec:
        """The facts of the service's spec (operations, objects, filters)."""
        return self.target.spec

    # -- identities ------------------------------------------------------------------------------
    def identity(self, name: str) -> Identity:
        """The identity `name` (or the first of that role); skips the scenario when not configured."""
        found = self.target.identity(name)
        if found is None or not found.token:
            self.skip(f"no identity {name!r} configured (set TWIN_TOKEN_{self.target.project.upper()}_{name.upper()} "
                      f"or services.{self.target.name}.identities.{name} in the config)")
        return found

    def api(self, name: str | None) -> Api:
        """A client calling as identity `name` (None: without a token)."""
        identity = self.identity(name) if name is not None else None
        return Api(self.target, identity, self.session, self.tally, self.settings.timeout, observe=self._observe)

    def anonymous(self) -> Api:
        return Api(self.target, None, self.session, self.tally, self.settings.timeout, observe=self._observe)

    def _observe(self, reply: Reply) -> None:
        self.last_reply = reply

    # -- verdicts --------------------------------------------------------------------------------
    def _rule(self, rule: str) -> str:
        return f"{self.scenario.name}/{rule}"

    def _record(self, rule: str, status: str, message: str, operation: str | None) -> None:
        self.results.append(RuleResult(
            service=self.target.name, layer="scenario", rule=self._rule(rule), status=status, operation=operation,
            message=message, passed=int(status == PASS), failed=int(status == FAIL),
            duration=time.perf_counter() - self._started,
            exchange=self.last_reply.exchange_text() if status == FAIL and self.last_reply is not None else None,
        ))

    def expect(self, rule: str, condition: bool, message: str, *, operation: str | None = None, fatal: bool = True) -> bool:
        """Record `rule` as passed when `condition` holds, else failed with `message` (and stop, when fatal)."""
        if condition:
            if not any(r.rule == self._rule(rule) and r.operation == operation and r.status == PASS for r in self.results):
                self._record(rule, PASS, "", operation)
            return True
        self._record(rule, FAIL, message, operation)
        if fatal:
            raise StopScenario(f"{rule} failed")
        return False

    def passed(self, rule: str, *, operation: str | None = None) -> None:
        """Record `rule` as holding."""
        self.expect(rule, True, "", operation=operation)

    def skip_rule(self, rule: str, reason: str, *, operation: str | None = None) -> None:
        """Record `rule` as skipped (its precondition is unmet) and carry on with the others."""
        self._record(rule, SKIP, f"skipped: {reason}", operation)

    def fail(self, rule: str, message: str, *, operation: str | None = None) -> NoReturn:
        """Record `rule` as failed and stop."""
        self.expect(rule, False, message, operation=operation)
        raise StopScenario(rule)

    def skip(self, reason: str) -> NoReturn:
        """The target cannot meet a precondition: the remaining rules are skipped with `reason`."""
        raise Skip(reason)

    def require(self, condition: Any, reason: str) -> None:
        """Skip unless `condition` holds."""
        if not condition:
            self.skip(reason)

    def cleanup(self, func: Callable[[], Any]) -> None:
        """Run `func` after the scenario (best effort: a failing clean-up is not a rule failure)."""
        self._cleanups.append(func)

    def unique(self, prefix: str = "") -> str:
        """A token unique to this run and call (for values that must match only our records)."""
        self._scratch["n"] = self._scratch.get("n", 0) + 1
        return f"{prefix}{self.run_id}{self._scratch['n']:02d}"

    def wait_for(self, probe: Callable[[], T], timeout: float | None = None, interval: float = 0.05) -> T:
        """Poll `probe` until it answers something truthy or `timeout` passes; answers its last value."""
        deadline = time.monotonic() + (self.settings.payment_wait if timeout is None else timeout)
        value = probe()
        while not value and time.monotonic() < deadline:
            time.sleep(interval)
            interval = min(interval * 1.5, 0.5)
            value = probe()
        return value


def run_scenario(item: Scenario, target: ServiceTarget, settings: Settings, tally: Tally,
                 session: requests.Session) -> list[RuleResult]:
    """Run one scenario; answers a result for each declared rule (and any extra one it recorded)."""
    ctx = ScenarioContext(target=target, settings=settings, tally=tally, session=session, scenario=item)
    declared = item.declared_rules(target)
    leftover_status, leftover_reason = SKIP, ""
    try:
        item.func(ctx)
    except Skip as skip:
        leftover_reason = f"skipped: {skip}"
    except StopScenario as stop:
        leftover_reason = f"not reached: {stop}"
    except requests.RequestException as error:
        ctx._record("completes", FAIL, f"request failed: {error}", None)
        leftover_reason = "not reached: a request failed"
    except Exception as error:  # a scenario bug or an unexpected answer shape is a failure, not a pass
        ctx._record("completes", FAIL, f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=4)}", None)
        leftover_reason = f"not reached: {type(error).__name__}"
    finally:
        for func in reversed(ctx._cleanups):
            with contextlib.suppress(Exception):  # clean-up is best effort by design
                func()
    seen = {r.rule for r in ctx.results}
    for rule in declared:
        if ctx._rule(rule) not in seen:
            ctx.results.append(RuleResult(service=target.name, layer="scenario", rule=ctx._rule(rule),
                                          status=leftover_status, message=leftover_reason or "not reached"))
    return ctx.results


def selected(item: Scenario, patterns: Iterable[str]) -> bool:
    """True when no pattern is given or one matches the scenario's name (shell-style)."""
    patterns = list(patterns)
    return not patterns or any(fnmatch.fnmatch(item.name, p) or item.name.startswith(p.rstrip("*")) for p in patterns)
