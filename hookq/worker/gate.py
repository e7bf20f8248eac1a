"""Never process without the store a claim lives in: operations that pause while it is down.

When an operation finds its service down (Redis for the dedupe marks, PostgreSQL for the
transactional inbox), the gate closes: that caller and every later one wait (their messages stay
unacked in RabbitMQ, so nothing is processed and nothing is lost), one probe tries the service
with backoff, and the gate opens again by itself. The outage is logged once when it starts and
once when it ends, not once per message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from hookq.worker.inflight import InFlight

T = TypeVar("T")

Probe = Callable[[], Awaitable[object]]  # succeeds when the service answers
IsDown = Callable[[BaseException], bool]  # is this error the service being unreachable?


class Gate:
    def __init__(
        self,
        service: str,
        probe: Probe,
        is_down: IsDown,
        in_flight: InFlight,
        *,
        on_change: Callable[[bool], None] | None = None,
        max_probe_interval: float = 5.0,
        probe_timeout: float = 5.0,
    ) -> None:
        self.service = service
        self._probe_once = probe
        self._is_down = is_down
        self._in_flight = in_flight
        self._on_change = on_change or (lambda _available: None)
        self._max_interval = max_probe_interval
        self._probe_timeout = probe_timeout
        self._log = structlog.get_logger(f"hookq.worker.{service}")
        self._up = asyncio.Event()
        self._up.set()
        self._probe: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self.outages = 0

    def watch(self, interval: float = 5.0) -> None:
        """Probe the service every ``interval`` seconds while it is up: an outage is then
        noticed (and ``/readyz`` says so) even while no message needs it."""
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_until_closed(interval))

    async def _watch_until_closed(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if not self._up.is_set():
                continue  # the probe is at work
            try:
                async with asyncio.timeout(self._probe_timeout):
                    await self._probe_once()
            except Exception as exc:
                if self._is_down(exc):
                    self.report_down(exc)

    @property
    def available(self) -> bool:
        return self._up.is_set()

    def is_down(self, exc: BaseException) -> bool:
        return self._is_down(exc)

    async def wait_open(self) -> None:
        """Until the service is up (at once when it is): a wait the stop may cancel."""
        if not self._up.is_set():
            with self._in_flight.waiting():
                await self._up.wait()

    async def run(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` (idempotent, and bounded in time by itself), waiting out outages
        for as long as they last."""
        while True:
            if not self._up.is_set():  # here, not in wait_open: no coroutine per call when up
                await self.wait_open()
            try:
                return await operation()
            except Exception as exc:
                if not self._is_down(exc):
                    raise
                self.report_down(exc)

    def report_down(self, exc: BaseException) -> None:
        """Close the gate (an operation outside ``run`` found the service down)."""
        if not self._up.is_set():
            return
        self._up.clear()
        self._on_change(False)
        self.outages += 1
        self._log.error(
            f"{self.service} unavailable: pausing (messages wait in RabbitMQ until it is back)",
            error=f"{type(exc).__name__}: {exc}",
        )
        self._probe = asyncio.create_task(self._probe_until_up())

    async def _probe_until_up(self) -> None:
        interval = 0.1
        while True:
            await asyncio.sleep(interval)
            try:
                async with asyncio.timeout(self._probe_timeout):
                    await self._probe_once()
            except Exception as exc:
                if not self._is_down(exc):
                    # Answering, but refusing (credentials, a missing database): still down for
                    # us, and worth saying why.
                    self._log.warning(f"{self.service} probe failed", error=repr(exc))
                interval = min(interval * 2, self._max_interval)
                continue
            self._log.warning(f"{self.service} available again: resuming")
            self._up.set()
            self._on_change(True)
            return

    async def close(self) -> None:
        for task in (self._probe, self._watch):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
