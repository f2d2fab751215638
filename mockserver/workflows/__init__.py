"""Per-service business workflows, looked up by project and service name."""

from __future__ import annotations

import importlib

from .base import Workflow


def workflow_for(project: str, service: str) -> Workflow:
    """The workflow module's `WORKFLOW` for this service, or the generic one when there is none."""
    try:
        module = importlib.import_module(f"mockserver.workflows.{project.lower()}")
    except ModuleNotFoundError as error:
        if error.name != f"mockserver.workflows.{project.lower()}":
            raise
        return Workflow()
    workflows = getattr(module, "WORKFLOWS", {})
    return workflows.get(service, Workflow())


__all__ = ["Workflow", "workflow_for"]
