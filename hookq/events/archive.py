"""Reading the archive stream (``Names.archive_stream``) without changing it.

A stream consumer reads from an offset of its choosing and its acks only ask for more: nothing
is removed, and any number of readers read at once, each at its own pace. A read starts at the
chunk written at ``since`` (``x-stream-offset`` as a timestamp, less a margin for clocks), so a
one-hour window of a week's archive reads that hour, not the week.

A stream has no "end" a consumer is told of (and the broker's queue count is 0 for streams). A
read first finds the stream's last offset now: a second consumer at ``x-stream-offset: last``
gets the last chunk, whose last message is the end. The read stops there, or at the first event
received well after ``until`` (events are appended in about the order they were received: a
publish can wait for its confirm at most ``publish_timeout``, far under the margin).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage
from aiormq.abc import DeliveredMessage

from hookq.message import Header, number, text
from hookq.topology import Names, queue_state

PREFETCH = 2000  # messages in flight to a reader: a stream delivers only within a prefetch
ACK_EVERY = 500  # a reader acks (asks for more) in batches: one frame per ACK_EVERY messages
SEEK_MARGIN = timedelta(seconds=60)  # clocks and confirm waits between receipt and append
PAST_UNTIL = 120  # seconds past ``until`` after which nothing earlier can follow
FIRST_CHUNK_WAIT = 2.0  # seconds the end probe waits for the last chunk (none: empty stream)
CHUNK_IDLE = 0.2  # seconds after the last chunk's last message: the chunk is complete
READ_IDLE = 10.0  # seconds without a message before a read gives up (a broker stall)


class ArchiveMissing(Exception):
    """The namespace has no archive stream (the archive is off, or no ingress ever ran)."""


@dataclass(frozen=True, slots=True)
class ArchivedEvent:
    """One event as the ingress queued it."""

    offset: int  # its position in the stream
    source: str
    event_type: str
    delivery_id: str
    received_at: datetime  # to the second
    body: bytes = field(repr=False)
    headers: Mapping[str, Any] = field(repr=False)  # as published (the stream's own x- dropped)

    @property
    def size(self) -> int:
        return len(self.body)

    @property
    def routing_key(self) -> str:
        return f"{self.source}.{self.event_type}"

    @property
    def provider_headers(self) -> Mapping[str, str]:
        table = self.headers.get(Header.PROVIDER_HEADERS)
        return {str(k): text(v) for k, v in table.items()} if isinstance(table, Mapping) else {}


def archived(headers: Mapping[str, Any], body: bytes) -> ArchivedEvent | None:
    """The event of a stream message; None for one without hookq's event headers."""
    offset = headers.get("x-stream-offset")
    source, event_type = text(headers.get(Header.SOURCE)), text(headers.get(Header.EVENT_TYPE))
    delivery_id = text(headers.get(Header.DELIVERY_ID))
    at = number(headers.get(Header.RECEIVED_AT))
    if not isinstance(offset, int) or not source or not event_type or not delivery_id:
        return None
    return ArchivedEvent(
        offset=offset,
        source=source,
        event_type=event_type,
        delivery_id=delivery_id,
        received_at=datetime.fromtimestamp(at or 0, UTC),
        body=body,
        headers={k: v for k, v in headers.items() if not k.startswith("x-")},
    )


async def read(
    connection: AbstractConnection,
    names: Names,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AsyncIterator[ArchivedEvent]:
    """The archived events from ``since`` (or the first kept) to the stream's end as it is now,
    in stream order. Stops early past ``until``."""
    if await queue_state(connection, names.archive_stream) is None:
        raise ArchiveMissing(f"no archive stream {names.archive_stream!r}")
    end = await last_offset(connection, names)
    if end is None:
        return
    start: Any = since - SEEK_MARGIN if since is not None else "first"
    stop_at = int(until.timestamp()) + PAST_UNTIL if until is not None else None
    async for message in _messages(connection, names.archive_stream, start):
        headers = message.header.properties.headers or {}
        event = archived(headers, message.body)
        if event is None:
            offset = headers.get("x-stream-offset")
            if isinstance(offset, int) and offset >= end:
                return
            continue
        if stop_at is not None and event.received_at.timestamp() > stop_at:
            return
        yield event
        if event.offset >= end:
            return


async def last_offset(connection: AbstractConnection, names: Names) -> int | None:
    """The offset of the stream's last message now; None when it holds none."""
    last: int | None = None
    channel = await connection.channel()
    try:
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await channel.get_queue(names.archive_stream, ensure=False)
        arrived: asyncio.Queue[int] = asyncio.Queue()

        async def on_message(message: AbstractIncomingMessage) -> None:
            offset = (message.headers or {}).get("x-stream-offset")
            if isinstance(offset, int):
                arrived.put_nowait(offset)
            await message.ack()

        await queue.consume(on_message, arguments={"x-stream-offset": "last"})
        wait = FIRST_CHUNK_WAIT
        with contextlib.suppress(TimeoutError):
            while True:
                offset = await asyncio.wait_for(arrived.get(), wait)
                last = offset if last is None else max(last, offset)
                wait = CHUNK_IDLE
    finally:
        with contextlib.suppress(aiormq.exceptions.AMQPError, RuntimeError):
            if not channel.is_closed:
                await channel.close()
    return last


async def _messages(
    connection: AbstractConnection, stream: str, start: Any
) -> AsyncIterator[DeliveredMessage]:
    # aiormq's channel itself, not aio-pika's messages: a read goes through every message of
    # its window, and aio-pika's per-message objects cost a third of its CPU (bench/).
    channel = await connection.channel()
    try:
        await channel.set_qos(prefetch_count=PREFETCH)
        underlay = await channel.get_underlay_channel()
        arrived: asyncio.Queue[DeliveredMessage] = asyncio.Queue()

        async def on_message(message: DeliveredMessage) -> None:
            arrived.put_nowait(message)

        await underlay.basic_consume(
            stream, on_message, no_ack=False, arguments={"x-stream-offset": start}
        )
        unacked, first = 0, True
        while True:
            try:
                # Nothing at all at first: a seek by time past the last chunk (nothing that
                # recent); a stall later on is the broker's. (wait_for makes a task: only
                # when the queue is empty.)
                message = (
                    arrived.get_nowait()
                    if arrived.qsize()
                    else await asyncio.wait_for(
                        arrived.get(), FIRST_CHUNK_WAIT if first else READ_IDLE
                    )
                )
            except TimeoutError:
                if first:
                    return
                raise ArchiveStalled(f"no message from {stream!r} for {READ_IDLE:g}s") from None
            first = False
            unacked += 1
            if unacked >= ACK_EVERY:
                await underlay.basic_ack(message.delivery_tag or 0, multiple=True)
                unacked = 0
            yield message
    finally:
        with contextlib.suppress(aiormq.exceptions.AMQPError, RuntimeError):
            if not channel.is_closed:
                await channel.close()


class ArchiveStalled(Exception):
    """The broker stopped delivering before the read reached the stream's end."""


async def connect(amqp_url: str, purpose: str) -> AbstractConnection:
    """A plain connection of one command's own (a robust one would re-declare one-off work)."""
    return await aio_pika.connect(
        amqp_url, client_properties={"connection_name": f"hookq-events-{purpose}"}
    )
