"""What each handler declared, kept in the broker: who owns a handler's queue, which patterns may
still be bound to it, and which handler queues no deployment runs any more (issue 12, item 16).

``declare`` only ever adds bindings, and RabbitMQ tells an AMQP client neither a queue's
bindings nor which queues exist (only the management API does, and it is not always there).
So hookq keeps its own record: the stream ``Names.declarations_stream``. A worker's start
appends, for each handler it runs, one record ``{"handler", "origin" (module:function),
"patterns", "at", "adopt"}``, and after removing bindings one ``{"handler", "origin",
"unbound"}``. Replayed in order (``histories``), the records say for each handler:

- its owner: the origin of its first record, or of its latest record made with ``adopt``
  (``hookq worker --adopt NAME``: the handler moved to another module on purpose);
- the patterns its owners bound and nobody unbound since: what may still be bound;
- its owner's latest declaration.

A worker's start (``declare_start``) appends its records, reads up to them, and then refuses a
handler owned by another origin (``ForeignHandler``: two deployments with one handler name
would share its queue, each running the other's events), and says which patterns to unbind
(bound before, no longer declared) and which recorded handlers this deployment does not run
(``orphans``: those whose queue still exists and has no consumer). ``hookq dlq stats`` lists
the orphans too (``read`` and ``orphans``).

Why a stream: it lives where the queues live (durable, replicated like them), needs no Redis,
and is read from its first offset without consuming anything. Reading to its end needs an end:
the reader appends a marker (confirmed) and reads until it. The stream grows by about 200 bytes
per handler per worker start and 60 per read; it is never truncated, because the first records
decide ownership.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import aiormq
import orjson
import structlog
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from hookq.amqp import connect
from hookq.display import safe
from hookq.handlers.api import HandlerSpec
from hookq.settings import SettingsError
from hookq.topology import (
    Names,
    QueueState,
    declare_declarations_stream,
    queue_state,
    unbind_patterns,
)

log = structlog.get_logger("hookq.declarations")

READ_PREFETCH = 500  # records a reader has in flight: a stream delivers only with a prefetch
READ_TIMEOUT = 30.0  # seconds to read up to the marker (thousands of records take well under 1)
STREAM_START_TRIES = 10  # a new stream's writer starts within a second or two, even under load
STREAM_START_PAUSE = 0.5  # seconds between tries
STREAM_NOT_READY = (
    aiormq.exceptions.ConnectionInternalError,
    aiormq.exceptions.ConnectionResourceError,
)


@dataclass(frozen=True, slots=True)
class Declaration:
    """One record: a handler declared by a worker's start, or patterns its owner removed."""

    handler: str
    origin: str
    patterns: tuple[str, ...] = ()
    at: float = 0.0
    adopt: bool = False
    unbound: tuple[str, ...] = ()

    def body(self) -> bytes:
        record: dict[str, Any] = {"handler": self.handler, "origin": self.origin}
        if self.unbound:
            record["unbound"] = list(self.unbound)
        else:
            record |= {"patterns": list(self.patterns), "at": self.at, "adopt": self.adopt}
        return orjson.dumps(record)

    @classmethod
    def read(cls, record: Mapping[str, Any]) -> Declaration | None:
        """The record as written by ``body``; None for a marker or anything malformed."""
        handler, origin = record.get("handler"), record.get("origin")
        if not isinstance(handler, str) or not isinstance(origin, str):
            return None
        patterns, unbound = record.get("patterns", []), record.get("unbound", [])
        at = record.get("at", 0.0)
        if not _strings(patterns) or not _strings(unbound) or not isinstance(at, int | float):
            return None
        return cls(
            handler, origin, tuple(patterns), float(at), record.get("adopt") is True, tuple(unbound)
        )


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


@dataclass(slots=True)
class History:
    """A handler's records, replayed."""

    handler: str
    owner: str  # the origin its queue belongs to
    since: float  # when the owner first declared it (or adopted it)
    last: Declaration  # the owner's latest declaration
    ever: set[str] = field(default_factory=set)  # every pattern its owners declared
    unbound: set[str] = field(default_factory=set)  # removed since last declared

    @property
    def bound(self) -> set[str]:
        """The patterns that should still be bound."""
        return self.ever - self.unbound


def histories(records: Iterable[Declaration]) -> dict[str, History]:
    found: dict[str, History] = {}
    for record in records:
        history = found.get(record.handler)
        if record.unbound:
            if history is not None and record.origin == history.owner:
                history.unbound |= set(record.unbound)
        elif history is None or record.adopt:
            ever, unbound = (history.ever, history.unbound) if history else (set(), set())
            found[record.handler] = History(
                record.handler,
                record.origin,
                record.at,
                record,
                ever | set(record.patterns),
                unbound - set(record.patterns),
            )
        elif record.origin == history.owner:
            history.last = record
            history.ever |= set(record.patterns)
            history.unbound -= set(record.patterns)
        # Else another origin's declaration, which was refused: it bound nothing.
    return found


