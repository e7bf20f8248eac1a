"""``queue_state`` on the real broker: the counts of a queue, None for a missing one, and no
channel left open behind either answer (the console asks every few seconds, for ever)."""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from hookq.amqp import connect_robust
from hookq.topology import queue_state
from tests.support.events import eventually


def open_channels(connection: AbstractRobustConnection) -> int:
    transport = connection.transport
    assert transport is not None
    return len([c for c in transport.connection.channels.values() if c and not c.is_closed])


async def test_missing_and_present_queues_leave_no_channel_open(amqp_url: str) -> None:
    connection = await connect_robust(amqp_url, "test-queue-state")
    try:
        present = f"test-queue-state-{uuid.uuid4().hex[:8]}"
        channel = await connection.channel()
        queue = await channel.declare_queue(present, auto_delete=True)
        await channel.default_exchange.publish(aio_pika.Message(b"x"), routing_key=present)
        before = open_channels(connection)
        for _ in range(30):
            assert await queue_state(connection, f"missing-{uuid.uuid4().hex}") is None
        state = await queue_state(connection, present)
        assert state is not None
        assert (state.ready, state.consumers) == (1, 0)
        await asyncio.sleep(0.2)  # a robust channel would have reopened itself by now
        await eventually(lambda: open_channels(connection) == before, timeout=5)
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
