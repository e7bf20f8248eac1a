"""Names and declarations of every exchange, queue and header hookq uses.

Nothing else spells these names. The shape, with ``ns`` the namespace setting (``hookq``):

- ``ns.events`` (topic): the ingress publishes here with routing key ``<source>.<event type>``.
  Its alternate exchange ``ns.unrouted`` (fanout) keeps what no handler is bound to in the
  queue ``ns.unrouted``.
- ``ns.<handler>``: one quorum queue per handler, bound to ``ns.events`` by the handler's
  patterns. Its delivery limit sends crash-looping messages to the handler's dead queue.
- ``ns.<handler>.retry.<delay>``: fixed-TTL quorum queues (one per delay tier) that
  dead-letter back to the handler's queue, at least once.
- ``ns.<handler>.dead``: the handler's dead letters. A classic queue: it never drops a
  message by itself (no delivery limit, no TTL) and a message returned to it while an
  operator browses goes back to its own place.
- ``ns.direct`` (direct): the route by which the broker dead-letters into a named queue;
  every handler, retry and dead queue is bound to it under its own name.
- ``ns.ingress`` (fanout) and ``ns.archive`` (a stream), when the archive is on
  (``HOOKQ_ARCHIVE``, ``hookq.events``): the ingress publishes to ``ns.ingress``, which routes
  each event to the archive stream and, by an exchange-to-exchange binding, to ``ns.events``
  with its routing key. One confirmed publish reaches both. The stream is not bound to
  ``ns.events`` itself: bound there with ``#`` it would route every event, and ``ns.events``'s
  alternate exchange (the unrouted keeper) would never fire; RabbitMQ applies an alternate
  exchange per exchange, so ``ns.events`` still sends what no handler takes to ``ns.unrouted``.
- ``ns.handlers.declared``: a stream, the record of what each handler declared (its origin and
  patterns, ``hookq.declarations``). No handler's queue can take this name: a handler's names
  end in its own name, ``.retry.<delay>`` or ``.dead``.

The headers a message carries are the message format's (``hookq.message``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiormq
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractQueue,
    AbstractRobustChannel,
    ExchangeType,
    FieldValue,
)

log = structlog.get_logger("hookq.topology")

CLASSIC: dict[str, FieldValue] = {"x-queue-type": "classic"}
RECOVERY_TIMEOUT = 30.0  # seconds for a robust channel to re-open after a refused declaration

HANDLER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
RESERVED_HANDLER_NAMES = frozenset({"events", "unrouted", "direct", "ingress", "archive"})


def format_delay(seconds: float) -> str:
    """A delay as a queue-name suffix: ``500ms``, ``5s``, ``2m``, ``1h``."""
    ms = round(seconds * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True, slots=True)
class Names:
    namespace: str = "hookq"

    @property
    def events_exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def unrouted_exchange(self) -> str:
        return f"{self.namespace}.unrouted"

    @property
    def unrouted_queue(self) -> str:
        return f"{self.namespace}.unrouted"

    @property
    def direct_exchange(self) -> str:
        return f"{self.namespace}.direct"

    def handler_queue(self, handler: str) -> str:
        return f"{self.namespace}.{handler}"

    def retry_queue(self, handler: str, delay: float) -> str:
        return f"{self.namespace}.{handler}.retry.{format_delay(delay)}"

    def dead_queue(self, handler: str) -> str:
        return f"{self.namespace}.{handler}.dead"

    @property
    def ingress_exchange(self) -> str:
        return f"{self.namespace}.ingress"

    @property
    def archive_stream(self) -> str:
        return f"{self.namespace}.archive"

    @property
    def declarations_stream(self) -> str:
        return f"{self.namespace}.handlers.declared"

    def replay_checkpoint(self, replay_id: str) -> str:
        """The Redis hash of an archive replay's progress (``hookq.events.replaying``)."""
        return self.redis_key("archive-replay", replay_id)

    def redis_key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))


def check_handler_name(name: str) -> None:
    if not HANDLER_NAME.fullmatch(name) or name in RESERVED_HANDLER_NAMES:
        raise ValueError(
            f"invalid handler name {name!r}: lowercase letters, digits, '_' and '-', "
            f"not one of {sorted(RESERVED_HANDLER_NAMES)}"
        )


