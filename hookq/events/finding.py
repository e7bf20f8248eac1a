"""``search``: the archived events a ``Selection`` names (``hookq events list``, the console)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator

from aio_pika.abc import AbstractConnection

from hookq.events import archive
from hookq.events.archive import ArchivedEvent
from hookq.events.selection import Selection, matcher
from hookq.privacy import Privacy
from hookq.settings import Settings
from hookq.topology import Names


async def selected(
    connection: AbstractConnection,
    names: Names,
    selection: Selection,
    privacy: Privacy,
) -> AsyncIterator[ArchivedEvent]:
    """Every archived event the selection matches (``limit`` aside), in stream order."""
    matches = matcher(selection, privacy)
    events = archive.read(connection, names, selection.since, selection.until)
    async for event in events:
        at = int(event.received_at.timestamp())
        if matches(event.source, event.event_type, event.delivery_id, at, event.body):
            yield event


async def search(settings: Settings, selection: Selection) -> list[ArchivedEvent]:
    """The matching events, oldest first; with ``limit``, the newest ``limit`` of them. Raises
    ``ArchiveMissing`` when there is no archive."""
    privacy = Privacy.from_settings(settings)
    kept: deque[ArchivedEvent] = deque(maxlen=selection.limit)
    async with await archive.connect(settings.amqp_url, "search") as connection:
        async for event in selected(connection, Names(settings.namespace), selection, privacy):
            kept.append(event)
    return list(kept)
