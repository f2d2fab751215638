"""Helpers for the twin's tests: spec paths and `Twin`, a test client with persona tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

SPECS = Path(__file__).resolve().parents[2] / "specs" / "openapi"
TUTORHUB = SPECS / "tutorhub-enrollmentmanagement.yaml"
WORKFORCEOS = SPECS / "workforceos-subscriptionmanagement.yaml"
AIRBNB = SPECS / "airbnb-bookingmanagement.yaml"


class Twin:
    """A test client plus the persona tokens, with small helpers that keep tests readable."""

    def __init__(self, client: TestClient, personas: list[dict[str, Any]]) -> None:
        self.client = client
        self.personas = {(p["project"], p["name"]): p for p in personas}

    @property
    def app(self) -> Any:
        return self.client.server.app

    def persona(self, project: str, name: str) -> dict[str, Any]:
        return self.personas[(project, name)]

    def headers(self, project: str, name: str, tenant: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.persona(project, name)['token']}"}
        if tenant:
            headers["mbx-company-codename"] = tenant
        return headers

    async def call(self, method: str, url: str, *, as_: tuple[str, str] | None = None, tenant: str | None = None,
                   **kwargs: Any) -> tuple[int, dict[str, Any]]:
        headers = dict(kwargs.pop("headers", {}))
        if as_ is not None:
            headers.update(self.headers(*as_, tenant=tenant))
        response = await self.client.request(method, url, headers=headers, **kwargs)
        return response.status, await response.json()
