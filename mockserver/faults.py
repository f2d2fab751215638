"""Injected faults: latency and/or an error status for requests matching a pattern, N times."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from .errors import ApiError


@dataclass
class Fault:
    """Delay and/or fail requests whose method and path match, `remaining` times (None = forever)."""

    path: str
    method: str = "*"
    status: int | None = None
    latency_ms: int = 0
    remaining: int | None = 1
    message: str = "errMsg_injectedFault"
    count: int | None = 1  # as given; `remaining` counts down from it

    def __post_init__(self) -> None:
        # A pattern is a glob (`*/v1/enrollments*`) unless it is written as /regex/.
        if self.path.startswith("/") and self.path.endswith("/") and len(self.path) > 2 and "*" not in self.path:
            self._regex = re.compile(self.path[1:-1])
        else:
            self._regex = re.compile(fnmatch.translate(self.path))

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and bool(self._regex.match(path))

    def public(self) -> dict[str, Any]:
        """The fault as the control API shows it, in the names it is given by (`latencyMs`, `count`),
        with `remaining`: the uses left (null: forever)."""
        return {"path": self.path, "method": self.method, "status": self.status, "latencyMs": self.latency_ms,
                "count": self.count, "remaining": self.remaining, "message": self.message}


def fault_from_json(data: Any) -> Fault:
    """Validate a control-API fault description (400 ApiError when it is not one)."""
    if not isinstance(data, dict) or not isinstance(data.get("path"), str) or not data["path"]:
        raise ApiError(400, "errMsg_faultPathIsRequired", "give 'path' (a glob such as */v1/enrollments*)")
    status = data.get("status")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise ApiError(400, "errMsg_faultStatusIsNotValid", "status must be an integer 400–599")
    latency = data.get("latencyMs", 0)
    if not isinstance(latency, int) or not 0 <= latency <= 60_000:
        raise ApiError(400, "errMsg_faultLatencyIsNotValid", "latencyMs must be an integer 0–60000")
    count = data.get("count", 1)
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ApiError(400, "errMsg_faultCountIsNotValid", "count must be a positive integer or null (forever)")
    if status is None and not latency:
        raise ApiError(400, "errMsg_faultDoesNothing", "give a status, a latencyMs, or both")
    return Fault(path=data["path"], method=str(data.get("method", "*")).upper(), status=status, latency_ms=latency,
                 remaining=count, message=str(data.get("message") or "errMsg_injectedFault"), count=count)


class FaultSet:
    """The active faults, consumed in order of registration."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, counting one use of it."""
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None
