"""Acks sent together: the acks of one channel made during one turn of the event loop reach
the broker in one write.

aio-pika's ``ack`` (and aiormq's ``basic_ack``) queues one frame per message on the
connection's writer, which writes each on its own: a system call per message, the largest
share of the worker's time after validation once Redis calls were batched (py-spy, issue 18;
docs/benchmarks.md). Here the delivery tags acked in one turn are marshalled into one
``ChannelFrame`` of several ``Basic.Ack`` frames, queued once. The frames are packed here, as
pamqp would marshal them: its generic marshalling took about 4 us per ack (timeit), this under 1.

A lost ack (the channel closed before the write) is a redelivery, which dedupe recognises, as
before. Where aiormq lacks the internals used (``hookq.ingress.confirms.supports`` checks the
same ones), each ack goes through ``basic_ack``.
"""

from __future__ import annotations

import asyncio
import struct
import weakref

import structlog
from aiormq import spec
from aiormq.abc import AbstractChannel, ChannelFrame
from pamqp import constants

from hookq.worker.received import Message

log = structlog.get_logger("hookq.worker")

INTERNALS = ("number", "write_queue")
# A method frame (type 1) on a channel, 13 bytes of payload: Basic.Ack's class and method ids,
# the delivery tag, the octet of its ``multiple`` bit (never set here), the frame end marker.
ACK_FRAME = struct.Struct(">BHIHHQBB")
ACK_CLASS, ACK_METHOD = divmod(spec.Basic.Ack.index, 0x10000)


def ack_frames(channel: int, tags: list[int]) -> bytes:
    """The ``Basic.Ack`` frames of ``tags`` on ``channel``, as pamqp marshals them."""
    pack, method, end = ACK_FRAME.pack, constants.FRAME_METHOD, constants.FRAME_END
    return b"".join([pack(method, channel, 13, ACK_CLASS, ACK_METHOD, tag, 0, end) for tag in tags])


class AckBatch:
    """The acks of one channel waiting for the end of this turn of the loop."""

    __slots__ = ("_channel", "_tags")

    def __init__(self, channel: AbstractChannel) -> None:
        self._channel = channel
        self._tags: list[int] = []

    def add(self, tag: int) -> None:
        if not self._tags:
            asyncio.get_running_loop().call_soon(self._flush)
        self._tags.append(tag)

    def _flush(self) -> None:
        tags, self._tags = self._tags, []
        channel = self._channel
        if channel.is_closed:
            return  # the broker redelivers them: dedupe recognises each
        frame = ChannelFrame(payload=ack_frames(channel.number, tags), should_close=False)
        queue: asyncio.Queue[ChannelFrame] = channel.write_queue  # type: ignore[attr-defined]
        try:
            queue.put_nowait(frame)
        except asyncio.QueueFull:  # the writer is behind: wait for room, in order
            asyncio.get_running_loop().create_task(queue.put(frame))


_batches: weakref.WeakKeyDictionary[AbstractChannel, AckBatch] = weakref.WeakKeyDictionary()


async def ack(message: Message) -> None:
    """Ack ``message`` with the others of this turn on its channel; never raises (a closed
    channel cannot ack: the broker redelivers the message, and dedupe recognises it)."""
    try:
        assert message.delivery_tag is not None, "hookq consumes with acknowledgements"
        channel = message.channel
        batch = _batches.get(channel)
        if batch is None:
            if not all(hasattr(channel, name) for name in INTERNALS):
                await channel.basic_ack(message.delivery_tag, wait=False)
                return
            batch = _batches[channel] = AckBatch(channel)
        batch.add(message.delivery_tag)
    except Exception as exc:
        log.warning("ack failed: the broker will redeliver", error=f"{type(exc).__name__}: {exc}")
