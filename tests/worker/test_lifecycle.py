"""Stopping, Redis outages and broker connection loss, with an in-process worker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path

import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel
from structlog.testing import capture_logs

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.settings import Settings
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names, declare_handler
from hookq.worker.outcomes import Outcome
from hookq.worker.runner import Worker
from tests.support.broker import close_connections
from tests.support.events import (
    dedupe_key,
    eventually,
    outcome_count,
    publish_event,
    ready_count,
    standard_body,
)
from tests.support.redis_server import PrivateRedis
from tests.worker.conftest import StartWorker

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def sleeper(name: str, seconds: float, started: list[str], finished: list[str]) -> HandlerSpec:
    async def run(event: StandardEvent, ctx: HandlerContext) -> None:
        started.append(ctx.delivery_id)
        await asyncio.sleep(seconds)
        finished.append(ctx.delivery_id)

    return HandlerSpec(name=name, patterns=("standard.#",), func=run, timeout=60.0)


async def test_stop_lets_a_handler_in_flight_finish_and_acks_it(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    started: list[str] = []
    finished: list[str] = []
    worker = await start_worker(settings, sleeper("drains", 0.5, started, finished))
    await publish_event(channel, names, "evt-1", standard_body())
    await eventually(lambda: started == ["evt-1"])

    await worker.stop()
    assert finished == ["evt-1"]
    assert outcome_count(worker.metrics, "drains", Outcome.PROCESSED) == 1
    assert await ready_count(channel, names.handler_queue("drains")) == 0


async def test_stop_requeues_what_outlives_the_grace_and_releases_its_claim(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    redis_client: aioredis.Redis,
) -> None:
    started: list[str] = []
    finished: list[str] = []
    settings = settings.model_copy(update={"shutdown_grace": 0.2})
    worker = await start_worker(settings, sleeper("slow", 30, started, finished))
    await publish_event(channel, names, "evt-2", standard_body())
    await eventually(lambda: started == ["evt-2"])

    await worker.stop()
    assert finished == []
    queue = names.handler_queue("slow")
    await eventually(lambda: _equals(ready_count(channel, queue), 1), timeout=5)
    assert await redis_client.exists(dedupe_key(names, "slow", "evt-2")) == 0


async def test_a_worker_started_without_redis_takes_nothing_until_redis_answers(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    started: list[str] = []
    finished: list[str] = []
    spec = sleeper("paused", 0, started, finished)
    redis_server = PrivateRedis(tmp_path)  # not started yet: refusing connections
    await declare_handler(
        channel, names, spec.name, spec.patterns, spec.retry_delays, settings.delivery_limit
    )
    for n in range(3):
        await publish_event(channel, names, f"evt-{n}", standard_body())
    own = settings.model_copy(update={"redis_url": redis_server.url})
    with capture_logs() as logs:
        worker = Worker(own, {spec.name: spec}, connection_name="paused-worker")
        starting = asyncio.create_task(worker.start())
        try:
            await eventually(lambda: any(e["event"] == "redis unreachable, retrying" for e in logs))
            await asyncio.sleep(0.5)
            # Not consuming: the messages stay ready for other workers, none taken, none run.
            assert await ready_count(channel, names.handler_queue("paused")) == 3
            assert started == []
            assert worker.not_ready() == ["starting: waiting for Redis and the broker"]
            redis_server.start()
            await asyncio.wait_for(starting, 15)
            await eventually(lambda: sorted(finished) == ["evt-0", "evt-1", "evt-2"])
            assert worker.not_ready() == []
        finally:
            starting.cancel()
            await worker.stop()
            redis_server.stop()
    refused = next(e for e in logs if e["event"] == "redis unreachable, retrying")
    assert refused["reason"].startswith("connection refused at 127.0.0.1:")
    assert any(e["event"] == "redis connection restored" for e in logs)


async def test_consuming_resumes_after_the_broker_closes_the_connection(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    request: object,
) -> None:
    started: list[str] = []
    finished: list[str] = []
    worker = await start_worker(settings, sleeper("robust", 0, started, finished))
    await publish_event(channel, names, "evt-a", standard_body())
    await eventually(lambda: finished == ["evt-a"])

    name = f"test-worker:{request.node.name}"  # type: ignore[attr-defined]
    assert await asyncio.to_thread(close_connections, name) == 1
    await publish_event(channel, names, "evt-b", standard_body())
    await eventually(lambda: finished == ["evt-a", "evt-b"], timeout=30)
    # Counted once settled, a moment after the handler returned.
    await eventually(lambda: outcome_count(worker.metrics, "robust", Outcome.PROCESSED) == 2)


async def test_a_connection_lost_mid_handler_neither_interrupts_nor_reruns_it(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    request: object,
) -> None:
    # The effect happens, then the connection drops while the handler still works: the run
    # must finish and mark done, so that the broker's redelivery is acked as a duplicate.
    started: list[str] = []
    finished: list[str] = []
    closed = asyncio.Event()

    async def slow(event: StandardEvent, ctx: HandlerContext) -> None:
        started.append(ctx.delivery_id)
        await closed.wait()  # still working when the connection drops, however long it takes
        finished.append(ctx.delivery_id)

    spec = HandlerSpec(name="no-rerun", patterns=("standard.#",), func=slow, timeout=60.0)
    worker = await start_worker(settings, spec)
    await publish_event(channel, names, "evt-x", standard_body())
    await eventually(lambda: started == ["evt-x"])

    name = f"test-worker:{request.node.name}"  # type: ignore[attr-defined]
    assert await asyncio.to_thread(close_connections, name) == 1
    closed.set()
    await eventually(lambda: outcome_count(worker.metrics, "no-rerun", Outcome.DUPLICATE) == 1, 30)
    assert started == finished == ["evt-x"]
    assert outcome_count(worker.metrics, "no-rerun", Outcome.PROCESSED) == 1
    assert await ready_count(channel, names.handler_queue("no-rerun")) == 0


async def _equals(count: Awaitable[int], expected: int) -> bool:
    return await count == expected


async def test_a_redis_outage_pauses_the_worker_which_resumes_by_itself(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    started: list[str] = []
    finished: list[str] = []
    with PrivateRedis(tmp_path) as redis_server, capture_logs() as logs:
        own = settings.model_copy(update={"redis_url": redis_server.url})
        worker = await start_worker(own, sleeper("outage", 0, started, finished))
        await publish_event(channel, names, "before", standard_body())
        await eventually(lambda: finished == ["before"])

        redis_server.stop()
        await publish_event(channel, names, "during-1", standard_body())
        await publish_event(channel, names, "during-2", standard_body())
        await eventually(lambda: len(worker.in_flight) == 2)
        await eventually(lambda: not worker.gate.available)
        assert finished == ["before"]

        redis_server.start()
        await eventually(lambda: sorted(finished) == ["before", "during-1", "during-2"], timeout=30)
        assert outcome_count(worker.metrics, "outage", Outcome.PROCESSED) == 3
    events = [entry["event"] for entry in logs]
    assert sum(e.startswith("redis unavailable") for e in events) == 1
    assert sum(e.startswith("redis available again") for e in events) == 1


async def test_a_message_that_keeps_crashing_workers_ends_in_the_dead_queue(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    started: list[str] = []
    settings = settings.model_copy(update={"delivery_limit": 2})
    spec = sleeper("crashy", 30, started, [])
    dead_queue = names.dead_queue("crashy")

    async def in_dead_queue() -> bool:
        return await ready_count(channel, dead_queue) == 1

    for attempt in range(1, 6):
        worker = await start_worker(settings, spec)
        if attempt == 1:
            await publish_event(channel, names, "evt-c", standard_body())

        async def delivered_or_dead(n: int = attempt) -> bool:
            return len(started) == n or await in_dead_queue()

        await eventually(delivered_or_dead, timeout=10)
        if len(started) < attempt:
            break  # not delivered again: the broker dead-lettered it
        await worker.close()  # as a crash: no drain, no ack; the broker takes the message back

    await eventually(in_dead_queue, timeout=10)
    assert started == ["evt-c"] * len(started)
    assert 2 <= len(started) <= 3  # delivery limit 2: dead-lettered, not an endless loop
    assert await ready_count(channel, names.handler_queue("crashy")) == 0
