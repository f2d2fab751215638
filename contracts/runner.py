"""Runs the suite on a target: per service, the probes and scenarios (plain HTTP, fast and
deterministic), then the generated layer (Schemathesis); services run concurrently."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from .checks import REGISTRY
from .cleanup import LeftBehind, Snapshot, sweep
from .generated import run_generated
from .generated_process import check_modules, run_generated_apart
from .inventory import inventory
from .registry import load_builtins
from .results import FAIL, Report, RuleResult, Tally
from .scenarios.base import SCENARIOS, run_scenario, selected
from .target import ServiceTarget, Settings, Target

PROBES = ("auth.",)
# Schemathesis/Hypothesis compile code at run time, which CPython 3.11 does not do safely from
# several threads at once ("AST constructor recursion depth mismatch"): one engine at a time.
_GENERATED = threading.Lock()


def _is_probe(name: str) -> bool:
    return name.startswith(PROBES)


def plan(service: ServiceTarget, settings: Settings) -> list[str]:
    """The scenario names that run on `service`, in order (probes first)."""
    names = [s.name for s in SCENARIOS.values() if s.applies_to(service) and selected(s, settings.only)]
    wanted = []
    for name in names:
        layer = "probes" if _is_probe(name) else "scenarios"
        if layer in settings.layers:
            wanted.append(name)
    return sorted(wanted, key=lambda n: (not _is_probe(n), SCENARIOS[n].order))


def run_service(service: ServiceTarget, settings: Settings, tally: Tally,
                left: dict[str, list[LeftBehind]] | None = None,
                durations: dict[str, dict[str, float]] | None = None, apart: list[str] | None = None) -> list[RuleResult]:
    """Everything the suite checks on one service; what it could not clean up goes to `left`, the
    seconds each layer took to `durations`. With `apart` (the modules registering the response
    checks) the generated layer runs in a process of its own."""
    results: list[RuleResult] = []
    spent: dict[str, float] = {}
    with requests.Session() as session:
        started = time.perf_counter()
        before = Snapshot.take(service, session, settings.timeout) if settings.cleanup else None
        if before is not None:
            spent["clean-up"] = time.perf_counter() - started
        try:
            results.extend(_run_layers(service, settings, tally, session, spent, apart))
        finally:
            if before is not None:
                started = time.perf_counter()
                remains = sweep(service, tally.ledger, before, session, settings.timeout)
                spent["clean-up"] += time.perf_counter() - started
                if left is not None:
                    left[service.name] = remains
            if durations is not None:
                durations[service.name] = spent
    return results


def _run_layers(service: ServiceTarget, settings: Settings, tally: Tally, session: requests.Session,
                spent: dict[str, float], apart: list[str] | None) -> list[RuleResult]:
    results: list[RuleResult] = []
    for name in plan(service, settings):
        started = time.perf_counter()
        results.extend(run_scenario(SCENARIOS[name], service, settings, tally, session))
        layer = "probes" if _is_probe(name) else "scenarios"
        spent[layer] = spent.get(layer, 0.0) + time.perf_counter() - started
    if "generated" in settings.layers:
        try:
            if apart is not None:
                started = time.perf_counter()
                try:
                    results.extend(run_generated_apart(service, settings, tally, apart))
                finally:
                    spent["generated"] = time.perf_counter() - started
            else:
                with _GENERATED:
                    started = time.perf_counter()  # not the wait for another service's engine
                    try:
                        results.extend(run_generated(service, settings, tally))
                    finally:
                        spent["generated"] = time.perf_counter() - started
        except Exception as error:  # a run that cannot start is a failure of the run, never a pass
            results.append(RuleResult(service=service.name, layer="generated", rule="schemathesis.run", status=FAIL,
                                      message=f"{type(error).__name__}: {error}"))
    return results


def coverage_gaps(target: Target, tally: Tally) -> dict[str, list[str]]:
    """Per service, the operations whose rules never saw a successful answer (their success rules
    were never exercised: a PASS says nothing about them)."""
    succeeded = tally.succeeded()
    gaps = {}
    for service in target.services:
        missing = [op.api for op in service.spec.operations.values() if (service.name, op.api) not in succeeded]
        if missing:
            gaps[service.name] = missing
    return gaps


def verify(target: Target) -> Report:
    """Run the suite on every service of `target` and answer the report (with the built-in checks
    and scenarios, and whatever plugins registered before)."""
    load_builtins()
    started = time.perf_counter()
    settings = target.settings
    tally = Tally()
    results: list[RuleResult] = []
    left: dict[str, list[LeftBehind]] = {}
    durations: dict[str, dict[str, float]] = {}
    jobs = max(1, min(settings.jobs, len(target.services)))
    # Several services' Schemathesis engines run in processes of their own, side by side (in threads
    # they would take turns on one core), when the child can import every registered check.
    apart = check_modules() if jobs > 1 and "generated" in settings.layers else None
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="verify") as pool:
        futures = [pool.submit(run_service, service, settings, tally, left, durations, apart) for service in target.services]
        for future in futures:
            results.extend(future.result())
    judged_by_checks = "generated" in settings.layers or "scenarios" in settings.layers
    expected = [(s.name, op.api, name) for s in target.services for op in s.spec.operations.values()
                for name, check in REGISTRY.items() if check.applies(op)] \
        if judged_by_checks and not settings.only else []
    results.extend(tally.results(expected))
    gaps = coverage_gaps(target, tally) if judged_by_checks and not settings.only else {}
    unchecked: dict[str, list[str]] = {}
    for service in target.services:
        for rule in inventory(service):
            if not rule.checked:
                unchecked.setdefault(rule.guide, []).append(rule.statement)
    services: dict[str, dict[str, object]] = {
        s.name: {"baseUrl": s.base_url, "spec": str(s.spec.path.name), "operations": list(s.spec.operations),
                 "identities": [i.describe() for i in s.identities.values() if i.token],
                 "hooks": sorted(s.hooks), "generatedAs": (g.describe() if (g := s.generated_identity()) else None)}
        for s in target.services
    }
    return Report(results=results, services=services, duration=time.perf_counter() - started, coverage_gaps=gaps, unchecked=unchecked,
                  durations={s.name: durations[s.name] for s in target.services if s.name in durations},
                  left_behind={name: [{"object": item.object, "id": item.id, "reason": item.reason} for item in items]
                               for name, items in left.items() if items},
                  settings={"maxExamples": settings.max_examples, "seed": settings.seed, "phases": list(settings.phases),
                            "layers": list(settings.layers), "only": list(settings.only)})
