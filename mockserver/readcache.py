"""Answers of the generic reads (get and list), memoized between writes.

A frontend reads the same things over and over (re-renders, polling) and writes now and then. The
twin keeps each read's answer — everything but the per-request envelope fields (`requestId`,
`cacheKey`, `elapsedMs`) — under the request as sent: route, query string, token and tenant header.
An answer is reused only while nothing could have changed it: every write to any table bumps the
world's revision, and so does every request that is not a read (control API, Stripe, callbacks —
the service plane, pipeline.py), a reset, a restore and any move of the clock. Reads with a date special
(`$today`, `$week`, …) are never kept: their answer moves with the time of day. Nothing is kept
while a mutant is active.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from .world import World

LIMIT = 1024
"""Answers kept per operation; the whole set is dropped when it is full (reads repeat, mostly)."""


# Stand-ins for the per-request fields while an answer is encoded once; each is then cut out.
_ELAPSED = 987654321.125
_REQUEST_ID = "00000000-7717-4e77-8e77-000000000000"
_CACHE_KEY = _REQUEST_ID.replace("-", "")
_FIELDS = ((b'"elapsedMs":', orjson.dumps(_ELAPSED)), (b'"cacheKey":"', _CACHE_KEY.encode()),
           (b'"requestId":"', _REQUEST_ID.encode()))


@dataclass(slots=True, frozen=True)
class Answer:
    """An encoded answer cut around its per-request envelope fields (elapsedMs, cacheKey and
    requestId, in the envelope's order): `parts` are the four pieces between them."""

    stamp: tuple[int, int]
    status: int
    user_id: str | None
    parts: tuple[bytes, bytes, bytes, bytes]

    def body(self, elapsed_ms: float, request_id: str) -> bytes:
        """The answer as sent now, with this request's own fields."""
        first, second, third, rest = self.parts
        return b"".join((first, orjson.dumps(elapsed_ms), second, request_id.replace("-", "").encode(), third,
                         request_id.encode(), rest))


def answer(stamp: tuple[int, int], status: int, user_id: str | None, body: dict[str, Any],
           encode: Callable[[Any], bytes]) -> Answer | None:
    """The kept form of a success envelope (None if its per-request fields cannot be found)."""
    rest = encode({**body, "elapsedMs": _ELAPSED, "cacheKey": _CACHE_KEY, "requestId": _REQUEST_ID})
    parts = []
    for key, stand_in in _FIELDS:
        # The envelope's own fields come before the resource, so the first match is theirs.
        head, found, rest = rest.partition(key + stand_in)
        if not found:
            return None
        parts.append(head + key)
    return Answer(stamp=stamp, status=status, user_id=user_id, parts=(parts[0], parts[1], parts[2], rest))


class ReadCache:
    """The kept answers of one read operation."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._answers: dict[tuple[str, str | None, str | None], Answer] = {}

    def stamp(self) -> tuple[int, int]:
        """The state an answer computed now belongs to: the world's revision and the clock's."""
        world = self._world
        return world.revision.value, world.clock.generation

    def get(self, key: tuple[str, str | None, str | None]) -> Answer | None:
        """The kept answer to this request, if the world has not changed since it was computed."""
        answer = self._answers.get(key)
        return answer if answer is not None and answer.stamp == self.stamp() else None

    def put(self, key: tuple[str, str | None, str | None], answer: Answer) -> None:
        """Keep an answer (computed at `answer.stamp`, taken before computing it)."""
        if len(self._answers) >= LIMIT:
            self._answers.clear()
        self._answers[key] = answer
