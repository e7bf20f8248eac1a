"""Dead letters for the console's tests: real ones (a worker's failing handler) and crafted ones
(written into a dead queue in the worker's format, ``tests.worker.test_dlq_records``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection

from hookq.settings import Settings
from hookq.topology import Names
from tests.console.handlers import EVENT_TYPE, Switch
from tests.support.events import eventually, publish_event, ready_count, standard_body
from tests.support.workers import WorkerProcess, worker_env
from tests.worker.test_dlq_records import declare

HANDLER = "flaky"


async def declare_flaky(amqp: AbstractRobustConnection, names: Names) -> None:
    """The test handler's queues, as a worker declares them (for tests without a worker)."""
    await declare(amqp, names, HANDLER, patterns=("standard.order.*",))


def start_worker(settings: Settings, log: Path) -> WorkerProcess:
    env = worker_env(settings, handler_modules="tests.console.handlers")
    return WorkerProcess.start(env, log)


async def dead_count(amqp: AbstractRobustConnection, names: Names) -> int:
    channel = await amqp.channel()
    try:
        return await ready_count(channel, names.dead_queue(HANDLER))
    finally:
        await channel.close()


async def fail_events(
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    ids: list[str],
    poisoned: list[str] = (),  # type: ignore[assignment]
) -> None:
    """With the handler failing, publish ``ids`` (and ``poisoned``, which always fail) and wait
    until every one of them is dead."""
    await redis_client.set(Switch(names).key, "1")
    channel = await amqp.channel(publisher_confirms=True)
    for delivery_id in ids:
        await publish_event(
            channel, names, delivery_id, standard_body(EVENT_TYPE), event_type=EVENT_TYPE
        )
    for delivery_id in poisoned:
        body = standard_body(EVENT_TYPE, poison=True)
        await publish_event(channel, names, delivery_id, body, event_type=EVENT_TYPE)
    await channel.close()
    total = len(ids) + len(poisoned)

    async def all_dead() -> bool:
        return await dead_count(amqp, names) == total

    await eventually(all_dead, timeout=30)


async def wait_ready(worker: WorkerProcess) -> None:
    await asyncio.to_thread(worker.wait_ready)
