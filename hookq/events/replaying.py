"""``replay``: archived events run once more in the handlers named (``hookq events replay``).

Each matching event is published to each target handler's own queue (by the direct exchange,
``Names.direct_exchange``), stamped with this replay's id (``hookq.message.replayed``). The
worker dedupes a replayed run on (delivery id, replay id) (``hookq.worker.dedupe``): the
handler runs the event once more even if it had done it, and once only within this replay.

A replay is resumable. Its checkpoint, a Redis hash (``Names.replay_checkpoint``), keeps its
selection (times already absolute), its handlers, the stream offset it ends at (events archived
after it began are not part of it), and the offset up to which every publish was confirmed. It
is advanced only after confirms, one window of publishes at a time. Killed at any moment, a
replay resumed with its id (``--resume``) sends again at most the last unconfirmed window: those
copies meet the done marks (or the claims) of this replay's id and are acked as duplicates. So
no event is skipped and none runs twice in the replay. The checkpoint lives as long as a done
mark (``dedupe_ttl``), the time during which resuming is safe.

A target handler gets only the events its declared patterns match (``hookq.declarations``):
replaying an order event to a handler of chats would fail validation or worse.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
import orjson
import redis.asyncio as aioredis
from aio_pika.abc import AbstractConnection

from hookq import declarations
from hookq.events import archive
from hookq.events.archive import ArchivedEvent
from hookq.events.finding import selected
from hookq.events.selection import Selection
from hookq.message import copy_message, replayed
from hookq.privacy import Privacy
from hookq.settings import Settings
from hookq.topology import Names, queue_state, topic_matches

WINDOW = 200  # publishes awaiting their confirms at once; the checkpoint advances per window

Progress = Callable[[int, int], None]  # (sent so far, to send in all), after each window


class ReplayError(ValueError):
    """A replay that cannot run as asked (an unknown handler or replay id): a usage error."""


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    replay_id: str
    matched: int  # events the selection matched (a provider's re-delivery counted once)
    sent: int  # copies confirmed by the broker in this replay, before a resume included
    planned: int  # copies to send in all: one per event per target handler bound to it
    handlers: tuple[str, ...]
    dry_run: bool = False
    resumed: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "replay_id": self.replay_id,
            "matched": self.matched,
            "sent": self.sent,
            "planned": self.planned,
            "handlers": list(self.handlers),
            "dry_run": self.dry_run,
            "resumed": self.resumed,
        }


@dataclass(slots=True)
class Checkpoint:
    selection: Selection
    handlers: tuple[str, ...] | None  # None: every handler bound to each event
    end_offset: int  # the stream's last offset when the replay began (-1: empty)
    done_offset: int = -1  # every publish of the events up to here was confirmed
    sent: int = 0

    def fields(self) -> dict[Any, Any]:  # redis-py's own key and value types
        return {
            "selection": orjson.dumps(self.selection.to_json()).decode(),
            "handlers": orjson.dumps(self.handlers).decode(),
            "end_offset": str(self.end_offset),
            "done_offset": str(self.done_offset),
            "sent": str(self.sent),
        }

    @classmethod
    def read(cls, raw: Mapping[bytes | str, bytes | str]) -> Checkpoint:
        handlers = orjson.loads(raw[b"handlers"])
        return cls(
            Selection.from_json(orjson.loads(raw[b"selection"])),
            tuple(handlers) if handlers is not None else None,
            int(raw[b"end_offset"]),
            int(raw[b"done_offset"]),
            int(raw[b"sent"]),
        )


async def replay(
    settings: Settings,
    selection: Selection | None,
    handlers: Sequence[str] | None,
    *,
    replay_id: str | None = None,
    rate: float | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ReplaySummary:
    """Send the selected events to ``handlers`` (None: to every handler bound to each) as a new
    replay, or resume replay ``replay_id`` (its own selection and handlers then apply, and
    ``selection`` and ``handlers`` may be None). ``ReplayError`` for an unknown handler or
    replay; ``ArchiveMissing`` when there is no archive."""
    if rate is not None and rate <= 0:
        raise ReplayError("the rate must be positive")
    names = Names(settings.namespace)
    client = aioredis.from_url(settings.redis_url)
    async with client, await archive.connect(settings.amqp_url, "replay") as connection:
        checkpoint, resumed = await _checkpoint(client, connection, names, replay_id, selection)
        if not resumed:
            checkpoint.handlers = tuple(handlers) if handlers is not None else None
        replay_id = replay_id or secrets.token_hex(6)
        patterns = await _patterns(connection, names, checkpoint.handlers)
        todo = await _matched(connection, names, checkpoint, Privacy.from_settings(settings))
        sends = [(event, h) for event in todo for h in _targets(event, patterns)]
        targets = tuple(sorted(patterns))
        if dry_run:
            return ReplaySummary(replay_id, len(todo), 0, len(sends), targets, dry_run=True)
        key = names.replay_checkpoint(replay_id)
        if not resumed:
            await client.hset(key, mapping=checkpoint.fields())
            await client.pexpire(key, round(settings.dedupe_ttl * 1000))
        pending = [(e, h) for e, h in sends if e.offset > checkpoint.done_offset]
        await _send(connection, client, names, key, replay_id, checkpoint, pending, rate, progress)
    return ReplaySummary(
        replay_id, len(todo), checkpoint.sent, len(sends), targets, resumed=resumed
    )


async def _checkpoint(
    client: aioredis.Redis,
    connection: AbstractConnection,
    names: Names,
    replay_id: str | None,
    selection: Selection | None,
) -> tuple[Checkpoint, bool]:
    if replay_id is not None:
        raw = await client.hgetall(names.replay_checkpoint(replay_id))
        if raw:
            return Checkpoint.read(raw), True
        if selection is None:
            raise ReplayError(f"no replay {replay_id!r} to resume (or it is older than its marks)")
    if await queue_state(connection, names.archive_stream) is None:
        raise archive.ArchiveMissing(f"no archive stream {names.archive_stream!r}")
    end = await archive.last_offset(connection, names)
    return Checkpoint(selection or Selection(), None, -1 if end is None else end), False


async def _patterns(
    connection: AbstractConnection, names: Names, handlers: tuple[str, ...] | None
) -> dict[str, set[str]]:
    """Each target handler's bound patterns, from the handlers' own record."""
    recorded = await declarations.read(connection, names)
    if handlers is None:
        return {name: history.bound for name, history in recorded.items() if history.bound}
    unknown = sorted(set(handlers) - set(recorded))
    if unknown:
        known = ", ".join(sorted(recorded)) or "none"
        raise ReplayError(f"unknown handler(s) {unknown}: no worker declared them (known: {known})")
    return {name: recorded[name].bound for name in handlers}


async def _matched(
    connection: AbstractConnection, names: Names, checkpoint: Checkpoint, privacy: Privacy
) -> list[ArchivedEvent]:
    """The replay's events: those selected up to its end offset (the newest ``limit``), each
    once: a provider's re-delivery of an event is another archived copy of it."""
    found: list[ArchivedEvent] = []
    seen: set[tuple[str, str]] = set()
    if checkpoint.end_offset < 0:
        return found
    async for event in selected(connection, names, checkpoint.selection, privacy):
        if event.offset > checkpoint.end_offset:
            break
        if (event.source, event.delivery_id) not in seen:
            seen.add((event.source, event.delivery_id))
            found.append(event)
    limit = checkpoint.selection.limit
    return found[-limit:] if limit else found


