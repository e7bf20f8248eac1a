"""A handler queue's consumer: deliveries taken straight from the AMQP channel, and whether the
broker still delivers them, for ``/readyz``.

aiormq runs each consumer's callback in a task of its own, recorded by the channel and the
connection (about 7 us per message, measured with timeit); the worker starts a task of its own
for each message anyway (``Pipeline.start``). So a hookq consumer's entry in aiormq's table of
consumers is a ``Direct`` callback, and the channel's handling of a delivery is replaced
(``take_deliveries``) by one that reads it as aiormq does and starts a ``Direct`` consumer's
pipeline at once; any other consumer's callback still runs in aiormq's task. Where aiormq lacks
the internals this uses, aiormq calls the ``Direct`` callback like any other.

aio-pika records the consumer (``queue.consume``) and re-creates it by itself: after a
reconnection (to another node of a cluster, ``hookq.amqp``) and after the broker cancelled it
(its queue deleted, or its quorum queue unavailable while a node is lost). What it re-creates
delivers through its own wrapper (an ``IncomingMessage`` in a second task, ``worker.received``);
the first message that comes that way puts the direct callback back in its place, and is
processed like any other. Between a loss and the re-creation the worker does not consume that
queue, whatever its connection says: ``running`` asks the channel that carries the consumer
whether the broker still delivers to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, cast

import aiormq
import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustChannel, ConsumerTag
from aio_pika.exceptions import ChannelInvalidStateError
from aiormq.abc import AbstractChannel, DeliveredMessage

from hookq.worker.pipeline import Pipeline
from hookq.worker.received import Received

log = structlog.get_logger("hookq.worker")

# What ``take_deliveries`` uses of an aiormq channel (7.2.x).
INTERNALS = ("consumers", "_on_deliver_frame", "_Channel__get_content_header", "_read_content")


class Direct:
    """A hookq consumer's entry in aiormq's table: ``start`` takes a delivery."""

    __slots__ = ("start",)

    def __init__(self, start: Callable[[DeliveredMessage], None]) -> None:
        self.start = start

    async def __call__(self, delivered: DeliveredMessage) -> None:
        # aiormq's own handling of the delivery (its internals missing): in aiormq's task.
        self.start(delivered)


def take_deliveries(carrier: AbstractChannel) -> bool:
    """Replace ``carrier``'s handling of deliveries by one that starts a ``Direct`` consumer's
    pipeline without aiormq's task (once per channel); False where aiormq lacks the internals."""
    channel: Any = carrier  # what is used is not in aiormq's ABC
    if getattr(channel, "_hookq_direct", False):
        return True
    if not all(hasattr(channel, name) for name in INTERNALS):
        return False
    table: dict[str, Any] = channel.consumers
    read_header = channel._Channel__get_content_header
    read_content = channel._read_content
    aiormq_way = channel._on_deliver_frame

    async def on_deliver_frame(frame: aiormq.spec.Basic.Deliver) -> None:
        consumer = table.get(frame.consumer_tag or "")
        if not isinstance(consumer, Direct):
            await aiormq_way(frame)
            return
        # As aiormq reads it: the content header, then the body's frames.
        message = await read_content(frame, await read_header())
        try:
            consumer.start(message)
        except Exception:  # as aiormq logs a failed callback: the channel's reader goes on
            log.exception("consumer callback failed")

    channel._on_deliver_frame = on_deliver_frame
    channel._hookq_direct = True
    return True


class Consumer:
    def __init__(
        self, channel: AbstractRobustChannel, queue: AbstractQueue, pipeline: Pipeline
    ) -> None:
        self.channel = channel
        self.queue = queue
        self._pipeline = pipeline
        self.tag = ConsumerTag("")
        self.direct = Direct(self._deliver)
        # The AMQP channel under the robust one: a new one after each reconnection (_reopened).
        self._carrier: aiormq.Channel | None = None

    @classmethod
    async def start(
        cls, channel: AbstractRobustChannel, queue: AbstractQueue, pipeline: Pipeline
    ) -> Consumer:
        consumer = cls(channel, queue, pipeline)
        consumer.tag = await queue.consume(consumer._through_aio_pika)
        consumer._carrier = await _carrier_of(channel)
        consumer._take_deliveries(consumer._carrier)
        channel.reopen_callbacks.add(consumer._reopened)
        return consumer

    @property
    def running(self) -> bool:
        """The broker delivers this queue's messages to this worker now."""
        carrier = self._carrier
        return (
            carrier is not None
            and not self.channel.is_closed
            and not carrier.is_closed
            and self.tag in carrier.consumers
        )

    async def cancel(self) -> None:
        await self.queue.cancel(self.tag)

    def _deliver(self, delivered: DeliveredMessage) -> None:
        self._pipeline.start(Received(delivered))

    async def _through_aio_pika(self, message: AbstractIncomingMessage) -> None:
        """What aio-pika's re-created consumer calls: this one message as it came, the next
        ones directly."""
        self._pipeline.start(message)
        with contextlib.suppress(ChannelInvalidStateError):  # closed: its consumers are gone
            self._take_deliveries(message.channel)

    def _take_deliveries(self, carrier: AbstractChannel) -> None:
        # aiormq's table of a channel's consumers, by tag (where it has none, aio-pika's
        # callback goes on serving).
        consumers = getattr(carrier, "consumers", None)
        if isinstance(consumers, dict) and self.tag in consumers:
            take_deliveries(carrier)
            consumers[self.tag] = self.direct

    async def _reopened(self, _channel: Any) -> None:
        self._carrier = await _carrier_of(self.channel)


async def _carrier_of(channel: AbstractRobustChannel) -> aiormq.Channel:
    # aio-pika's robust channel does the same to re-create its missing consumers.
    return cast(aiormq.Channel, await channel.get_underlay_channel())
