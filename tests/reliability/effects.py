"""Handlers that record every effect durably, for the reliability suite to count.

A worker loads them with ``HOOKQ_HANDLER_MODULES=tests.reliability.effects``. Each run appends
one JSON record to a Redis list (``HOOKQ_TEST_EFFECTS_KEY`` at ``HOOKQ_TEST_EFFECTS_URL``,
the shared Redis, never the one a scenario restarts): the handler, the delivery id, the worker's
pid, the time and the attempt. The append is acknowledged before the handler returns, so an
effect recorded is an effect made, even if the worker is killed the next instant.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import orjson
import redis.asyncio as aioredis
from pydantic import BaseModel

from hookq.handlers import Backoff, HandlerContext, handler

EFFECTS_URL = "HOOKQ_TEST_EFFECTS_URL"
EFFECTS_KEY = "HOOKQ_TEST_EFFECTS_KEY"
# Seconds each run takes: long enough that a SIGKILL lands mid-batch, short for the suite.
EFFECT_DELAY = "HOOKQ_TEST_EFFECT_DELAY"
AFTER_EFFECT_DELAY = "HOOKQ_TEST_AFTER_EFFECT_DELAY"
# Redis connection of this process: made on first use, inside the worker's event loop.
_clients: dict[str, aioredis.Redis] = {}
FAST_RETRY = Backoff(base=0.5, factor=2.0, max_delay=2.0, jitter=False)


def _client() -> aioredis.Redis:
    url = os.environ[EFFECTS_URL]
    if url not in _clients:
        _clients[url] = aioredis.from_url(url)
    return _clients[url]


async def record(kind: str, ctx: HandlerContext, **extra: Any) -> None:
    entry = {
        "h": ctx.handler,
        "k": kind,
        "d": ctx.delivery_id,
        "s": ctx.source,
        "pid": os.getpid(),
        "t": time.time(),
        "a": ctx.attempt,
        **extra,
    }
    await _client().rpush(os.environ[EFFECTS_KEY], orjson.dumps(entry))


async def _effect(ctx: HandlerContext) -> None:
    delay = float(os.environ.get(EFFECT_DELAY, "0.005"))
    if delay > 0:
        await asyncio.sleep(delay)
    await record("effect", ctx)
    # Work after the effect (a log call, a second request): widens the window between the
    # effect and the done mark, where only a dead worker may cause a second run.
    after = float(os.environ.get(AFTER_EFFECT_DELAY, "0"))
    if after > 0:
        await asyncio.sleep(after)


@handler("#", name="rel-a", timeout=2.0, max_attempts=10, backoff=FAST_RETRY)
async def record_a(event: BaseModel, ctx: HandlerContext) -> None:
    await _effect(ctx)


@handler("#", name="rel-b", timeout=2.0, max_attempts=10, backoff=FAST_RETRY)
async def record_b(event: BaseModel, ctx: HandlerContext) -> None:
    await _effect(ctx)