class ForeignHandler(SettingsError):
    """A handler whose queue belongs to another origin: the worker refuses to start (exit 2)."""


@dataclass(frozen=True, slots=True)
class Start:
    """What a worker's start must do besides declaring its handlers' queues."""

    # handler -> patterns declared before and not now: unbound at every start (a no-op when not
    # bound), because an older worker starting meanwhile may have bound them again.
    stale: dict[str, tuple[str, ...]]
    dropped: dict[str, tuple[str, ...]]  # the stale ones not recorded as unbound yet
    others: list[History]  # recorded handlers that this deployment does not run


@dataclass(frozen=True, slots=True)
class Orphan:
    """A recorded handler that nobody runs, whose queue is still there (and still bound)."""

    history: History
    queue: str
    state: QueueState
    dead: int  # messages in its dead queue


@contextlib.asynccontextmanager
async def declaring(
    amqp_url: str,
    connection_name: str,
    names: Names,
    specs: Mapping[str, HandlerSpec],
    *,
    adopt: Collection[str] = (),
    deployed: Collection[str] = (),
) -> AsyncIterator[None]:
    """Around a worker's declaration of its handlers' queues: first record them and refuse a
    foreign one (``ForeignHandler``), then (after the block declared the queues) unbind what
    they no longer ask for and warn of orphaned handler queues. ``deployed``: every handler
    this deployment runs (more than this worker's, with ``--handler``).

    On a connection of its own, closed after: a robust connection would re-declare the passive
    declarations and consumers of this one-off work after a reconnection."""
    connection, start = await _recorded(
        amqp_url, connection_name, names, specs, adopt=adopt, deployed=deployed
    )
    async with connection:
        yield
        for handler, patterns in start.stale.items():
            await unbind_stale(connection, names, specs[handler], patterns, start.dropped)
        for orphan in await orphans(connection, names, start.others):
            log.warning(
                "orphaned handler queue: no handler of this deployment declares it, it is still "
                "bound and fills, and nothing consumes it (hookq dlq stats lists it)",
                handler=orphan.history.handler,
                queue=orphan.queue,
                waiting=orphan.state.ready,
                dead=orphan.dead,
                declared_by=orphan.history.owner,
                last_declared=_iso(orphan.history.last.at),
                patterns=sorted(orphan.history.bound),
            )


async def _recorded(
    amqp_url: str,
    connection_name: str,
    names: Names,
    specs: Mapping[str, HandlerSpec],
    *,
    adopt: Collection[str],
    deployed: Collection[str],
) -> tuple[AbstractConnection, Start]:
    """``declare_start`` on a connection of its own, tried again on a new one while the broker
    closes it because the stream is not ready: RabbitMQ 3.10 answers a publish to a stream
    declared a moment ago with INTERNAL_ERROR while its writer has not started
    (``osiris_writer:write(none, ...)``), and with RESOURCE_ERROR "Stream not found" while
    another worker's declaration of it is under way (both seen with workers starting together
    on a loaded machine). Recording again is harmless: a handler's history keeps its first
    owner."""
    for attempt in range(1, STREAM_START_TRIES + 1):
        connection = await connect(amqp_url, connection_name)
        try:
            start = await declare_start(connection, names, specs, adopt=adopt, deployed=deployed)
        except STREAM_NOT_READY:
            await connection.close()
            if attempt == STREAM_START_TRIES:
                raise
            log.info("declarations stream not ready yet: trying again", attempt=attempt)
            await asyncio.sleep(STREAM_START_PAUSE)
        except BaseException:
            await connection.close()
            raise
        else:
            return connection, start
    raise AssertionError("unreachable")  # the last attempt returned or raised


async def declare_start(
    connection: AbstractConnection,
    names: Names,
    specs: Mapping[str, HandlerSpec],
    *,
    adopt: Collection[str] = (),
    deployed: Collection[str] = (),
) -> Start:
    """Record the handlers a worker is starting; raises ``ForeignHandler`` for any whose queue
    another origin owns."""
    now = time.time()
    own = [
        Declaration(name, spec.origin, spec.patterns, now, adopt=name in adopt)
        for name, spec in specs.items()
    ]
    history = histories(await _append_and_read(connection, names, own, create=True) or [])
    foreign = [
        (spec, history[name]) for name, spec in specs.items() if history[name].owner != spec.origin
    ]
    if foreign:
        message = _foreign_message(names, foreign)
        log.error("foreign handler: refusing to start", reason=message)
        raise ForeignHandler(message)
    stale = {name: history[name].ever - set(spec.patterns) for name, spec in specs.items()}
    dropped = {name: patterns - history[name].unbound for name, patterns in stale.items()}
    others = [h for name, h in history.items() if name not in specs and name not in deployed]
    return Start(_non_empty(stale), _non_empty(dropped), others)


