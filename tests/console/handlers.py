"""The console tests' handler, for a real worker process:
``HOOKQ_HANDLER_MODULES=tests.console.handlers``.

``flaky`` takes ``standard.order.*`` and fails with ``RuntimeError("downstream unavailable")``
while the Redis key ``Switch(names).key`` exists ("fails until told otherwise"), and always for
a payload with ``"poison": true``. One attempt: a failure is dead at once. Each successful run
adds one to ``Switch(names).effects`` (a hash: delivery id -> runs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import redis.asyncio as aioredis

from hookq.handlers import HandlerContext, handler
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names

EVENT_TYPE = "order.created"
_client: list[aioredis.Redis] = []


@dataclass(frozen=True, slots=True)
class Switch:
    names: Names

    @property
    def key(self) -> str:
        return self.names.redis_key("test", "flaky", "failing")

    @property
    def effects(self) -> str:
        return self.names.redis_key("test", "flaky", "effects")


def _redis() -> aioredis.Redis:
    if not _client:
        _client.append(aioredis.from_url(os.environ["HOOKQ_REDIS_URL"]))
    return _client[0]


@handler("standard.order.*", name="flaky", max_attempts=1, timeout=5)
async def flaky(event: StandardEvent, ctx: HandlerContext) -> None:
    switch = Switch(Names(os.environ["HOOKQ_NAMESPACE"]))
    client = _redis()
    if (event.model_extra or {}).get("poison") or await client.exists(switch.key):
        raise RuntimeError("downstream unavailable")
    await client.hincrby(switch.effects, ctx.delivery_id, 1)
