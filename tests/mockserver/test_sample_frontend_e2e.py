"""The frontend's own app against `twin serve`, unchanged: Mindbricks login, cookies, one origin
per project.

- The auth API on `tutorhub.localhost:<port>` over plain HTTP, as the issue's "done when" states it.
- The sample frontend (`examples/frontend`) in headless Chromium (Debian's `/usr/bin/chromium`,
  driven by Playwright): served by a tiny static server at `http://workforceos.localhost:<p>`, it
  calls the twin at `http://workforceos.localhost:<twin port>` — another origin of the same site,
  so CORS with credentials and the session cookie carry it (no Bearer header in the app at all).
  It logs in with the form, lists the company's subscriptions, creates one, pays on the fake
  Stripe's hosted checkout and is back in the app showing it paid; a wrong password shows the error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from twin_process import ROOT, twin_serve

FRONTEND = ROOT / "examples" / "frontend"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ENROLLMENTS = "/enrollmentmanagement-api/v1/enrollmentpayments"


@pytest.fixture(scope="module")
def served() -> Iterator[int]:
    """`twin serve` (every committed spec) on a free port; yields the port."""
    with twin_serve() as twin:
        yield twin.port


@pytest.fixture
async def http(served: int) -> AsyncIterator[aiohttp.ClientSession]:
    """A client of the served twin that keeps no cookies (each test sends what it means to)."""
    async with aiohttp.ClientSession(f"http://127.0.0.1:{served}", cookie_jar=aiohttp.DummyCookieJar()) as session:
        async with session.post("/__twin/reset", json={}) as response:
            assert response.status == 200
        yield session


async def persona(http: aiohttp.ClientSession, project: str, name: str) -> dict[str, Any]:
    async with http.get("/__twin/personas", params={"project": project}) as response:
        return next(p for p in (await response.json())["personas"] if p["name"] == name)


async def test_the_auth_api_on_the_project_host_of_twin_serve(http: aiohttp.ClientSession, served: int):
    host = {"Host": f"tutorhub.localhost:{served}"}
    student = await persona(http, "tutorhub", "student1")
    credentials = {"username": student["email"], "password": student["password"]}

    async with http.post("/auth-api/login", json=credentials, headers=host) as response:
        session = await response.json()
        assert response.status == 200, session
        assert {"accessToken", "userId", "sessionId"} <= session.keys() and session["userId"] == student["userId"]
        cookie = response.cookies["tutorhub-access-token"].value
        assert cookie == session["accessToken"]
    token = {"Authorization": f"Bearer {session['accessToken']}"}
    by_cookie = {"Cookie": f"tutorhub-access-token={cookie}"}

    for how in (token, by_cookie):
        async with http.get("/auth-api/currentuser", headers={**host, **how}) as response:
            assert response.status == 200 and await response.json() == session
        async with http.get(ENROLLMENTS, headers={**host, **how}) as response:
            body = await response.json()
            assert response.status == 200 and body["userId"] == student["userId"], body

    async with http.post("/auth-api/login", json={**credentials, "password": "wrong"}, headers=host) as response:
        assert response.status == 401 and (await response.json())["message"] == "errMsg_invalidCredentials"

    async with http.post("/auth-api/logout", headers={**host, **by_cookie}) as response:
        assert response.status == 200
    for how in (token, by_cookie):
        async with http.get("/auth-api/currentuser", headers={**host, **how}) as response:
            assert response.status == 401 and await response.json() == {"status": "ERR", "message": "No login found"}
        async with http.get(ENROLLMENTS, headers={**host, **how}) as response:
            assert response.status == 401


# -- the sample frontend in a browser ------------------------------------------------------------
@pytest.fixture
async def frontend_port() -> AsyncIterator[int]:
    """The sample frontend's files, served as a dev server would (plain static files)."""
    app = web.Application()

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(FRONTEND / "index.html")

    app.router.add_get("/", index)
    app.router.add_static("/", FRONTEND)
    server = TestServer(app, port=unused_port())
    await server.start_server()
    yield server.port or 0
    await server.close()


@pytest.fixture
async def page(http: aiohttp.ClientSession) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context()
        opened = await context.new_page()
        opened.set_default_timeout(10_000)
        yield opened
        await browser.close()


def app_url(frontend_port: int, twin_port: int) -> str:
    return f"http://workforceos.localhost:{frontend_port}/index.html?twin=http://workforceos.localhost:{twin_port}"


async def log_in(page: Any, email: str, password: str, tenant: str = "babil") -> None:
    await page.wait_for_selector("#login-form")
    await page.fill("#tenant", tenant)
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("#login-button")


@pytest.mark.browser
async def test_the_sample_frontend_logs_in_subscribes_and_pays_through_the_hosted_checkout(
        page: Any, http: aiohttp.ClientSession, served: int, frontend_port: int):
    owner = await persona(http, "workforceos", "babil-owner")
    await page.goto(app_url(frontend_port, served))
    await log_in(page, owner["email"], owner["password"])

    await page.wait_for_selector("#app:not([hidden])")
    assert await page.inner_text("#current-user") == f"{owner['fullname']} · {owner['email']} · tenantOwner · babil"
    assert await page.locator("#records tr").count() == 0
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["workforceos-access-token-babil"]["httpOnly"] is True

    await page.click("#subscribe")
    row = page.locator("#records tr").first
    await row.locator("button.pay").wait_for()
    assert (await row.locator("td").nth(1).inner_text(), await row.locator("td").nth(2).inner_text()) == \
        ("pending", "pending")

    await row.locator("button.pay").click()
    await page.wait_for_url("**/stripe/checkout/**")
    await page.click("#pay")
    back = f"http://workforceos.localhost:{frontend_port}/index.html?"
    await page.wait_for_url(lambda url: url.startswith(back) and url.endswith("paid=1"))
    await page.wait_for_function("document.getElementById('notice').textContent.includes('active')")
    row = page.locator("#records tr").first
    assert (await row.locator("td").nth(1).inner_text(), await row.locator("td").nth(2).inner_text()) == \
        ("active", "paid")
    assert await row.locator("button.pay").count() == 0


@pytest.mark.browser
async def test_the_sample_frontend_shows_a_wrong_password_and_logs_out(
        page: Any, http: aiohttp.ClientSession, served: int, frontend_port: int):
    owner = await persona(http, "workforceos", "babil-owner")
    await page.goto(app_url(frontend_port, served))
    await log_in(page, owner["email"], "not-the-password")
    await page.wait_for_function("document.getElementById('login-error').textContent !== ''")
    assert "wrong password" in await page.inner_text("#login-error")
    assert await page.is_hidden("#app")

    await log_in(page, owner["email"], owner["password"])
    await page.wait_for_selector("#app:not([hidden])")
    await page.click("#logout")
    await page.wait_for_selector("#login:not([hidden])")
    await page.reload()
    await page.wait_for_selector("#login:not([hidden])")  # the session is gone, not just hidden
