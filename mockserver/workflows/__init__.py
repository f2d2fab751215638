"""Per-service business workflows, looked up by project and service name.

A project's module (`mockserver/workflows/<project>.py`) exposes `WORKFLOWS`, a mapping from the
guide's service name to a factory `(ServiceSpec) -> Workflow`; a service without one runs on the
generic engine alone, with the role table its spec states.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .base import Workflow

if TYPE_CHECKING:
    from ..specindex import ServiceSpec


def workflow_for(spec: ServiceSpec) -> Workflow:
    """The workflow of this service, or the generic one when its project has none."""
    name = f"mockserver.workflows.{spec.project.lower()}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return Workflow.for_spec(spec)
    factory = getattr(module, "WORKFLOWS", {}).get(spec.service)
    return factory(spec) if factory is not None else Workflow.for_spec(spec)


__all__ = ["Workflow", "workflow_for"]
