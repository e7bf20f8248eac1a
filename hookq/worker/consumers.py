"""A handler queue's consumer as the broker sees it, for ``/readyz``.

A worker's robust channel re-creates its consumer by itself: after a reconnection (to another
node of a cluster, ``hookq.amqp``) and after the broker cancelled it (its queue deleted, or its
quorum queue unavailable while a node is lost). Between the two the worker does not consume that
queue, whatever its connection says: ``running`` asks the channel that carries the consumer
whether the broker still delivers to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import aiormq
from aio_pika.abc import AbstractQueue, AbstractRobustChannel, ConsumerTag

from hookq.worker.pipeline import Pipeline


@dataclass
class Consumer:
    channel: AbstractRobustChannel
    queue: AbstractQueue
    tag: ConsumerTag
    # The AMQP channel under the robust one: a new one after each reconnection (_reopened).
    _carrier: aiormq.Channel

    @classmethod
    async def start(
        cls, channel: AbstractRobustChannel, queue: AbstractQueue, pipeline: Pipeline
    ) -> Consumer:
        tag = await queue.consume(pipeline.on_message)
        consumer = cls(channel, queue, tag, await _carrier_of(channel))
        channel.reopen_callbacks.add(consumer._reopened)
        return consumer

    @property
    def running(self) -> bool:
        """The broker delivers this queue's messages to this worker now."""
        carrier = self._carrier
        return (
            not self.channel.is_closed and not carrier.is_closed and self.tag in carrier.consumers
        )

    async def cancel(self) -> None:
        await self.queue.cancel(self.tag)

    async def _reopened(self, _channel: Any) -> None:
        self._carrier = await _carrier_of(self.channel)


async def _carrier_of(channel: AbstractRobustChannel) -> aiormq.Channel:
    # aio-pika's robust channel does the same to re-create its missing consumers.
    return cast(aiormq.Channel, await channel.get_underlay_channel())
