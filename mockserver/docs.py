"""`/__twin/docs`: an API reference page per served service, rendered by Swagger UI.

Swagger UI's files come from the `swagger-ui-py` package (installed with the twin) and are served
from here, so the page works offline: nothing loads from a CDN. Each page reads its service's spec
from `/__twin/docs/<slug>/openapi.json`, whose `servers` point at this twin (so "Try it out" calls
it), and shows every operation with the spec's examples.
"""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from .keys import SETTINGS, WORLD
from .pipeline import CONTROL_PREFIX
from .world import World

PREFIX = f"{CONTROL_PREFIX}/docs"


@functools.cache
def swagger_ui_dir() -> Path:
    """The directory of Swagger UI's distribution files shipped by `swagger-ui-py`."""
    import swagger_ui

    return Path(swagger_ui.__file__).resolve().parent / "static"


def _world(request: web.Request) -> World:
    return request.config_dict[WORLD]


def _origin(request: web.Request) -> str:
    public = request.config_dict[SETTINGS].public_url
    return str(public).rstrip("/") if public else f"{request.scheme}://{request.host}"


def _page(title: str, body: str, head: str = "") -> web.Response:
    text = (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>{head}</head><body>{body}</body></html>\n"
    )
    return web.Response(text=text, content_type="text/html")


async def index(request: web.Request) -> web.Response:
    """Links to every served service's reference page."""
    items = "".join(
        f"<li><a href=\"{PREFIX}/{html.escape(slug)}\">{html.escape(state.spec.project)} "
        f"{html.escape(state.spec.service)}</a> ({len(state.spec.operations)} operations)</li>"
        for slug, state in _world(request).services.items()
    )
    return _page("twin API docs", f"<h1>API reference</h1><ul>{items}</ul>")


async def spec(request: web.Request) -> web.Response:
    """The service's OpenAPI document, its servers replaced by this twin."""
    state = _world(request).services.get(request.match_info["slug"])
    if state is None:
        raise web.HTTPNotFound()
    document: dict[str, Any] = dict(state.spec.document)
    document["servers"] = [{"url": _origin(request) + state.spec.base_path, "description": "this twin"}]
    return web.json_response(document, dumps=lambda value: json.dumps(value, default=str))


async def page(request: web.Request) -> web.Response:
    """Swagger UI for one service (`?expand=full` opens every operation)."""
    slug = request.match_info["slug"]
    state = _world(request).services.get(slug)
    if state is None:
        raise web.HTTPNotFound()
    expansion = request.query.get("expand", "list")
    if expansion not in ("list", "full", "none"):
        expansion = "list"
    config = {"url": f"{PREFIX}/{slug}/openapi.json", "dom_id": "#swagger-ui", "deepLinking": True,
              "docExpansion": expansion, "defaultModelsExpandDepth": 0, "displayOperationId": True,
              "tryItOutEnabled": False, "validatorUrl": None,
              # Every operation open at once: plain-text examples render far faster than highlighted ones.
              "syntaxHighlight": {"activated": expansion != "full"}}
    head = f"<link rel=\"stylesheet\" href=\"{PREFIX}/static/swagger-ui.css\">"
    body = (
        "<div id=\"swagger-ui\"></div>"
        f"<script src=\"{PREFIX}/static/swagger-ui-bundle.js\"></script>"
        f"<script>window.ui = SwaggerUIBundle({json.dumps(config)});</script>"
    )
    return _page(f"{state.spec.project} {state.spec.service} — API reference", body, head)


async def static(request: web.Request) -> web.StreamResponse:
    """One of Swagger UI's files (a handler rather than aiohttp's static resource, whose own
    handler could not run inside the control plane's steps)."""
    folder = swagger_ui_dir()
    file = (folder / request.match_info["name"]).resolve()
    if file.parent != folder or not file.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(file)


def routes() -> list[web.RouteDef]:
    """The docs pages and Swagger UI's files, relative to the control plane's mount."""
    path = PREFIX.removeprefix(CONTROL_PREFIX)
    return [
        web.get(path, index),
        web.get(f"{path}/", index),
        web.get(f"{path}/static/{{name}}", static),
        web.get(f"{path}/{{slug}}", page),
        web.get(f"{path}/{{slug}}/openapi.json", spec),
    ]