_TOPIC_WORD = re.compile(r"[A-Za-z0-9_\-]+")


def check_pattern(pattern: str) -> None:
    """A RabbitMQ topic pattern over ``<source>.<event type>``: words, ``*`` and ``#``."""
    words = pattern.split(".")
    if not pattern or not all(w in ("*", "#") or _TOPIC_WORD.fullmatch(w) for w in words):
        raise ValueError(
            f"invalid pattern {pattern!r}: dot-separated words, '*' (one word) or '#' (any)"
        )


def topic_matches(pattern: str, routing_key: str) -> bool:
    """Whether a topic ``pattern`` (``*`` one word, ``#`` zero or more) matches ``routing_key``,
    as RabbitMQ decides it."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


def _quorum(names: Names, dead_letter_to: str) -> dict[str, FieldValue]:
    # reject-publish: a full queue refuses (our confirm fails and we retry) instead of
    # silently dropping its oldest message; at-least-once: dead-lettering survives failures.
    return {
        "x-queue-type": "quorum",
        "x-overflow": "reject-publish",
        "x-dead-letter-strategy": "at-least-once",
        "x-dead-letter-exchange": names.direct_exchange,
        "x-dead-letter-routing-key": dead_letter_to,
    }


async def _declare_classic(channel: AbstractChannel, name: str) -> AbstractQueue | None:
    """A classic queue (unrouted, dead letters). It lives on one node of a cluster, and
    declaring it while that node is down fails (NOT_FOUND: home node down). So a robust channel
    declares it once, not again on each reconnection (that failure would keep the channel, with
    a handler's consumer or the ingress's publishing, from coming back on the live nodes), and
    a process starting meanwhile goes on without it: None, and a warning. What would go to it
    waits (dead letters, in their handler's quorum queue) or is refused (an unrouted event:
    503) until its node is back (docs/guarantees.md)."""
    if not isinstance(channel, AbstractRobustChannel):
        return await channel.declare_queue(name, durable=True, arguments=CLASSIC)
    # The broker closes the channel on that refusal; a robust channel re-opens itself.
    reopened = asyncio.Event()

    def on_reopen(_channel: object) -> None:
        reopened.set()

    channel.reopen_callbacks.add(on_reopen)
    try:
        return await channel.declare_queue(name, durable=True, arguments=CLASSIC, robust=False)
    except aiormq.exceptions.ChannelNotFoundEntity as exc:
        if "home node" not in str(exc):
            raise
        log.warning("classic queue unavailable: its node is down", queue=name, reason=str(exc))
        async with asyncio.timeout(RECOVERY_TIMEOUT):
            await reopened.wait()
        return None
    finally:
        channel.reopen_callbacks.discard(on_reopen)


async def declare_exchanges(
    channel: AbstractChannel, names: Names
) -> tuple[AbstractExchange, AbstractExchange]:
    """The events exchange (with its unrouted keeper) and the direct exchange. Idempotent."""
    unrouted = await channel.declare_exchange(
        names.unrouted_exchange, ExchangeType.FANOUT, durable=True
    )
    unrouted_queue = await _declare_classic(channel, names.unrouted_queue)
    if unrouted_queue is not None:
        await unrouted_queue.bind(unrouted)
    events = await channel.declare_exchange(
        names.events_exchange,
        ExchangeType.TOPIC,
        durable=True,
        arguments={"alternate-exchange": names.unrouted_exchange},
    )
    direct = await channel.declare_exchange(
        names.direct_exchange, ExchangeType.DIRECT, durable=True
    )
    return events, direct


async def declare_handler(
    channel: AbstractChannel,
    names: Names,
    handler: str,
    patterns: Sequence[str],
    delays: Iterable[float],
    delivery_limit: int,
) -> AbstractQueue:
    """A handler's queue, bindings, delay tiers and dead queue. Idempotent; returns its queue."""
    events, direct = await declare_exchanges(channel, names)
    main_name, dead_name = names.handler_queue(handler), names.dead_queue(handler)

    dead = await _declare_classic(channel, dead_name)
    if dead is not None:
        await dead.bind(direct, routing_key=dead_name)

    main = await channel.declare_queue(
        main_name,
        durable=True,
        arguments=_quorum(names, dead_letter_to=dead_name) | {"x-delivery-limit": delivery_limit},
    )
    await main.bind(direct, routing_key=main_name)
    for pattern in patterns:
        await main.bind(events, routing_key=pattern)

    for delay in sorted(set(delays)):
        tier_name = names.retry_queue(handler, delay)
        tier = await channel.declare_queue(
            tier_name,
            durable=True,
            arguments=_quorum(names, dead_letter_to=main_name)
            | {"x-message-ttl": max(1, round(delay * 1000))},
        )
        await tier.bind(direct, routing_key=tier_name)
    return main