def _targets(event: ArchivedEvent, patterns: dict[str, set[str]]) -> list[str]:
    return sorted(
        name
        for name, bound in patterns.items()
        if any(topic_matches(p, event.routing_key) for p in bound)
    )


async def _send(
    connection: AbstractConnection,
    client: aioredis.Redis,
    names: Names,
    key: str,
    replay_id: str,
    checkpoint: Checkpoint,
    sends: list[tuple[ArchivedEvent, str]],
    rate: float | None,
    progress: Progress | None,
) -> None:
    total = checkpoint.sent + len(sends)
    channel = await connection.channel(publisher_confirms=True)
    try:
        direct = await channel.get_exchange(names.direct_exchange, ensure=False)
        started, this_run = time.monotonic(), 0
        # Under --rate, a window is at most a second's worth: the checkpoint keeps up.
        size = WINDOW if rate is None else max(1, min(WINDOW, int(rate)))
        for window in _windows(sends, size):
            now = time.time()
            publishes = []
            for event, handler in window:
                # --rate: copy n of this run is due n / rate seconds after it began.
                due = started + this_run / rate if rate is not None else None
                publishes.append(_publish(direct, names, event, handler, replay_id, now, due))
                this_run += 1
            await asyncio.gather(*publishes)
            checkpoint.sent += len(window)
            checkpoint.done_offset = window[-1][0].offset
            await client.hset(
                key, mapping={"done_offset": checkpoint.done_offset, "sent": checkpoint.sent}
            )
            if progress is not None:
                progress(checkpoint.sent, total)
    finally:
        if not channel.is_closed:
            await channel.close()


def _windows(
    sends: list[tuple[ArchivedEvent, str]], size: int
) -> list[list[tuple[ArchivedEvent, str]]]:
    """Consecutive windows of about ``size`` copies, each ending on an event's last copy: the
    checkpoint's offset then covers every handler's copy of every event up to it."""
    windows: list[list[tuple[ArchivedEvent, str]]] = []
    current: list[tuple[ArchivedEvent, str]] = []
    for index, send in enumerate(sends):
        current.append(send)
        last_copy = index + 1 == len(sends) or sends[index + 1][0].offset != send[0].offset
        if len(current) >= size and last_copy:
            windows.append(current)
            current = []
    if current:
        windows.append(current)
    return windows


async def _publish(
    direct: aio_pika.abc.AbstractExchange,
    names: Names,
    event: ArchivedEvent,
    handler: str,
    replay_id: str,
    now: float,
    due: float | None,
) -> None:
    if due is not None and (wait := due - time.monotonic()) > 0:
        await asyncio.sleep(wait)
    headers = replayed(event.headers, replay_id, now, back_to_handler=False)
    message = copy_message(event.body, headers)
    await direct.publish(message, routing_key=names.handler_queue(handler), mandatory=True)


__all__ = ["Progress", "ReplayError", "ReplaySummary", "replay"]
