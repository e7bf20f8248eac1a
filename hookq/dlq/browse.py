"""Reading a dead queue without changing it.

How: consume the queue without acknowledging anything, then close the channel. The broker
returns every unacknowledged delivery to the queue, and a classic queue (every dead queue and
the unrouted queue are classic) puts a returned message back at its original position. Nothing
is ever acked here, so a browse cannot drop a message; nothing is republished, so it cannot
duplicate one; and returns go back in place, so it does not reorder. If this process dies
mid-browse, the broker sees the connection close and does the same.

While we hold the messages, nobody else sees them. So a browse:

- takes an *exclusive* consumer when the queue has no consumer: two operators browsing at once
  are serialised by the broker (the loser retries for ``wait`` seconds; a browse of thousands of
  messages holds them for well under a second), and a replay or purge starting meanwhile waits;
- if another session stays attached longer than ``wait`` (a replay or purge under way), browses
  alongside it and reports the view as partial: the messages that session holds at that moment
  are not shown (``Snapshot.complete`` is False, with the number of other consumers).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

import aiormq
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage, AbstractQueue

from hookq.dlq.queues import queue_state
from hookq.dlq.records import DeadQueue, DeadRecord

IDLE = 0.3  # seconds without a delivery before asking the broker whether more is coming
MAX_PREFETCH = 65535  # AMQP's prefetch is a short; above it, unlimited
# Seconds past ``wait`` to keep trying while other browses hold the queue exclusively, each for
# well under a second: only a tight loop of browses could starve us that long.
BUSY_PATIENCE = 10.0


class QueueBusy(Exception):
    """Another session held the queue exclusively for longer than we were willing to wait."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    queue: DeadQueue
    records: list[DeadRecord] = field(default_factory=list)
    ready: int = 0  # messages the broker said were waiting when we started
    other_consumers: int = 0  # other sessions attached while we browsed (held messages hidden)
    exists: bool = True

    @property
    def complete(self) -> bool:
        return self.other_consumers == 0


async def browse(
    connection: AbstractConnection, queue: DeadQueue, namespace: str, *, wait: float = 3.0
) -> Snapshot:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        state = await queue_state(connection, queue.name)
        if state is None:
            return Snapshot(queue, exists=False)
        late = loop.time() >= deadline
        if state.consumers == 0 or late:
            try:
                return await _take_all(connection, queue, namespace, exclusive=not late)
            except aiormq.exceptions.ChannelAccessRefused:
                # Another browse won the race for exclusivity (or holds it): wait our turn.
                if loop.time() >= deadline + BUSY_PATIENCE:
                    raise QueueBusy(
                        f"{queue.name} is held exclusively by another browse; try again"
                    ) from None
        await asyncio.sleep(random.uniform(0.05, 0.2))  # jitter: racing browsers interleave


async def _take_all(
    connection: AbstractConnection, queue: DeadQueue, namespace: str, *, exclusive: bool
) -> Snapshot:
    channel = await connection.channel(publisher_confirms=False)
    try:
        amqp_queue = await channel.declare_queue(queue.name, passive=True)
        ready = amqp_queue.declaration_result.message_count or 0
        if ready == 0:
            return Snapshot(queue, ready=0, other_consumers=_others(amqp_queue, exclusive))
        # Exactly what was waiting: messages dead-lettered meanwhile are not pulled in.
        await channel.set_qos(prefetch_count=ready if ready <= MAX_PREFETCH else 0)
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        await amqp_queue.consume(inbox.put, no_ack=False, exclusive=exclusive)
        messages = await _receive(amqp_queue, inbox, ready)
        others = 0 if exclusive else await _other_consumers(amqp_queue)
        records = [
            DeadRecord.from_message(message, queue, position, namespace)
            for position, message in enumerate(messages)
        ]
        return Snapshot(queue, records, ready=ready, other_consumers=others)
    finally:
        # Never ack: closing the channel returns every delivery to its own place.
        with contextlib.suppress(aiormq.exceptions.AMQPError, RuntimeError):
            if not channel.is_closed:
                await channel.close()


async def _receive(
    amqp_queue: AbstractQueue, inbox: asyncio.Queue[AbstractIncomingMessage], wanted: int
) -> list[AbstractIncomingMessage]:
    messages: list[AbstractIncomingMessage] = []
    while len(messages) < wanted:
        try:
            messages.append(await asyncio.wait_for(inbox.get(), IDLE))
        except TimeoutError:
            # Fewer than expected: another session took some. Stop once none is waiting,
            # after collecting what was already on its way to us.
            if await _ready(amqp_queue) == 0:
                while not inbox.empty():
                    messages.append(inbox.get_nowait())
                if len(messages) < wanted:
                    await asyncio.sleep(IDLE)
                    while not inbox.empty():
                        messages.append(inbox.get_nowait())
                break
    return messages


async def _ready(amqp_queue: AbstractQueue) -> int:
    declared = await amqp_queue.channel.declare_queue(amqp_queue.name, passive=True)
    return declared.declaration_result.message_count or 0


async def _other_consumers(amqp_queue: AbstractQueue) -> int:
    declared = await amqp_queue.channel.declare_queue(amqp_queue.name, passive=True)
    return max(0, (declared.declaration_result.consumer_count or 0) - 1)


def _others(amqp_queue: AbstractQueue, exclusive: bool) -> int:
    return 0 if exclusive else amqp_queue.declaration_result.consumer_count or 0
