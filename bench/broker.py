"""The benchmark's own corner of RabbitMQ and Redis: a unique namespace, and its removal.

Every exchange, queue and Redis key a run creates (directly, or through the hookq processes it
starts) is named under ``Names(namespace)``; ``cleanup`` deletes them all at the end.
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid

import aio_pika
import aiormq
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection

from hookq.topology import Names, queue_state


def new_namespace() -> str:
    return f"bench-{uuid.uuid4().hex[:8]}"


async def connect(amqp_url: str, name: str) -> AbstractRobustConnection:
    return await aio_pika.connect_robust(amqp_url, client_properties={"connection_name": name})


async def queue_counts(connection: AbstractRobustConnection, queue: str) -> tuple[int, int]:
    """(ready messages, consumers) of an existing queue."""
    state = await queue_state(connection, queue)
    if state is None:
        raise aiormq.exceptions.ChannelNotFoundEntity(f"no queue {queue!r}")
    return state.ready, state.consumers


async def consuming(amqp_url: str, queue: str) -> bool:
    """Whether ``queue`` has a consumer now (a worker under test has started consuming)."""
    connection = await connect(amqp_url, "bench-consumer-probe")
    async with connection:
        _ready, consumers = await queue_counts(connection, queue)
    return consumers > 0


async def purge(connection: AbstractRobustConnection, queue: str) -> None:
    channel = await connection.channel()
    try:
        await (await channel.declare_queue(queue, passive=True)).purge()
    finally:
        await channel.close()


def listed_names(kind: str, prefix: str) -> list[str]:
    """Names on the local broker that start with ``prefix`` (rabbitmqctl, when it runs here)."""
    try:
        out = subprocess.run(
            ["rabbitmqctl", "-q", f"list_{kind}", "name"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip().startswith(prefix)]


async def cleanup(amqp_url: str, redis_url: str, names: Names, known_queues: list[str]) -> None:
    """Delete the namespace's queues, exchanges and Redis keys. The queues we declared are
    known; the ones hookq's processes declared (retry tiers, built-in handlers) are listed."""
    prefix = f"{names.namespace}."
    queues = sorted({*known_queues, names.unrouted_queue, *listed_names("queues", prefix)})
    exchanges = sorted(
        {
            names.events_exchange,
            names.unrouted_exchange,
            names.direct_exchange,
            *listed_names("exchanges", prefix),
        }
    )
    connection = await aio_pika.connect(
        amqp_url, client_properties={"connection_name": "bench-cleanup"}
    )
    async with connection:
        for kind, items in (("queue", queues), ("exchange", exchanges)):
            for name in items:
                # A fresh channel each: deleting a name that is not there closes the channel.
                channel = await connection.channel()
                with contextlib.suppress(aio_pika.exceptions.AMQPError):
                    if kind == "queue":
                        await channel.queue_delete(name)
                    else:
                        await channel.exchange_delete(name)
                with contextlib.suppress(aio_pika.exceptions.AMQPError):
                    await channel.close()
    client = aioredis.from_url(redis_url)
    async with client:
        batch = [key async for key in client.scan_iter(match=f"{names.namespace}:*", count=1000)]
        for start in range(0, len(batch), 500):
            await client.delete(*batch[start : start + 500])
