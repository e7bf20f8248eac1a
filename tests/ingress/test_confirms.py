"""The ingress's own confirmed publish (``ingress.confirms``), against the real RabbitMQ: every
publish that returns was confirmed and is in its queue, in order; a return, a broker that stops
answering and a closed channel each fail the publish; a publish that waited for room and was
cancelled gives its delivery tag back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from aiormq import spec

from hookq.ingress.confirms import ConfirmedPublisher, NotConfirmed, supports
from hookq.topology import Names
from tests.support.proxy import CuttableProxy


def properties(n: int) -> spec.Basic.Properties:
    return spec.Basic.Properties(delivery_mode=2, message_id=f"m-{n}")


@pytest.fixture
async def channel(amqp: AbstractRobustConnection) -> AbstractChannel:
    return await amqp.channel(publisher_confirms=True, on_return_raises=True)


@pytest.fixture
async def bound_queue(channel: AbstractChannel, names: Names) -> AsyncIterator[tuple[str, str]]:
    """(exchange, queue): a direct exchange whose key ``k`` routes to a fresh queue."""
    exchange = await channel.declare_exchange(f"{names.namespace}.confirms", "direct")
    queue = await channel.declare_queue(f"{names.namespace}.confirms", durable=True)
    await queue.bind(exchange, "k")
    yield exchange.name, queue.name
    await queue.delete(if_unused=False, if_empty=False)
    await exchange.delete()


async def test_the_installed_aiormq_has_what_the_fast_path_uses(channel: AbstractChannel) -> None:
    # An aiormq upgrade that moves these falls back to basic_publish: this says so first.
    assert supports(await channel.get_underlay_channel())
    assert not supports(object())  # type: ignore[arg-type]


async def test_concurrent_publishes_are_confirmed_and_queued_in_order(
    channel: AbstractChannel, bound_queue: tuple[str, str]
) -> None:
    exchange, queue_name = bound_queue
    publisher = ConfirmedPublisher(timeout=5.0)
    underlay = await channel.get_underlay_channel()
    await asyncio.gather(
        *(
            publisher.publish(
                underlay,
                f"{n}".encode(),
                exchange=exchange,
                routing_key="k",
                properties=properties(n),
            )
            for n in range(500)
        )
    )
    queue = await channel.get_queue(queue_name)
    bodies = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        bodies.append(int(message.body))
    assert bodies == list(range(500))
    await publisher.close()


async def test_an_unroutable_message_is_not_confirmed(
    channel: AbstractChannel, bound_queue: tuple[str, str]
) -> None:
    exchange, _queue = bound_queue
    publisher = ConfirmedPublisher(timeout=5.0)
    with pytest.raises(NotConfirmed, match="PublishError"):
        await publisher.publish(
            await channel.get_underlay_channel(),
            b"x",
            exchange=exchange,
            routing_key="no-such-binding",
            properties=properties(1),
        )
    await publisher.close()


async def test_a_broker_that_stops_answering_fails_the_publish_in_time(
    amqp_url: str, names: Names
) -> None:
    target = urlsplit(amqp_url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5672)
    port = await proxy.start()
    connection = await aio_pika.connect_robust(amqp_url.replace(f":{target.port}", f":{port}"))
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.declare_exchange(f"{names.namespace}.stall", "fanout")
        queue = await channel.declare_queue(f"{names.namespace}.stall", durable=True)
        await queue.bind(exchange)
        underlay = await channel.get_underlay_channel()
        publisher = ConfirmedPublisher(timeout=0.5)
        await publisher.publish(
            underlay, b"before", exchange=exchange.name, routing_key="", properties=properties(0)
        )
        proxy.stall()
        started = time.monotonic()
        with pytest.raises(NotConfirmed, match=r"no confirm within 0\.5s"):
            await publisher.publish(
                underlay,
                b"stalled",
                exchange=exchange.name,
                routing_key="",
                properties=properties(1),
            )
        assert 0.5 <= time.monotonic() - started < 1.5
        proxy.flow()
        await publisher.publish(
            underlay, b"after", exchange=exchange.name, routing_key="", properties=properties(2)
        )
        await queue.delete(if_unused=False, if_empty=False)
        await exchange.delete()
        await publisher.close()
    finally:
        proxy.flow()
        await connection.close()
        await proxy.cut()


async def test_a_channel_the_broker_closes_fails_the_publishes_waiting_on_it(
    amqp_url: str, bound_queue: tuple[str, str], names: Names
) -> None:
    exchange, _queue = bound_queue
    connection = await aio_pika.connect(amqp_url)  # not robust: nothing reopens the channel
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        underlay = await channel.get_underlay_channel()
        publisher = ConfirmedPublisher(timeout=5.0)

        def publish(n: int, to: str) -> asyncio.Task[None]:
            return asyncio.create_task(
                publisher.publish(
                    underlay, b"x", exchange=to, routing_key="k", properties=properties(n)
                )
            )

        # A publish to a missing exchange makes the broker close the channel (404): the
        # publishes behind it on that channel are never confirmed.
        broken = publish(0, f"{names.namespace}.missing")
        behind = [publish(n, exchange) for n in range(1, 50)]
        results = await asyncio.gather(broken, *behind, return_exceptions=True)
        assert isinstance(results[0], Exception)
        assert all(r is None or isinstance(r, Exception) for r in results)
        assert any(isinstance(r, Exception) for r in results[1:])
        with pytest.raises(NotConfirmed, match="closed"):
            await publisher.publish(
                underlay, b"x", exchange=exchange, routing_key="k", properties=properties(99)
            )
        await publisher.close()


class FakeChannel:
    """The channel internals the fast path uses, around a write queue with room for one."""

    def __init__(self) -> None:
        self.is_closed = False
        self.publisher_confirms = True
        self.number = 1
        self.max_content_size = 1024
        self.delivery_tag = 0
        self.confirmations: dict[int, asyncio.Future[Any]] = {}
        self.message_id_delivery_tag: dict[str, int] = {}
        self.write_queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1)

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()


async def test_a_publish_waiting_for_room_keeps_the_tag_order_and_gives_back_its_tag() -> None:
    channel = FakeChannel()
    channel.write_queue.put_nowait("someone else's frame")  # full: the next publish must wait
    publisher = ConfirmedPublisher(timeout=5.0)

    def publish(n: int) -> asyncio.Task[None]:
        return asyncio.create_task(
            publisher.publish(
                channel, b"x" * 3000, exchange="e", routing_key="k", properties=properties(n)
            )
        )

    first = publish(1)
    await asyncio.sleep(0)
    assert channel.delivery_tag == 1  # took its tag, waits for room holding the lock
    second = publish(2)  # finds the lock taken: waits behind the first, tag not taken yet
    await asyncio.sleep(0)
    assert channel.delivery_tag == 1
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.sleep(0)
    # The first was never queued: it gave its tag back, and the second, next in line for the
    # lock, took that tag and now waits for room itself.
    assert channel.delivery_tag == 1
    assert list(channel.confirmations) == [1]
    assert channel.message_id_delivery_tag == {"m-2": 1}
    channel.write_queue.get_nowait()  # room: the second's frames go
    await asyncio.sleep(0)
    assert channel.write_queue.qsize() == 1
    channel.confirmations[1].set_result(spec.Basic.Ack(delivery_tag=1))
    await second
    assert channel.message_id_delivery_tag == {}
    await publisher.close()
