"""Replay: a dead message goes back to its handler's queue with a fresh attempt count.

The copy keeps the body and the event's headers; the failure headers move into one
``Header.PREVIOUS_FAILURE`` table (so the next failure is recorded cleanly and the last one is
still visible), and it gains ``REPLAYED_AT``, ``REPLAYS`` (+1) and ``REPLAY_ID`` (this run).
An unrouted event is republished to the events exchange under ``<source>.<event type>``; if
still nothing binds it, it lands back in the unrouted queue, where this run recognises it by
its ``REPLAY_ID`` and reports it (``MoveResult.came_back``) instead of replaying it again.

The worker dedupes on (handler, source, delivery id) and releases its claim when it
dead-letters, so a replayed event runs once more.
"""

from __future__ import annotations

import time
import uuid

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection

from hookq.dlq.move import Guard, GuardFailed, MoveOptions, MoveResult, Progress, Select, move
from hookq.dlq.queues import queue_state
from hookq.dlq.records import DeadQueue, DeadRecord
from hookq.message import copy_message, replayed
from hookq.topology import Names


class HandlerQueueMissing(GuardFailed):
    """The handler's queue does not exist: replaying would have nowhere to go."""


def new_run_id() -> str:
    return uuid.uuid4().hex


def replayed_message(record: DeadRecord, run_id: str, now: float) -> aio_pika.Message:
    headers = replayed(record.headers, run_id, now, back_to_handler=not record.queue.unrouted)
    return copy_message(record.body, headers, content_type=record.content_type)


async def replay_queue(
    connection: AbstractConnection,
    queue: DeadQueue,
    names: Names,
    select: Select,
    options: MoveOptions,
    progress: Progress | None = None,
) -> MoveResult:
    if queue.unrouted:
        exchange_name = names.events_exchange
    else:
        exchange_name = names.direct_exchange
        if await queue_state(connection, names.handler_queue(queue.handler)) is None:
            raise HandlerQueueMissing(
                f"{names.handler_queue(queue.handler)} does not exist: start a worker that runs "
                f"{queue.handler!r} (it declares the queue), then replay"
            )

    async def act(channel: AbstractChannel, record: DeadRecord) -> None:
        message = replayed_message(record, options.run_id, time.time())
        routing_key = (
            record.event_routing_key if queue.unrouted else names.handler_queue(queue.handler)
        )
        exchange = await channel.get_exchange(exchange_name, ensure=False)
        await exchange.publish(message, routing_key=routing_key, mandatory=False)

    guard = None if queue.unrouted else _handler_queue_guard(names, queue.handler)
    result = await move(connection, queue, names.namespace, select, act, options, progress, guard)
    if result.orphans:
        # Committed just as the queue went: their copies may be lost. Put them back.
        await _restore(connection, queue, result.orphans)
        result.stopped += f"; the last {len(result.orphans)} were put back in {queue.name}"
    return result


def _handler_queue_guard(names: Names, handler: str) -> Guard:
    """Checks the handler queue still exists (an unroutable copy would be dropped silently).
    The events exchange of unrouted replays has its alternate exchange: nothing is dropped."""
    queue = names.handler_queue(handler)

    async def guard(channel: AbstractChannel) -> None:
        try:
            await channel.declare_queue(queue, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            raise HandlerQueueMissing(f"{queue} vanished during the replay") from None

    return guard


async def _restore(
    connection: AbstractConnection, queue: DeadQueue, records: list[DeadRecord]
) -> None:
    """Put dead messages back as they were (confirmed publishes, straight to the queue)."""
    channel = await connection.channel(publisher_confirms=True)
    try:
        for record in records:
            await channel.default_exchange.publish(
                copy_message(record.body, record.headers, content_type=record.content_type),
                routing_key=queue.name,
            )
    finally:
        await channel.close()
