"""Confirmed publishing to ``<ns>.events`` over a few long-lived channels.

With the archive on (``HOOKQ_ARCHIVE``, the default) the publish goes to ``<ns>.ingress``
instead, which routes it to the archive stream and on to ``<ns>.events`` (``hookq.topology``):
the same one publish and confirm, and the confirm covers the archive too.

The ingress answers 2xx only after ``publish`` returned: the broker confirmed the message (and
routed it, to a handler's queue or to the unrouted keeper). Anything else raises
``BrokerUnavailable`` and the ingress answers 503, so the provider retries. The publish itself
is ``ingress.confirms`` (aiormq's ``basic_publish`` where aiormq lacks what it uses).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import Iterator, Mapping

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from aiormq import spec

from hookq.amqp import PUBLISH_FAILURES, RECONNECT_INTERVAL, connect_robust
from hookq.ingress.amqp_properties import Properties
from hookq.ingress.confirms import ConfirmedPublisher, NotConfirmed, supports
from hookq.message import event_headers
from hookq.settings import Settings
from hookq.sources.base import Accepted
from hookq.topology import ArchiveRetention, Names, declare_archive, declare_exchanges

log = structlog.get_logger("hookq.ingress.publisher")

PERSISTENT = int(aio_pika.DeliveryMode.PERSISTENT)


# A channel whose publish was nacked is replaced, at most this often (seconds) per channel.
REPLACE_NACKING_CHANNEL_EVERY = 1.0


class BrokerUnavailable(Exception):
    """The broker did not confirm the message: not connected, refused, or too slow."""


def nacked(exc: BaseException) -> bool:
    """Whether a failed publish was refused by the broker (a ``basic.nack``), directly
    (aiormq's ``basic_publish``) or through ``ConfirmedPublisher``'s ``NotConfirmed``."""
    cause = exc.__cause__ if isinstance(exc, NotConfirmed) else exc
    return isinstance(cause, aiormq.exceptions.DeliveryError) and isinstance(
        cause.frame, spec.Basic.Nack
    )


class Publisher:
    def __init__(self, settings: Settings, names: Names, connection_name: str = "hookq-ingress"):
        self._url = settings.amqp_url
        self._names = names
        self._timeout = settings.publish_timeout
        self._channel_count = settings.publish_channels
        self._connection_name = connection_name
        self._connection: AbstractRobustConnection | None = None
        self._channels: list[AbstractChannel] = []
        self._next_channel: Iterator[AbstractChannel] = iter(())
        # Message ids: a random prefix per publisher and a counter, unique per publish like a
        # uuid4 but without reading the system's randomness for each one.
        self._id_prefix = f"{uuid.uuid4().hex[:16]}-"
        self._sequence = itertools.count()
        self._connecting: asyncio.Task[None] | None = None
        # Channels being replaced after a nack, and when each slot was last replaced.
        self._replacing: set[asyncio.Task[None]] = set()
        self._replaced_at: dict[int, float] = {}
        self._confirmed: ConfirmedPublisher | None = None  # set on connect (ingress.confirms)
        self._archive = (
            ArchiveRetention(
                settings.archive_max_age,
                settings.archive_max_bytes,
                settings.archive_segment_bytes,
            )
            if settings.archive
            else None
        )
        self._exchange = names.ingress_exchange if settings.archive else names.events_exchange

    async def start(self) -> None:
        """Connect in the background: the ingress serves (503s) while the broker is away."""
        self._connecting = asyncio.create_task(self._connect_until_done())

    async def wait_connected(self) -> None:
        """Until the first connection is made (bound it with ``asyncio.timeout``)."""
        assert self._connecting is not None, "start() first"
        await asyncio.shield(self._connecting)

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        for replacing in self._replacing:
            replacing.cancel()
        if self._confirmed is not None:
            await self._confirmed.close()
        if self._connection is not None:
            await self._connection.close()

    @property
    def ready(self) -> bool:
        return (
            self._connection is not None
            and not self._connection.is_closed
            and self._connection.connected.is_set()
            and bool(self._channels)
            and not any(channel.is_closed for channel in self._channels)
        )

    async def _connect_until_done(self) -> None:
        # The first connection is waited for (and why it fails logged) by connect_robust; a
        # robust connection then re-opens itself and its channels after an outage.
        while True:
            connection = await connect_robust(self._url, self._connection_name)
            try:
                await self._open_channels(connection)
                return
            except (OSError, *PUBLISH_FAILURES) as exc:
                log.warning("publisher channels refused, retrying", error=str(exc))
                with contextlib.suppress(Exception):
                    await connection.close()
                await asyncio.sleep(RECONNECT_INTERVAL)

    async def _open_channels(self, connection: AbstractRobustConnection) -> None:
        channels: list[AbstractChannel] = []
        if self._archive is not None:
            await declare_archive(connection, self._names, self._archive)
        for _ in range(self._channel_count):
            channel = await self._open_channel(connection)
            await declare_exchanges(channel, self._names)
            channels.append(channel)
        if supports(await channels[0].get_underlay_channel()):
            self._confirmed = ConfirmedPublisher(self._timeout)
        else:
            log.warning("aiormq without the expected channel internals: using basic_publish")
        self._connection, self._channels = connection, channels
        self._next_channel = itertools.cycle(channels)
        log.info("publisher ready", channels=len(channels))

    @staticmethod
    async def _open_channel(connection: AbstractRobustConnection) -> AbstractChannel:
        return await connection.channel(publisher_confirms=True, on_return_raises=True)

    def _replace_nacking(self, channel: AbstractChannel) -> None:
        """Replace a channel the broker nacked a publish on, in the background.

        A channel keeps what it learned of each queue's leader. On RabbitMQ 3.10 a channel
        opened while a stream changed writers (the ingress moving to another node as the node
        it left, holding the archive's writer, shut down) kept nacking every publish routed to
        the stream, for as long as it lived (docs/reliability.md, "Stuck nacks"). A new channel
        asks afresh. Harmless otherwise: a nack is rare (a full queue refusing), and a slot is
        replaced at most once a second."""
        try:
            slot = self._channels.index(channel)
        except ValueError:
            return  # replaced already
        now = time.monotonic()
        if now - self._replaced_at.get(slot, -REPLACE_NACKING_CHANNEL_EVERY) < (
            REPLACE_NACKING_CHANNEL_EVERY
        ):
            return
        self._replaced_at[slot] = now
        task = asyncio.create_task(self._replace(slot, channel))
        self._replacing.add(task)
        task.add_done_callback(self._replacing.discard)

    async def _replace(self, slot: int, old: AbstractChannel) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            new = await self._open_channel(connection)
        except (OSError, *PUBLISH_FAILURES) as exc:
            log.warning("nacking publisher channel not replaced", error=str(exc))
            return
        swapped = slot < len(self._channels) and self._channels[slot] is old
        if swapped:
            self._channels[slot] = new
            self._next_channel = itertools.cycle(self._channels)
            log.warning("publisher channel replaced after a nack", slot=slot)
        # The one left out closes: the nacking one (its publishes still waiting fail, 503, and
        # their providers retry), or the new one if the publisher closed meanwhile.
        with contextlib.suppress(Exception):
            await (old if swapped else new).close()

    async def publish(
        self,
        source: str,
        accepted: Accepted,
        received_at: float,
        trace: Mapping[str, str] | None = None,
    ) -> None:
        connection = self._connection
        # ``ready`` for this publish only: its channel, not every channel (per request, bench/).
        # No connection yet: no channel either (a request that came as soon as the port opened).
        if connection is None or connection.is_closed or not connection.connected.is_set():
            raise BrokerUnavailable("not connected to the broker")
        channel = next(self._next_channel)
        if channel.is_closed:
            raise BrokerUnavailable("not connected to the broker")
        headers = event_headers(
            source,
            accepted.event_type,
            accepted.delivery_id,
            received_at,
            accepted.provider_headers,
            trace,
        )
        # The AMQP properties are built once, here, and handed to aiormq: an aio_pika.Message
        # (whose every attribute set is a Python-level check) and Exchange.publish (which builds
        # the properties again) cost about a fifth of the ingress's CPU per request (bench/);
        # Properties also encodes the header table faster.
        properties = Properties(
            content_type="application/json",
            delivery_mode=PERSISTENT,
            # Unique per publish: a mandatory return finds its publish by message id. The
            # provider's delivery id travels in its own header.
            message_id=f"{self._id_prefix}{next(self._sequence):x}",
            headers=headers,
        )
        exchange, routing_key = self._exchange, f"{source}.{accepted.event_type}"
        try:
            # A robust channel's underlay waits while its connection reconnects; we found it
            # connected and nothing was awaited since, so this returns at once.
            underlay = await channel.get_underlay_channel()
            if self._confirmed is not None:
                await self._confirmed.publish(
                    underlay,
                    accepted.body,
                    exchange=exchange,
                    routing_key=routing_key,
                    properties=properties,
                )
            else:  # an aiormq without the internals ConfirmedPublisher uses
                await underlay.basic_publish(
                    accepted.body,
                    exchange=exchange,
                    routing_key=routing_key,
                    properties=properties,
                    mandatory=True,
                    timeout=self._timeout,
                )
        except (*PUBLISH_FAILURES, NotConfirmed) as exc:
            if nacked(exc):
                self._replace_nacking(channel)
            raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc
