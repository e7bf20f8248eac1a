"""Confirmed publishes on the ingress's hot path, straight onto aiormq's channel.

aiormq's ``basic_publish`` serves every use. Per publish it enters a timeout and a context that
watches for the channel closing, and holds the channel's lock while it queues the frames and
waits for them to be written; only then does it wait for the confirm. Under the ingress's load
those steps cost about 90 us of the 330 us of CPU a request took (docs/benchmarks.md).

``ConfirmedPublisher`` keeps what a confirmed publish needs, with no ``await`` in between, so
that frames reach the broker in the order of their delivery tags:

1. take the channel's next delivery tag;
2. register the confirmation future under it, and the message id, so that a mandatory return
   finds it;
3. queue the frames on the connection's writer.

A publish waits only when aiormq's write queue is full: it then holds a lock of ours that keeps
every later publish on that channel behind it until its own frames are queued. One sweeper task
per publisher bounds the confirm waits, instead of a timer per publish.

It relies on aiormq's channel internals, within the aiormq versions pyproject.toml allows;
``supports`` checks them on the channel, and the publisher falls back to ``basic_publish``
where they are missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections import deque
from typing import Any

from aiormq import spec
from aiormq.abc import AbstractChannel, ChannelFrame
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

# What ConfirmedPublisher uses of aiormq's Channel besides its public methods.
CHANNEL_INTERNALS = (
    "confirmations",
    "delivery_tag",
    "max_content_size",
    "message_id_delivery_tag",
    "number",
    "publisher_confirms",
    "write_queue",
)


class NotConfirmed(Exception):
    """The broker did not confirm: it refused or returned the message, the channel closed, or
    the confirm did not come in time."""


def supports(channel: AbstractChannel) -> bool:
    """Whether ``channel`` has the internals this module uses, with confirms on."""
    return all(hasattr(channel, name) for name in CHANNEL_INTERNALS) and bool(
        getattr(channel, "publisher_confirms", False)
    )


class ConfirmWaits:
    """Bounds the confirm waits of one publisher: one task sweeps them, oldest first, and
    cancels a confirmation that outlived ``timeout`` (its publish then fails)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._interval = min(0.25, timeout / 4)
        self._waiting: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self._sweeper: asyncio.Task[None] | None = None

    def watch(self, confirmation: asyncio.Future[Any]) -> None:
        self._waiting.append((time.monotonic() + self.timeout, confirmation))
        if self._sweeper is None:  # one task while confirms are awaited, none when idle
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(self._interval)
                now, waiting = time.monotonic(), self._waiting
                # Confirms come in about the order of the publishes: the oldest are at the left.
                while waiting and (waiting[0][1].done() or waiting[0][0] <= now):
                    _deadline, confirmation = waiting.popleft()
                    confirmation.cancel()  # no-op when done; aiormq ignores a late confirm
        finally:
            self._sweeper = None

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper


class ConfirmedPublisher:
    def __init__(self, timeout: float) -> None:
        self.waits = ConfirmWaits(timeout)
        # Taken only while a publish waits for room in a channel's write queue.
        self._locks: weakref.WeakKeyDictionary[AbstractChannel, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def publish(
        self,
        channel: Any,  # aiormq.Channel; its internals are not in AbstractChannel
        body: bytes,
        *,
        exchange: str,
        routing_key: str,
        properties: spec.Basic.Properties,
    ) -> None:
        """Publish ``body`` mandatory and return once the broker confirmed it; raise
        ``NotConfirmed`` (or aiormq's error for a closed channel) otherwise."""
        message_id = properties.message_id
        if not message_id:
            raise ValueError("a mandatory publish needs a message id to match its return")
        frames = _frames(channel, body, exchange, routing_key, properties)
        lock = self._locks.get(channel) or self._locks.setdefault(channel, asyncio.Lock())
        if channel.is_closed:
            raise NotConfirmed("the channel is closed")
        if lock.locked() or channel.write_queue.full():
            async with lock:
                confirmation = await _queue_when_room(channel, frames, message_id)
        else:
            confirmation = _register(channel, message_id)
            channel.write_queue.put_nowait(frames)
        self.waits.watch(confirmation)
        # Awaited here, not in a helper: one coroutine less per request.
        try:
            reply = await confirmation
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if confirmation.cancelled() and (task is None or not task.cancelling()):
                raise NotConfirmed(f"no confirm within {self.waits.timeout:g}s") from None
            raise  # our own task is being cancelled
        except Exception as exc:  # a nack, a return, or the channel's close reason
            raise NotConfirmed(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(reply, spec.Basic.Ack):  # a return, where returns do not raise
            raise NotConfirmed(f"not routed: {reply!r:.200}")

    async def close(self) -> None:
        await self.waits.close()


def _frames(
    channel: Any, body: bytes, exchange: str, routing_key: str, properties: spec.Basic.Properties
) -> ChannelFrame:
    size = channel.max_content_size
    return ChannelFrame.marshall(
        channel_number=channel.number,
        frames=[
            spec.Basic.Publish(exchange=exchange, routing_key=routing_key, mandatory=True),
            ContentHeader(properties=properties, body_size=len(body)),
            *(ContentBody(body[start : start + size]) for start in range(0, len(body), size)),
        ],
    )


def _register(channel: Any, message_id: str) -> asyncio.Future[Any]:
    channel.delivery_tag += 1
    tag = channel.delivery_tag
    # The channel's own future store rejects it if the channel closes.
    confirmation: asyncio.Future[Any] = channel.create_future()
    channel.confirmations[tag] = confirmation
    channel.message_id_delivery_tag[message_id] = tag

    def forget_message_id(_: asyncio.Future[Any]) -> None:
        if channel.message_id_delivery_tag.get(message_id) == tag:
            del channel.message_id_delivery_tag[message_id]

    confirmation.add_done_callback(forget_message_id)
    return confirmation


async def _queue_when_room(channel: Any, frames: ChannelFrame, message_id: str) -> Any:
    """Register and queue, waiting for room; the caller holds the channel's lock, so no other
    publish takes a tag until these frames are queued."""
    if channel.is_closed:  # it may have closed while this publish waited for the lock
        raise NotConfirmed("the channel is closed")
    confirmation = _register(channel, message_id)
    try:
        await channel.write_queue.put(frames)
    except BaseException:
        # Never queued: give the tag back (no later tag was taken: we hold the lock).
        channel.confirmations.pop(channel.delivery_tag, None)
        channel.delivery_tag -= 1
        confirmation.cancel()
        raise
    return confirmation
