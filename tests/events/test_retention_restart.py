"""On a private broker (node hookqarch@localhost, port 5681: the shared one is never
restarted): the archive survives a broker restart, and events older than the configured age are
gone once the broker trims the stream (a short age and small segments: RabbitMQ drops whole
segments, when a new one is started)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from functools import partial

import aio_pika
import pytest

from hookq.events import Selection, search
from hookq.settings import Settings
from hookq.topology import ArchiveRetention, Names, queue_state
from tests.events.private_broker import PrivateBroker
from tests.events.support import archive_events, sample
from tests.support.events import eventually


async def _exists(connection: aio_pika.abc.AbstractConnection, name: str) -> bool:
    return await queue_state(connection, name) is not None


@pytest.fixture
def private_broker() -> Iterator[PrivateBroker]:
    with PrivateBroker.start() as broker:
        yield broker


async def test_archive_survives_a_restart_and_old_events_are_trimmed(
    settings: Settings, private_broker: PrivateBroker
) -> None:
    kept_settings = settings.model_copy(update={"amqp_url": private_broker.url})
    trimmed_settings = kept_settings.model_copy(update={"namespace": f"{settings.namespace}-t"})
    kept, trimmed = Names(kept_settings.namespace), Names(trimmed_settings.namespace)
    now = time.time()
    survivors, old = sample(60, now), sample(60, now)

    connection = await aio_pika.connect(private_broker.url)
    async with connection:
        await archive_events(connection, kept, survivors)
        short = ArchiveRetention("2s", None, 4096)  # a segment holds about a dozen events
        await archive_events(connection, trimmed, old, retention=short)

    await asyncio.to_thread(private_broker.restart)  # takes longer than the 2 s age
    connection = await aio_pika.connect(private_broker.url)
    async with connection:
        # A stream answers a passive declaration once its leader is back, shortly after start.
        for name in (kept.archive_stream, trimmed.archive_stream):
            await eventually(partial(_exists, connection, name), timeout=30, interval=0.5)

    assert [e.delivery_id for e in await search(kept_settings, Selection())] == [
        e.delivery_id for e in survivors
    ]
    old_ids = {e.delivery_id for e in old}
    connection = await aio_pika.connect(private_broker.url)
    async with connection:
        # The broker drops a whole segment once its newest event is older than the age, when it
        # starts a new one; the segment written across the restart holds old and new events.
        # Keep appending until every segment with an old event has aged out.

        async def old_events_gone() -> bool:
            latest = sample(20, time.time())
            await archive_events(connection, trimmed, latest)
            found = {e.delivery_id for e in await search(trimmed_settings, Selection())}
            return found.isdisjoint(old_ids) and {e.delivery_id for e in latest} <= found

        await eventually(old_events_gone, timeout=30, interval=1.0)
