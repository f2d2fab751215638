"""The service plane's steps around a handler (mockserver/pipeline.py): when answers leave."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from twin_testing import TUTORHUB

from mockserver.app import load_services
from mockserver.faults import FaultSet
from mockserver.pipeline import Pipeline
from mockserver.routing import Handler
from mockserver.world import World


def recording(name: str, events: list[str]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        events.append(f"{name} handled")
        return web.Response(status=201)

    return handle


async def test_answers_of_one_loop_turn_leave_together_after_every_handler_of_the_turn_ran() -> None:
    # Requests that arrive together are answered together: no answer goes out between two handlers,
    # so a busy client is woken once for the burst rather than once per answer.
    pipeline = Pipeline(World(load_services([TUTORHUB])), FaultSet())
    events: list[str] = []

    async def serve(name: str, method: str) -> None:
        response = await pipeline.serve(make_mocked_request(method, f"/v1/{name}"), recording(name, events))
        events.append(f"{name} answered {response.status}")

    await asyncio.gather(serve("first", "POST"), serve("second", "GET"), serve("third", "DELETE"))

    assert events == ["first handled", "second handled", "third handled",
                      "first answered 201", "second answered 201", "third answered 201"]

