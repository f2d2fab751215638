"""Shared fixtures for the twin's tests: a running twin (aiohttp test server) and persona tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer, unused_port
from twin_testing import Twin

from mockserver.app import create_app
from mockserver.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, driven by Playwright's async API (on the test's event loop)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def make_twin() -> AsyncIterator[Callable[..., Any]]:
    """Start a twin on the given specs (default: all) and return a `Twin`; stopped after the test.
    `settings={...}` takes `Settings` fields (its public URL is the test server's)."""
    started: list[TestClient] = []

    async def start(*specs: Path, **options: Any) -> Twin:
        port = unused_port()
        settings = Settings(**{"public_url": f"http://127.0.0.1:{port}", **options.pop("settings", {})})
        app = create_app(list(specs) or None, settings=settings, **options)
        client = TestClient(TestServer(app, port=port))
        await client.start_server()
        started.append(client)
        token = settings.control_token
        response = await client.get("/__twin/personas", headers={"Authorization": f"Bearer {token}"} if token else {})
        return Twin(client, (await response.json())["personas"])

    yield start
    for client in started:
        await client.close()


@pytest.fixture
async def twin(make_twin: Callable[..., Any]) -> AsyncIterator[Twin]:
    """A twin serving all three committed specs."""
    yield await make_twin()
