"""The transactional scenario's handler and hook, loaded by its worker processes.

``rel-tx`` writes each effect as a row of ``<schema>.rel_effects`` through ``ctx.db`` (no unique
key: a second effect would be a second row). Two moments are made to happen on purpose, once
per marked event (a Redis ``SET NX`` decides the once, across processes), each announced on the
Redis list ``markers`` (``HOOKQ_TEST_EFFECTS_URL``, the shared Redis) so that the test kills the
announcing worker right then:

- ``hold``: the handler has written its effect and sleeps with its transaction open;
- ``pause_after_commit``: ``PauseAfterCommit``, a worker hook (``HOOKQ_HOOKS``), pauses at the
  start of the settle stage of a run that ended well: the transaction is committed (the run
  commits before it is settled), the message not yet acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson
import redis.asyncio as aioredis

from hookq.handlers import Backoff, HandlerContext, handler
from hookq.inbox.schema import quoted
from hookq.sources.standard.models import StandardEvent
from hookq.worker.hooks import Delivery, Hook, Stage

NAME = "rel-tx"
MARKERS = "HOOKQ_TEST_MARKERS_KEY"
EFFECTS_URL = "HOOKQ_TEST_EFFECTS_URL"
EFFECT_DELAY = "HOOKQ_TEST_EFFECT_DELAY"
HOLD = 2.5  # seconds a marked run holds its transaction open (below the 4 s timeout)
PAUSE = 2.5  # seconds a marked run pauses between its commit and its ack
FAST_RETRY = Backoff(base=0.5, factor=2.0, max_delay=2.0, jitter=False)
_clients: list[aioredis.Redis] = []


def _redis() -> aioredis.Redis:
    if not _clients:
        _clients.append(aioredis.from_url(os.environ[EFFECTS_URL]))
    return _clients[0]


async def announce(kind: str, delivery_id: str) -> bool:
    """Announce the moment (``kind``) for this event, the first time only: True if it was."""
    key = os.environ[MARKERS]
    if not await _redis().set(f"{key}:{kind}:{delivery_id}", 1, nx=True, ex=3600):
        return False
    entry = {"k": kind, "d": delivery_id, "pid": os.getpid(), "t": time.time()}
    await _redis().rpush(key, orjson.dumps(entry))
    return True


def _asked(event: Any, what: str) -> bool:
    data = getattr(event, "data", None)
    return isinstance(data, dict) and bool(data.get(what))


@handler("#", name=NAME, timeout=4.0, max_attempts=10, backoff=FAST_RETRY, transactional=True)
async def record_tx(event: StandardEvent, ctx: HandlerContext) -> None:
    delay = float(os.environ.get(EFFECT_DELAY, "0.005"))
    if delay > 0:
        await asyncio.sleep(delay)
    assert ctx.db is not None
    await ctx.db.execute(
        f"INSERT INTO {quoted(os.environ['HOOKQ_NAMESPACE'])}.rel_effects"
        " (handler, delivery_id, pid, attempt, at) VALUES ($1, $2, $3, $4, $5)",
        ctx.handler,
        ctx.delivery_id,
        os.getpid(),
        ctx.attempt,
        time.time(),
    )
    if _asked(event, "hold") and await announce("holding", ctx.delivery_id):
        await asyncio.sleep(HOLD)


class PauseAfterCommit(Hook):
    def around(self, stage: Stage, delivery: Delivery) -> AbstractAsyncContextManager[Any] | None:
        # Entering the settle stage of a run that returned: committed, not yet acked. (No
        # failure recorded: a Requeue after an outage would look the same; none happens here.)
        if stage is not Stage.SETTLE or delivery.run_seconds is None or delivery.failure:
            return None
        if not _asked(delivery.event, "pause_after_commit"):
            return None
        return self._pause(delivery)

    @contextlib.asynccontextmanager
    async def _pause(self, delivery: Delivery) -> AsyncIterator[None]:
        if await announce("committed", delivery.delivery_id):
            await asyncio.sleep(PAUSE)
        yield
