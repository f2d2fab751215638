"""Large control answers written in pieces, so the event loop serves other requests in between.

`GET /__twin/state` of a big twin is hundreds of megabytes of JSON; encoded in one go it held the
loop for seconds. Here each table's stored JSON is spliced in (never decoded) a batch at a time, and
long lists of objects (the fake Stripe's events, state) are encoded a slice at a time, with a yield
to the loop after every batch or slice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from aiohttp import web

from .store import Table

BATCH = 2000  # records per write: well under a millisecond of joining
SLICE = 200  # objects encoded between two yields to the loop
FLUSH = 1 << 20


class Rows:
    """A long list in a document to stream: each item rendered (`render`) and encoded a slice at a time."""

    __slots__ = ("items", "render")

    def __init__(self, items: Iterable[Any], render: Callable[[Any], Any] | None = None) -> None:
        self.items = items
        self.render = render


class TableRecords:
    """A table in a document to stream: written as the JSON array of its records, as stored."""

    __slots__ = ("table",)

    def __init__(self, table: Table) -> None:
        self.table = table


async def stream_json(request: web.Request, document: Any, status: int = 200) -> web.StreamResponse:
    """Answer `document` as JSON, written in pieces; `TableRecords` values are spliced in batches."""
    response = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
    await response.prepare(request)
    buffer = bytearray()

    async def flush(force: bool = False) -> None:
        if buffer and (force or len(buffer) >= FLUSH):
            await response.write(bytes(buffer))
            buffer.clear()

    async def write(value: Any) -> None:
        if isinstance(value, TableRecords):
            table = value.table
            buffer.extend(b"[")
            for start in range(0, table.total, BATCH):
                if start:
                    buffer.extend(b",")
                buffer.extend(b",".join(r.json for r in table.raw(range(start, min(start + BATCH, table.total)))))
                await flush()
                await asyncio.sleep(0)  # let waiting requests in between batches
            buffer.extend(b"]")
        elif isinstance(value, Rows):
            buffer.extend(b"[")
            render = value.render
            for index, item in enumerate(value.items):
                if index:
                    buffer.extend(b",")
                buffer.extend(orjson.dumps(render(item) if render else item))
                if index % SLICE == SLICE - 1:
                    await flush()
                    await asyncio.sleep(0)
            buffer.extend(b"]")
        elif isinstance(value, dict):
            buffer.extend(b"{")
            for index, (key, item) in enumerate(value.items()):
                if index:
                    buffer.extend(b",")
                buffer.extend(orjson.dumps(str(key)))
                buffer.extend(b":")
                await write(item)
            buffer.extend(b"}")
        elif isinstance(value, list):
            buffer.extend(b"[")
            for index, item in enumerate(value):
                if index:
                    buffer.extend(b",")
                await write(item)
            buffer.extend(b"]")
        else:
            buffer.extend(orjson.dumps(value))

    await write(document)
    await flush(force=True)
    await response.write_eof()
    return response
