"""Runs the suite on a target: per service, the probes and scenarios (plain HTTP, fast and
deterministic), then the generated layer (Schemathesis); services run concurrently."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from . import scenarios as _scenarios  # noqa: F401  (registers the built-in scenarios)
from .checks import REGISTRY
from .generated import run_generated
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
    return sorted(wanted, key=lambda n: (not _is_probe(n), 0))


def run_service(service: ServiceTarget, settings: Settings, tally: Tally) -> list[RuleResult]:
    """Everything the suite checks on one service."""
    results: list[RuleResult] = []
    with requests.Session() as session:
        for name in plan(service, settings):
            results.extend(run_scenario(SCENARIOS[name], service, settings, tally, session))
    if "generated" in settings.layers:
        try:
            with _GENERATED:
                results.extend(run_generated(service, settings, tally))
        except Exception as error:  # a run that cannot start is a failure of the run, never a pass
            results.append(RuleResult(service=service.name, layer="generated", rule="schemathesis.run", status=FAIL,
                                      message=f"{type(error).__name__}: {error}"))
    return results


def verify(target: Target) -> Report:
    """Run the suite on every service of `target` and answer the report."""
    started = time.perf_counter()
    settings = target.settings
    tally = Tally()
    results: list[RuleResult] = []
    jobs = max(1, min(settings.jobs, len(target.services)))
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="verify") as pool:
        futures = [pool.submit(run_service, service, settings, tally) for service in target.services]
        for future in futures:
            results.extend(future.result())
    judged_by_checks = "generated" in settings.layers or "scenarios" in settings.layers
    expected = [(s.name, op.api, check) for s in target.services for op in s.spec.operations.values() for check in REGISTRY] \
        if judged_by_checks and not settings.only else []
    results.extend(tally.results(expected))
    services = {
        s.name: {"baseUrl": s.base_url, "spec": str(s.spec.path.name), "operations": list(s.spec.operations),
                 "identities": [i.describe() for i in s.identities.values() if i.token],
                 "hooks": sorted(s.hooks), "generatedAs": (s.generated_identity().describe() if s.generated_identity() else None)}
        for s in target.services
    }
    return Report(results=results, services=services, duration=time.perf_counter() - started,
                  settings={"maxExamples": settings.max_examples, "seed": settings.seed, "phases": list(settings.phases),
                            "layers": list(settings.layers), "only": list(settings.only)})
