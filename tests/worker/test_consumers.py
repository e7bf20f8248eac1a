"""Deliveries taken straight from aiormq's channel (``hookq.worker.consumers``), on the real
broker: a hookq consumer's pipeline starts without a task of aiormq's, any other consumer on
the channel is served as aiormq serves it, and bodies of several frames arrive whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from aio_pika.abc import AbstractRobustConnection
from aiormq.abc import DeliveredMessage
from structlog.testing import capture_logs

from hookq.worker.consumers import Direct, take_deliveries
from tests.support.events import eventually


@pytest.fixture
async def carrier(amqp: AbstractRobustConnection) -> AsyncIterator[Any]:
    """aiormq's channel under a robust one (``Any``: its internals are not in the ABC)."""
    robust = await amqp.channel()
    yield await robust.get_underlay_channel()
    await robust.close()


async def test_a_direct_consumer_starts_without_aiormqs_task_and_others_keep_theirs(
    carrier: Any,
) -> None:
    ours = (await carrier.queue_declare(exclusive=True)).queue
    theirs = (await carrier.queue_declare(exclusive=True)).queue
    direct_bodies: list[bytes] = []
    other_bodies: list[bytes] = []

    async def other(message: DeliveredMessage) -> None:
        other_bodies.append(message.body)

    ours_tag = (await carrier.basic_consume(ours, other, no_ack=True)).consumer_tag
    await carrier.basic_consume(theirs, other, no_ack=True)
    carrier.consumers[ours_tag] = Direct(lambda m: direct_bodies.append(m.body))
    assert take_deliveries(carrier)
    assert take_deliveries(carrier)  # once per channel: the second call changes nothing

    tasks = 0
    create_task = carrier.create_task

    def counting(coro: Any) -> Any:
        nonlocal tasks
        tasks += 1
        return create_task(coro)

    carrier.create_task = counting
    # Larger than the negotiated frame size: the body comes in several content frames.
    large = bytes(range(256)) * (carrier.connection.connection_tune.frame_max // 128)
    for body in (b"one", large, b""):
        await carrier.basic_publish(body, routing_key=ours)
        await carrier.basic_publish(body, routing_key=theirs)

    await eventually(lambda: len(direct_bodies) == 3 and len(other_bodies) == 3, timeout=10)
    assert direct_bodies == [b"one", large, b""]
    assert other_bodies == [b"one", large, b""]
    assert tasks == 3  # one per message of the other consumer, none for ours


async def test_without_aiormqs_internals_the_direct_callback_runs_as_any_other() -> None:
    started: list[bytes] = []
    direct = Direct(lambda m: started.append(m.body))
    plain_channel = SimpleNamespace(consumers={"tag": direct})  # no _read_content & co
    assert take_deliveries(plain_channel) is False  # type: ignore[arg-type]
    # aiormq then calls it in a task of its own, as it calls any consumer.
    await asyncio.create_task(direct(SimpleNamespace(body=b"m1")))  # type: ignore[arg-type]
    assert started == [b"m1"]


async def test_a_failing_start_is_logged_and_the_channel_goes_on_delivering(
    carrier: Any,
) -> None:
    queue = (await carrier.queue_declare(exclusive=True)).queue
    started: list[bytes] = []

    def start(message: DeliveredMessage) -> None:
        if message.body == b"boom":
            raise RuntimeError("a bug in starting")
        started.append(message.body)

    async def unused(_message: DeliveredMessage) -> None:
        raise AssertionError("aiormq's way is not taken for a direct consumer")

    tag = (await carrier.basic_consume(queue, unused, no_ack=True)).consumer_tag
    carrier.consumers[tag] = Direct(start)
    assert take_deliveries(carrier)
    with capture_logs() as logs:
        for body in (b"boom", b"after"):
            await carrier.basic_publish(body, routing_key=queue)
        await eventually(lambda: started == [b"after"], timeout=10)
    assert [entry["event"] for entry in logs] == ["consumer callback failed"]
    assert not carrier.is_closed
