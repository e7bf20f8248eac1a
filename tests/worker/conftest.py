"""In-process workers against the real broker and Redis, with handlers built in the test.

``start_worker(settings, spec, ...)`` starts a ``Worker`` consuming the given handlers' queues
(declared first; more keyword arguments go to ``Worker``) and stops it when the test ends;
``channel`` publishes with confirms.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from hookq.handlers.api import HandlerSpec
from hookq.settings import Settings
from hookq.worker.runner import Worker

StartWorker = Callable[..., Awaitable[Worker]]


@pytest.fixture
async def channel(amqp: AbstractRobustConnection) -> AbstractChannel:
    return await amqp.channel(publisher_confirms=True)


@pytest.fixture
async def start_worker(request: pytest.FixtureRequest) -> AsyncIterator[StartWorker]:
    workers: list[Worker] = []

    async def start(
        settings: Settings, *specs: HandlerSpec, prefetch: int | None = None, **options: Any
    ) -> Worker:
        worker = Worker(
            settings,
            {spec.name: spec for spec in specs},
            prefetch=prefetch,
            connection_name=f"test-worker:{request.node.name}",
            **options,
        )
        workers.append(worker)
        await worker.start()
        return worker

    yield start
    for worker in workers:
        await worker.stop()
