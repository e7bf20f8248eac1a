"""A recording handler for worker processes: ``HOOKQ_HANDLER_MODULES=tests.support.handlers``.

``recorder`` handles every ``standard.*`` event. Each run appends a JSON record
``{"delivery_id", "attempt", "pid"}`` to the Redis list ``Recording(names).starts``; a run that
completes then adds one to ``Recording(names).effects`` (a hash: delivery id -> count), so a
test counts effects per event. The payload's extra fields steer the run:

- ``sleep``: seconds to spend before the effect (lets a test kill or stop mid-handler);
- ``fail_until``: raise ``RuntimeError`` while the attempt is below this number;
- ``reject``: raise ``Reject``.

Redis URL and namespace come from the worker's own ``HOOKQ_REDIS_URL`` and ``HOOKQ_NAMESPACE``.
Retries are fast (tiers 0.2 s, 0.4 s) and the timeout (2 s) is below a 3 s claim lease.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis

from hookq.handlers import Backoff, HandlerContext, Reject, handler
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names

RECORDER_TIMEOUT = 2.0
_client: list[aioredis.Redis] = []  # this process's connection, made inside its event loop


@dataclass(frozen=True, slots=True)
class Recording:
    """Where ``recorder`` writes, for a namespace."""

    names: Names

    @property
    def starts(self) -> str:
        return self.names.redis_key("test", "starts")

    @property
    def effects(self) -> str:
        return self.names.redis_key("test", "effects")

    async def start_records(self, client: aioredis.Redis) -> list[dict[str, object]]:
        return [orjson.loads(raw) for raw in await client.lrange(self.starts, 0, -1)]

    async def effect_counts(self, client: aioredis.Redis) -> dict[str, int]:
        raw = await client.hgetall(self.effects)
        return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}


def _redis() -> aioredis.Redis:
    if not _client:
        _client.append(aioredis.from_url(os.environ["HOOKQ_REDIS_URL"]))
    return _client[0]


@handler(
    "standard.#",
    name="recorder",
    max_attempts=3,
    backoff=Backoff(base=0.2, factor=2.0, jitter=False),
    timeout=RECORDER_TIMEOUT,
)
async def recorder(event: StandardEvent, ctx: HandlerContext) -> None:
    recording = Recording(Names(os.environ["HOOKQ_NAMESPACE"]))
    client = _redis()
    record = {"delivery_id": ctx.delivery_id, "attempt": ctx.attempt, "pid": os.getpid()}
    await client.rpush(recording.starts, orjson.dumps(record))
    extra = event.model_extra or {}
    await asyncio.sleep(float(extra.get("sleep", 0)))
    if extra.get("reject"):
        raise Reject("asked to reject")
    if ctx.attempt < int(extra.get("fail_until", 0)):
        raise RuntimeError(f"asked to fail until attempt {extra['fail_until']}")
    await client.hincrby(recording.effects, ctx.delivery_id, 1)
