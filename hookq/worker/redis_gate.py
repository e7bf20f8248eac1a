"""Never process without dedupe: Redis operations that pause while Redis is unreachable
(``hookq.worker.gate``, for Redis)."""

from __future__ import annotations

from collections.abc import Callable

import redis.asyncio as aioredis

from hookq.redis_client import REDIS_DOWN
from hookq.worker.gate import Gate
from hookq.worker.inflight import InFlight


def redis_down(exc: BaseException) -> bool:
    return isinstance(exc, REDIS_DOWN)


class RedisGate(Gate):
    def __init__(
        self,
        client: aioredis.Redis,
        in_flight: InFlight,
        *,
        on_change: Callable[[bool], None] | None = None,
        max_probe_interval: float = 5.0,
        ping_timeout: float = 5.0,
    ) -> None:
        super().__init__(
            "redis",
            client.ping,
            redis_down,
            in_flight,
            on_change=on_change,
            max_probe_interval=max_probe_interval,
            probe_timeout=ping_timeout,
        )