def _non_empty(patterns: Mapping[str, set[str]]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(sorted(found)) for name, found in patterns.items() if found}


async def unbind_stale(
    connection: AbstractConnection,
    names: Names,
    spec: HandlerSpec,
    patterns: Sequence[str],
    dropped: Mapping[str, Sequence[str]],
) -> None:
    """Remove bindings ``spec`` no longer declares; record and log those dropped just now."""
    channel = await connection.channel()
    try:
        await unbind_patterns(channel, names, spec.name, patterns)
    finally:
        await channel.close()
    if new := tuple(dropped.get(spec.name, ())):
        await _append(connection, names, [Declaration(spec.name, spec.origin, unbound=new)], "")
        log.info("unbound patterns the handler no longer declares", handler=spec.name, patterns=new)


async def read(connection: AbstractConnection, names: Names) -> dict[str, History]:
    """Every recorded handler; empty when no worker ever recorded one (the stream is not
    created by reading)."""
    return histories(await _append_and_read(connection, names, [], create=False) or [])


async def orphans(
    connection: AbstractConnection, names: Names, candidates: Iterable[History]
) -> list[Orphan]:
    """The candidates whose handler queue exists and has no consumer."""
    found = []
    for history in candidates:
        queue = names.handler_queue(history.handler)
        state = await queue_state(connection, queue)
        if state is None or state.consumers:
            continue
        dead = await queue_state(connection, names.dead_queue(history.handler))
        found.append(Orphan(history, queue, state, dead.ready if dead else 0))
    return sorted(found, key=lambda orphan: orphan.history.handler)


def _foreign_message(names: Names, foreign: Sequence[tuple[HandlerSpec, History]]) -> str:
    # The owner comes from the stream, which anyone allowed to publish there could write.
    parts = [
        f"handler {spec.name!r} (queue {names.handler_queue(spec.name)}) belongs to "
        f"{safe(history.owner)}, declared since {_iso(history.since)}; this worker defines it in "
        f"{spec.origin}"
        for spec, history in foreign
    ]
    return (
        "; ".join(parts) + ". Two handlers must not share one queue: give this one another "
        "name=, or, if the handler moved there on purpose, start a worker once with "
        f"--adopt {foreign[0][0].name} (and stop the workers that run the old one)"
    )


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


async def _append_and_read(
    connection: AbstractConnection, names: Names, records: Sequence[Declaration], *, create: bool
) -> list[Declaration] | None:
    """Append ``records`` and a marker, then read the stream from its start up to the marker:
    everything recorded before it, ours included. None if the stream does not exist and
    ``create`` is false."""
    if not create and await queue_state(connection, names.declarations_stream) is None:
        return None
    mark = uuid.uuid4().hex
    await _append(connection, names, records, mark)
    return await _read_until(connection, names.declarations_stream, mark)


async def _append(
    connection: AbstractConnection, names: Names, records: Sequence[Declaration], mark: str
) -> None:
    channel = await connection.channel(publisher_confirms=True)
    try:
        stream = await declare_declarations_stream(channel, names)
        bodies = [record.body() for record in records]
        if mark:
            bodies.append(orjson.dumps({"mark": mark}))
        for body in bodies:
            message = aio_pika.Message(body, content_type="application/json")
            await channel.default_exchange.publish(message, routing_key=stream.name)
    finally:
        await channel.close()


async def _read_until(connection: AbstractConnection, stream: str, mark: str) -> list[Declaration]:
    # A consumer of our own, not aio-pika's queue iterator: the iterator, closed with messages
    # still buffered (another worker's records after our mark), rejects them with requeue, and
    # RabbitMQ answers a reject on a stream by closing the connection (NOT_IMPLEMENTED). What
    # is left unacked here is dropped with the channel, which a stream allows.
    channel = await connection.channel()
    arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
    records: list[Declaration] = []
    try:
        await channel.set_qos(prefetch_count=READ_PREFETCH)
        queue = await channel.get_queue(stream, ensure=False)

        async def on_message(message: AbstractIncomingMessage) -> None:
            arrived.put_nowait(message)

        await queue.consume(on_message, arguments={"x-stream-offset": "first"})
        async with asyncio.timeout(READ_TIMEOUT):
            while True:
                message = await arrived.get()
                await message.ack()  # a stream's consumer acks to be sent more
                record = _parse(message.body)
                if record.get("mark") == mark:
                    break
                if (declaration := Declaration.read(record)) is not None:
                    records.append(declaration)
    finally:
        if not channel.is_closed:
            await channel.close()
    return records


def _parse(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


__all__ = [
    "Declaration",
    "ForeignHandler",
    "History",
    "Orphan",
    "Start",
    "declare_start",
    "declaring",
    "histories",
    "orphans",
    "read",
]
