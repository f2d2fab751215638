"""`/__twin/docs`: an API reference per served service, rendered by Swagger UI from the twin's own
files (no CDN), linked from `/__twin/services`, and showing every operation with its example.

The browser test opens the page in Debian's headless Chromium with every request to anywhere
but the twin aborted, so it proves the page needs no network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from twin_testing import SPECS, TUTORHUB, Twin


def operations(spec_path: Any) -> list[tuple[str, str, dict[str, Any]]]:
    doc = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    return [(method.upper(), path, op) for path, item in doc["paths"].items() for method, op in item.items()]


async def test_services_link_to_their_docs_page(twin: Twin) -> None:
    status, body = await twin.call("GET", "/__twin/services")
    assert status == 200
    for service in body["services"]:
        assert service["docs"] == f"/__twin/docs/{service['slug']}"
        page = await twin.client.get(service["docs"])
        assert page.status == 200 and "swagger-ui-bundle.js" in await page.text()


async def test_the_docs_index_lists_every_service(twin: Twin) -> None:
    page = await twin.client.get("/__twin/docs")
    text = await page.text()
    for spec in sorted(SPECS.glob("*.yaml")):
        assert f'href="/__twin/docs/{spec.stem}"' in text


async def test_the_docs_spec_points_try_it_out_at_the_twin(twin: Twin) -> None:
    response = await twin.client.get("/__twin/docs/tutorhub-enrollmentmanagement/openapi.json")
    document = await response.json()
    assert document["servers"] == [{"url": str(twin.client.make_url("/enrollmentmanagement-api")),
                                    "description": "this twin"}]
    assert len(document["paths"]) > 0


async def test_an_unknown_service_has_no_docs_page(twin: Twin) -> None:
    response = await twin.client.get("/__twin/docs/nosuch-service")
    assert response.status == 404
    assert (await response.json())["message"] == "errMsg_routeNotFound"


async def test_swagger_ui_is_served_by_the_twin(twin: Twin) -> None:
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = await twin.client.get(f"/__twin/docs/static/{name}")
        assert response.status == 200 and len(await response.read()) > 10_000



@pytest.mark.browser
async def test_the_docs_page_renders_every_operation_with_its_example_offline(
    make_twin: Callable[..., Awaitable[Twin]], browser: Any
) -> None:
    twin = await make_twin(TUTORHUB)
    origin = urlsplit(str(twin.client.make_url("/")))
    blocked: list[str] = []

    async def local_only(route: Any) -> None:
        url = urlsplit(route.request.url)
        if (url.scheme, url.netloc) == (origin.scheme, origin.netloc) or url.scheme == "data":
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    context = await browser.new_context()
    await context.route("**/*", local_only)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(str(twin.client.make_url("/__twin/docs/tutorhub-enrollmentmanagement?expand=full")))
    ops = operations(TUTORHUB)
    for _ in range(120):  # Swagger UI renders after fetching the spec
        if await page.evaluate("document.querySelectorAll('.opblock').length") >= len(ops):
            break
        await asyncio.sleep(0.5)
    # Every operation is there, and its response example shows the spec's values (its own request id).
    texts = await page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('.opblock')].map(b => [b.id, b.textContent]))")
    for method, path, op in ops:
        text = texts.get(f"operations-{op['tags'][0]}-{op['operationId']}", "")
        assert method in text and path.split("{")[0] in text, op["operationId"]
        status = str(op["x-twin-status"])
        example = op["responses"][status]["content"]["application/json"]["example"]
        assert example["requestId"] in text, f"{op['operationId']}: its response example is not shown"
        if "requestBody" in op:
            body = op["requestBody"]["content"]["application/json"]["example"]
            first = next(iter(body.values()))
            shown = first if isinstance(first, str) else None
            assert shown is None or shown in text, f"{op['operationId']}: its request example is not shown"
    assert errors == []
    assert blocked == [], f"the page asked the network for {blocked}"
    await context.close()
