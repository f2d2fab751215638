"""The generated layer of one service in a process of its own.

Schemathesis spends the suite's CPU in Python (Hypothesis draws, requests, checks), so services
judged in threads of one process take turns on one core. Each service's engine therefore runs in a
child `python -m contracts.generated_process` (not `multiprocessing`, which would import the
caller's `__main__` again): it gets the service, the settings and the modules whose response
checks are registered over stdin, and answers the results, the tallies and the records it created
over stdout; the parent merges them into the run's tally as if the engine had run in-process.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pickle
import subprocess
import sys

from .checks import REGISTRY
from .results import FAIL, RuleResult, Tally
from .target import ServiceTarget, Settings


def check_modules() -> list[str] | None:
    """The modules that register the response checks now in `REGISTRY`, for a child to import;
    None when one cannot be imported by name (registered by a script or an interactive session),
    or when there is only one core to share."""
    if (os.cpu_count() or 1) < 2:
        return None
    modules = sorted({check.func.__module__ for check in REGISTRY.values()})
    if any(name in ("__main__", "__mp_main__") or name.startswith("<") for name in modules):
        return None
    return modules


def run_generated_apart(service: ServiceTarget, settings: Settings, tally: Tally, modules: list[str]) -> list[RuleResult]:
    """Run the generated layer of `service` in a child process; its verdicts go to `tally`."""
    # Hooks and static data serve the scenarios only; the child needs the spec and the identities.
    job = pickle.dumps((dataclasses.replace(service, hooks={}, data={}), settings, modules))
    env = dict(os.environ)
    # the child finds what this process imports (a plugin found through the caller's sys.path too)
    env["PYTHONPATH"] = os.pathsep.join(path or os.getcwd() for path in sys.path)
    completed = subprocess.run([sys.executable, "-m", "contracts.generated_process"], input=job, capture_output=True,
                               env=env, check=False)
    try:
        results, data, created = pickle.loads(completed.stdout)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        detail = completed.stderr.decode(errors="replace").strip().splitlines()[-5:]
        return [RuleResult(service=service.name, layer="generated", rule="schemathesis.run", status=FAIL,
                           message=f"the generated layer's process ended with exit {completed.returncode} ({error}): "
                                   + " / ".join(detail))]
    tally.absorb(data, created)
    return list(results)


def _main() -> None:
    answer = sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever a module prints must not end up in the answer
    service, settings, modules = pickle.load(sys.stdin.buffer)
    for module in modules:
        importlib.import_module(module)
    from .generated import run_generated

    tally = Tally()
    results = run_generated(service, settings, tally)
    data, created = tally.export()
    answer.write(pickle.dumps((results, data, created)))
    answer.flush()


if __name__ == "__main__":
    _main()
