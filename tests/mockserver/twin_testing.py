"""Helpers for the twin's tests: spec paths, `Twin` (a test client with persona tokens) and
`spec_from_guide` (a guide's text → a spec file the twin can serve)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mockserver.keys import STRIPE
from mockserver.stripe import FakeStripe

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
    def app(self) -> web.Application:
        server = self.client.server
        assert isinstance(server, TestServer)  # the twin's own app, not a raw handler
        return server.app

    @property
    def stripe(self) -> FakeStripe:
        """The twin's own fake Stripe (its `/stripe` API in process, e.g. to drain webhooks)."""
        return self.app[STRIPE]

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


def spec_from_guide(folder: Path, text: str, name: str = "guide.txt") -> Path:
    """Parse a guide's text, emit its spec and write it as `<slug>.yaml` in `folder`."""
    from specs.build import render_yaml
    from specs.emitter import emit_openapi
    from specs.parser import parse_guide

    service = parse_guide(text, source=name)
    path = folder / f"{service.slug}.yaml"
    path.write_text(render_yaml(emit_openapi(service)), encoding="utf-8")
    return path


def synthetic_guides() -> Any:
    """The `specs_testing` module (the synthetic guide and its fragment builders) of tests/specs,
    which pytest puts on the path only when that folder is collected."""
    folder = str(Path(__file__).resolve().parents[1] / "specs")
    if folder not in sys.path:
        sys.path.append(folder)
    import specs_testing

    return specs_testing
