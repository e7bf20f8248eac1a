"""The overview's numbers, sampled every ``HOOKQ_CONSOLE_SAMPLE_INTERVAL`` seconds (10) into a
ring buffer of the last hour, in the console process: the rates and curves need earlier values,
and one reader per console is kinder to the broker than one per page view.

Each sample reads the handlers' queues (``broker_stats``), the management API when configured,
the ingress's counters when configured (``ingress_stats``) and the archive's size. A source that
fails is noted in the sample (shown on the overview) and the rest is still sampled.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp
import structlog
from aio_pika.abc import AbstractRobustConnection

from hookq.amqp import connect_robust
from hookq.console import ingress_stats
from hookq.console.broker_stats import (
    ApiCounts,
    BrokerApi,
    QueueCounts,
    queue_counts,
    unrouted_count,
    vhost_of,
)
from hookq.console.ingress_stats import IngressCounts
from hookq.console.plot import HOUR
from hookq.handlers.api import HandlerSpec
from hookq.settings import Settings
from hookq.topology import Names

log = structlog.get_logger("hookq.console")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HandlerPoint:
    queues: QueueCounts | None
    api: ApiCounts | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    at: float
    handlers: Mapping[str, HandlerPoint] = field(default_factory=dict)
    unrouted: int | None = None
    ingress: IngressCounts | None = None
    archive: int | None = None  # events in the archive
    problems: tuple[str, ...] = ()


def per_minute(earlier: float | None, later: float | None, seconds: float) -> float | None:
    """A counter's rate between two samples; None when unknown or when it went back (the
    process that counts restarted)."""
    if earlier is None or later is None or seconds <= 0 or later < earlier:
        return None
    return (later - earlier) / seconds * 60.0


class Sampler:
    def __init__(self, settings: Settings, specs: Mapping[str, HandlerSpec]) -> None:
        self._settings = settings
        self._specs = dict(specs)
        self._names = Names(settings.namespace)
        self.interval = settings.console_sample_interval
        self.samples: deque[Sample] = deque(maxlen=math.ceil(HOUR / self.interval) + 2)
        self._connection: AbstractRobustConnection | None = None
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def handlers(self) -> list[str]:
        return list(self._specs)

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="console-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            await self._connection.close()
        if self._http is not None:
            await self._http.close()

    async def _run(self) -> None:
        # Connecting waits for the broker (logging why it cannot be reached): the pages are
        # served meanwhile and say that nothing was sampled yet.
        self._connection = await connect_robust(self._settings.amqp_url, "hookq-console")
        while True:
            started = time.monotonic()
            try:
                self.samples.append(await self.sample_once())
            except Exception as exc:  # a sampler that dies leaves the overview frozen
                log.warning("console sample failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def sample_once(self) -> Sample:
        assert self._connection is not None, "started"
        assert self._http is not None, "started"
        problems: list[str] = []
        api = None
        if self._settings.console_broker_api_url:
            vhost = vhost_of(self._settings.amqp_url)
            api = BrokerApi(self._settings.console_broker_api_url, vhost, self._http)
        handlers = {}
        for name, spec in self._specs.items():
            handlers[name] = await self._handler(spec, api, problems)
        unrouted = await self._guard(unrouted_count(self._connection, self._names), problems)
        ingress = None
        if url := self._settings.console_ingress_metrics_url:
            ingress = await self._guard(ingress_stats.scrape(self._http, url), problems, "ingress")
        archive = None
        if api is not None and self._settings.archive:
            # AMQP counts no stream's messages (0): the management API does.
            stream = self._names.archive_stream
            archive = await self._guard(api.messages(stream), problems, "archive")
        return Sample(time.time(), handlers, unrouted, ingress, archive, tuple(problems))

    async def _handler(
        self, spec: HandlerSpec, api: BrokerApi | None, problems: list[str]
    ) -> HandlerPoint:
        assert self._connection is not None
        queues = await self._guard(queue_counts(self._connection, self._names, spec), problems)
        counts = None
        if api is not None:
            queue = self._names.handler_queue(spec.name)
            counts = await self._guard(api.counts(queue), problems, "management API")
        return HandlerPoint(queues, counts)

    @staticmethod
    async def _guard(reading: Awaitable[T], problems: list[str], what: str = "broker") -> T | None:
        try:
            return await reading
        except Exception as exc:
            problem = f"{what}: {type(exc).__name__}: {exc}"
            if problem not in problems:
                problems.append(problem)
            return None