@dataclass(frozen=True, slots=True)
class ArchiveRetention:
    """The archive stream's arguments, fixed when it is first declared (a policy changes them
    later: docs/operators.md)."""

    max_age: str  # RabbitMQ's syntax: 7D, 12h, 30m, 90s
    max_bytes: int | None
    segment_bytes: int | None

    def arguments(self) -> dict[str, FieldValue]:
        arguments: dict[str, FieldValue] = {"x-queue-type": "stream", "x-max-age": self.max_age}
        if self.max_bytes is not None:
            arguments["x-max-length-bytes"] = self.max_bytes
        if self.segment_bytes is not None:
            arguments["x-stream-max-segment-size-bytes"] = self.segment_bytes
        return arguments


async def declare_archive(
    connection: AbstractConnection, names: Names, retention: ArchiveRetention
) -> None:
    """The ingress exchange routing to the archive stream and to the events exchange.
    Idempotent; on a channel of its own. A stream that exists already is left as it is: its
    arguments were fixed when it was declared, and declaring it again with others would fail (a
    channel error) for every ingress started after a retention setting changed."""
    exists = await queue_state(connection, names.archive_stream) is not None
    channel = await connection.channel()
    try:
        events, _direct = await declare_exchanges(channel, names)
        ingress = await channel.declare_exchange(
            names.ingress_exchange, ExchangeType.FANOUT, durable=True
        )
        if exists:
            archive = await channel.get_queue(names.archive_stream, ensure=False)
        else:
            archive = await channel.declare_queue(
                names.archive_stream, durable=True, arguments=retention.arguments()
            )
        await archive.bind(ingress)
        await events.bind(ingress)
    finally:
        await channel.close()


async def declare_declarations_stream(channel: AbstractChannel, names: Names) -> AbstractQueue:
    """The stream of handlers' declarations (``hookq.declarations``). Idempotent."""
    return await channel.declare_queue(
        names.declarations_stream, durable=True, arguments={"x-queue-type": "stream"}
    )


async def unbind_patterns(
    channel: AbstractChannel, names: Names, handler: str, patterns: Iterable[str]
) -> None:
    """Remove bindings of a handler's queue to the events exchange (one that does not exist is
    no error: RabbitMQ answers unbind-ok)."""
    queue = await channel.get_queue(names.handler_queue(handler), ensure=False)
    for pattern in patterns:
        await queue.unbind(names.events_exchange, routing_key=pattern)


@dataclass(frozen=True, slots=True)
class QueueState:
    ready: int  # messages waiting (not those delivered to a consumer and not yet acked)
    consumers: int


async def queue_state(connection: AbstractConnection, queue: str) -> QueueState | None:
    """The queue's counts, or None if it does not exist: a passive declare, on a channel of its
    own because a 404 closes the channel.

    An AMQP channel of the connection, not one of aio-pika's: a robust channel the broker closed
    reopens itself and stays open, so each question about a missing queue left a channel behind
    (the console, asking every few seconds, reached the broker's limit of channels, and every
    reconnection reopened them all)."""
    transport = connection.transport
    if transport is None:  # as aio-pika's own channel opening answers a closed connection
        raise aiormq.exceptions.ChannelInvalidStateError("No active transport in channel")
    await transport.ready()
    channel = await transport.connection.channel()
    try:
        declared = await channel.queue_declare(queue, passive=True)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return None
    finally:
        if not channel.is_closed:
            await channel.close()
    return QueueState(ready=declared.message_count or 0, consumers=declared.consumer_count or 0)
