"""``trace``: one event's fate in each handler bound to it now (``hookq events show``).

Which handlers are bound comes from the handlers' own record (``hookq.declarations``: the
patterns each declared and did not unbind since). Each handler's fate is read where the worker
keeps it, the event's dedupe key (``hookq.worker.dedupe``, generation ``0``: what the provider
sent, not an operator's replay):

- ``done``: the done mark; when, from its time to live (set to ``dedupe_ttl`` when marked);
- ``running``: a claim (held while a run is under way, until its lease);
- ``retrying``: the retry note (the attempt the retry is for, when it is due);
- ``dead``: the dead mark; why, from the dead letter in the handler's dead queue (browsed, never
  consumed), and when, like ``done``;
- ``pending``: no key: not delivered to the handler yet (or its mark has expired).

Transactional handlers keep their marks in PostgreSQL's inbox, not in Redis: they read
``pending`` or ``running`` here (a known limit). How many times the provider delivered the event
is the number of copies the archive holds with its delivery id.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis.asyncio as aioredis
from aio_pika.abc import AbstractConnection

from hookq import declarations
from hookq.dlq.browse import Reading, browse
from hookq.dlq.records import DeadQueue
from hookq.events import archive
from hookq.events.archive import ArchivedEvent
from hookq.settings import Settings
from hookq.topology import Names, topic_matches
from hookq.worker.dedupe import DEAD, DONE, read_retry_note

PROVIDER_GENERATION = "0"  # the dedupe generation of what the provider sent (no replay)
DEAD_LETTER_WAIT = 1.0  # seconds show waits for another browse of a dead queue to finish


class State(enum.StrEnum):
    DONE = "done"
    RUNNING = "running"
    RETRYING = "retrying"
    DEAD = "dead"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class HandlerFate:
    handler: str
    state: State
    at: datetime | None = None  # done, dead: when it was marked
    attempt: int | None = None  # retrying: the attempt the retry is for
    next_try: datetime | None = None  # retrying: when it is due
    reason: str | None = None  # dead: "<error type>: <message>" (unmasked: render masks it)

    def to_json(self) -> dict[str, object]:
        found: dict[str, object] = {"handler": self.handler, "state": self.state.value}
        for key, value in (
            ("at", self.at),
            ("attempt", self.attempt),
            ("next_try", self.next_try),
            ("reason", self.reason),
        ):
            if value is not None:
                found[key] = _iso(value) if isinstance(value, datetime) else value
        return found


@dataclass(frozen=True, slots=True)
class Trace:
    event: ArchivedEvent  # the first copy archived
    deliveries: int  # copies archived: how many times the provider delivered it
    handlers: list[HandlerFate] = field(default_factory=list)


async def trace(
    settings: Settings, delivery_id: str, *, since: datetime | None = None
) -> Trace | None:
    """The event with this delivery id and its fate in each handler bound to it now; None when
    the archive holds no such event. ``since``: read from then, not the whole archive (its
    copies before then are not counted)."""
    names = Names(settings.namespace)
    async with await archive.connect(settings.amqp_url, "show") as connection:
        copies = [
            event
            async for event in archive.read(connection, names, since=since)
            if event.delivery_id == delivery_id
        ]
        if not copies:
            return None
        event = copies[0]
        bound = await bound_handlers(connection, names, event.routing_key)
        client = aioredis.from_url(settings.redis_url)
        async with client:
            fates = [
                await _fate(connection, client, settings, names, handler, event)
                for handler in bound
            ]
    return Trace(event, len(copies), fates)


async def bound_handlers(
    connection: AbstractConnection, names: Names, routing_key: str
) -> list[str]:
    """The handlers whose declared patterns match ``routing_key`` now, by name."""
    recorded = await declarations.read(connection, names)
    return sorted(
        name
        for name, history in recorded.items()
        if any(topic_matches(pattern, routing_key) for pattern in history.bound)
    )


async def _fate(
    connection: AbstractConnection,
    client: aioredis.Redis,
    settings: Settings,
    names: Names,
    handler: str,
    event: ArchivedEvent,
) -> HandlerFate:
    key = names.redis_key(
        "dedupe", handler, event.source, event.event_type, PROVIDER_GENERATION, event.delivery_id
    )
    raw, pttl = await client.get(key), await client.pttl(key)
    if raw is None:
        return HandlerFate(handler, State.PENDING)
    value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if value in (DONE, DEAD):
        # The mark was set to live dedupe_ttl: its age is what it has lost since.
        marked = time.time() - (settings.dedupe_ttl - max(0, pttl) / 1000)
        at = datetime.fromtimestamp(marked, UTC)
        if value == DONE:
            return HandlerFate(handler, State.DONE, at=at)
        reason = await _dead_reason(connection, names, handler, event.delivery_id)
        return HandlerFate(handler, State.DEAD, at=at, reason=reason)
    if (note := read_retry_note(value)) is not None:
        attempt, due = note
        return HandlerFate(
            handler, State.RETRYING, attempt=attempt, next_try=datetime.fromtimestamp(due, UTC)
        )
    return HandlerFate(handler, State.RUNNING)


async def _dead_reason(
    connection: AbstractConnection, names: Names, handler: str, delivery_id: str
) -> str | None:
    snapshot = await browse(
        connection,
        DeadQueue(handler, names.dead_queue(handler)),
        names.namespace,
        wait=DEAD_LETTER_WAIT,
        reading=Reading(counts=lambda record: record.delivery_id == delivery_id, enough=1),
    )
    for record in snapshot.records:
        if record.delivery_id == delivery_id:
            return f"{record.error_type}: {record.error_message}"
    return None  # replayed or purged from the dead queue since


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
