"""Never process without dedupe: Redis operations that pause while Redis is unreachable.

When an operation finds Redis down, the gate closes: that caller and every later one wait
(their messages stay unacked in RabbitMQ, so nothing is processed and nothing is lost), one
probe pings Redis with backoff, and the gate opens again by itself. The outage is logged once
when it starts and once when it ends, not once per message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
import structlog

from hookq.redis_client import REDIS_DOWN
from hookq.worker.inflight import InFlight

T = TypeVar("T")

log = structlog.get_logger("hookq.worker.redis")


class RedisGate:
    def __init__(
        self,
        client: aioredis.Redis,
        in_flight: InFlight,
        *,
        on_change: Callable[[bool], None] | None = None,
        max_probe_interval: float = 5.0,
        ping_timeout: float = 5.0,
    ) -> None:
        self._ping_timeout = ping_timeout
        self._client = client
        self._in_flight = in_flight
        self._on_change = on_change or (lambda _available: None)
        self._max_interval = max_probe_interval
        self._up = asyncio.Event()
        self._up.set()
        self._probe: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self.outages = 0

    def watch(self, interval: float = 5.0) -> None:
        """Ping Redis every ``interval`` seconds while it is up: an outage is then noticed (and
        ``/readyz`` says so) even while no message needs Redis."""
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_until_closed(interval))

    async def _watch_until_closed(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if not self._up.is_set():
                continue  # the probe is at work
            try:
                async with asyncio.timeout(self._ping_timeout):
                    await self._client.ping()
            except REDIS_DOWN as exc:
                self._close(exc)

    @property
    def available(self) -> bool:
        return self._up.is_set()

    async def run(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` (idempotent, and bounded in time by itself), waiting out Redis
        outages for as long as they last."""
        while True:
            if not self._up.is_set():
                with self._in_flight.waiting():
                    await self._up.wait()
            try:
                return await operation()
            except REDIS_DOWN as exc:
                self._close(exc)

    def _close(self, exc: BaseException) -> None:
        if not self._up.is_set():
            return
        self._up.clear()
        self._on_change(False)
        self.outages += 1
        log.error(
            "redis unavailable: pausing (messages wait in RabbitMQ until it is back)",
            error=f"{type(exc).__name__}: {exc}",
        )
        self._probe = asyncio.create_task(self._probe_until_up())

    async def _probe_until_up(self) -> None:
        interval = 0.1
        while True:
            await asyncio.sleep(interval)
            try:
                async with asyncio.timeout(self._ping_timeout):
                    await self._client.ping()
            except REDIS_DOWN:
                interval = min(interval * 2, self._max_interval)
                continue
            log.warning("redis available again: resuming")
            self._up.set()
            self._on_change(True)
            return

    async def close(self) -> None:
        for task in (self._probe, self._watch):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
