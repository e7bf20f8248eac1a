"""Reading a dead queue without changing it.

How: consume the queue without acknowledging anything, then close the channel. The broker
returns every unacknowledged delivery to the queue, and a classic queue (every dead queue and
the unrouted queue are classic) puts a returned message back at its original position. Nothing
is ever acked here, so a browse cannot drop a message; nothing is republished, so it cannot
duplicate one; and returns go back in place, so it does not reorder. If this process dies
mid-browse, the broker sees the connection close and does the same.

While we hold the messages, nobody else sees them. So a browse:

- takes an *exclusive* consumer when the queue has no consumer: two operators browsing at once
  are serialised by the broker (the loser retries for ``wait`` seconds; a browse of thousands of
  messages holds them for well under a second), and a replay or purge starting meanwhile waits;
- if another session stays attached longer than ``wait`` (a replay or purge under way), browses
  alongside it and reports the view as partial: the messages that session holds at that moment
  are not shown (``Snapshot.complete`` is False, with the number of other consumers).

Memory is bounded by what is shown, not by what is dead: a flood of large dead letters must not
make the tools unusable (issue 12, item 14). Each message is turned into a record as it arrives
and, unless the ``Reading`` wants it whole (``show``: the delivery id asked for), its body,
header table and traceback are dropped there and then. A ``Reading`` with ``enough`` stops once
that many records it counts were read (``list --limit``): the consumer's window is no larger
than that, and past it messages are fetched one at a time, only while more are needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import aiormq
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage, AbstractQueue

from hookq.dlq.queues import queue_state
from hookq.dlq.records import DeadQueue, DeadRecord

IDLE = 0.3  # seconds without a delivery before asking the broker whether more is coming
MAX_PREFETCH = 65535  # AMQP's prefetch is a short; above it, unlimited
# Seconds past ``wait`` to keep trying while other browses hold the queue exclusively, each for
# well under a second: only a tight loop of browses could starve us that long.
BUSY_PATIENCE = 10.0


Keep = Callable[[DeadRecord], bool]
Recorder = Callable[[AbstractIncomingMessage], DeadRecord]


class QueueBusy(Exception):
    """Another session held the queue exclusively for longer than we were willing to wait."""


def _none(_record: DeadRecord) -> bool:
    return False


def _every(_record: DeadRecord) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Reading:
    """How much of a queue a browse keeps: the records ``whole`` wants with their body, header
    table and traceback (the rest without), and, with ``enough``, only until that many records
    that ``counts`` were read."""

    whole: Keep = _none
    counts: Keep = _every
    enough: int | None = None

    def after(self, snapshot: Snapshot) -> Reading:
        """This reading for the next queue: ``enough`` less what ``snapshot`` counted."""
        if self.enough is None:
            return self
        counted = sum(1 for record in snapshot.records if self.counts(record))
        return dataclasses.replace(self, enough=max(0, self.enough - counted))


LEAN = Reading()  # every record, without body, header table or traceback
WHOLE = Reading(whole=_every)


@dataclass(frozen=True, slots=True)
class Snapshot:
    queue: DeadQueue
    records: list[DeadRecord] = field(default_factory=list)
    ready: int = 0  # messages the broker said were waiting when we started
    other_consumers: int = 0  # other sessions attached while we browsed (held messages hidden)
    exists: bool = True
    stopped_early: bool = False  # had read ``Reading.enough``: the rest was not read

    @property
    def complete(self) -> bool:
        return self.other_consumers == 0

    @property
    def unread(self) -> int:
        """Messages waiting that this browse did not read because it had read enough."""
        return max(0, self.ready - len(self.records)) if self.stopped_early else 0


async def browse(
    connection: AbstractConnection,
    queue: DeadQueue,
    namespace: str,
    *,
    wait: float = 3.0,
    reading: Reading = LEAN,
) -> Snapshot:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        state = await queue_state(connection, queue.name)
        if state is None:
            return Snapshot(queue, exists=False)
        late = loop.time() >= deadline
        if state.consumers == 0 or late:
            try:
                return await _take_all(connection, queue, namespace, reading, exclusive=not late)
            except aiormq.exceptions.ChannelAccessRefused:
                # Another browse won the race for exclusivity (or holds it): wait our turn.
                if loop.time() >= deadline + BUSY_PATIENCE:
                    raise QueueBusy(
                        f"{queue.name} is held exclusively by another browse; try again"
                    ) from None
        await asyncio.sleep(random.uniform(0.05, 0.2))  # jitter: racing browsers interleave


async def _take_all(
    connection: AbstractConnection,
    queue: DeadQueue,
    namespace: str,
    reading: Reading,
    *,
    exclusive: bool,
) -> Snapshot:
    channel = await connection.channel(publisher_confirms=False)
    try:
        amqp_queue = await channel.declare_queue(queue.name, passive=True)
        ready = amqp_queue.declaration_result.message_count or 0
        if ready == 0 or reading.enough == 0:
            others = _others(amqp_queue, exclusive)
            return Snapshot(queue, ready=ready, other_consumers=others, stopped_early=ready > 0)
        record_of = _recorder(queue, namespace, reading)
        records = await _read(amqp_queue, ready, record_of, reading, exclusive=exclusive)
        others = 0 if exclusive else await _other_consumers(amqp_queue)
        stopped = len(records) < ready and _counted(records, reading) == reading.enough
        return Snapshot(queue, records, ready=ready, other_consumers=others, stopped_early=stopped)
    finally:
        # Never ack: closing the channel returns every delivery to its own place.
        with contextlib.suppress(aiormq.exceptions.AMQPError, RuntimeError):
            if not channel.is_closed:
                await channel.close()


async def _read(
    amqp_queue: AbstractQueue, ready: int, record_of: Recorder, reading: Reading, *, exclusive: bool
) -> list[DeadRecord]:
    # Exactly what was waiting (messages dead-lettered meanwhile are not pulled in), or no more
    # than could be enough: the broker never sends more than we may need.
    window = min(ready, reading.enough or ready)
    await amqp_queue.channel.set_qos(prefetch_count=window if window <= MAX_PREFETCH else 0)
    inbox: asyncio.Queue[DeadRecord | Exception] = asyncio.Queue()

    async def on_message(message: AbstractIncomingMessage) -> None:
        try:
            inbox.put_nowait(record_of(message))  # the body goes with ``message``, now
        except Exception as exc:  # raised by the browse, not lost in aio-pika's task
            inbox.put_nowait(exc)

    await amqp_queue.consume(on_message, no_ack=False, exclusive=exclusive)
    records = await _receive(amqp_queue, inbox, window, reading)
    if len(records) == window < ready and _counted(records, reading) < (reading.enough or 0):
        # The window was not enough (a filter passed over some): the rest one at a time.
        records += await _fetch(amqp_queue, ready - window, record_of, reading, records)
    return records


def _recorder(queue: DeadQueue, namespace: str, reading: Reading) -> Recorder:
    """Turns each message, in arrival order, into the record the reading keeps."""
    positions = itertools.count()

    def record_of(message: AbstractIncomingMessage) -> DeadRecord:
        record = DeadRecord.from_message(message, queue, next(positions), namespace)
        if reading.whole(record):
            return record
        # Only what lists, stats and selections use: what is large stays on the broker.
        return record.lean()

    return record_of


def _counted(records: list[DeadRecord], reading: Reading) -> int:
    return sum(1 for record in records if reading.counts(record))


async def _fetch(
    amqp_queue: AbstractQueue,
    at_most: int,
    record_of: Recorder,
    reading: Reading,
    records: list[DeadRecord],
) -> list[DeadRecord]:
    """Up to ``at_most`` more messages, one ``basic.get`` each (unacked, so returned in place
    like the rest), until the reading has enough."""
    fetched: list[DeadRecord] = []
    counted = _counted(records, reading)
    while len(fetched) < at_most and counted < (reading.enough or 0):
        message = await amqp_queue.get(no_ack=False, fail=False)
        if message is None:
            break  # another session took the rest
        fetched.append(record := record_of(message))
        counted += reading.counts(record)
    return fetched


async def _receive(
    amqp_queue: AbstractQueue,
    inbox: asyncio.Queue[DeadRecord | Exception],
    wanted: int,
    reading: Reading,
) -> list[DeadRecord]:
    records: list[DeadRecord] = []
    counted = 0
    while len(records) < wanted and counted != reading.enough:
        try:
            record = await asyncio.wait_for(inbox.get(), IDLE)
        except TimeoutError:
            # Fewer than expected: another session took some. Stop once none is waiting,
            # after collecting what was already on its way to us.
            if await _ready(amqp_queue) == 0:
                records += _drain(inbox)
                if len(records) < wanted:
                    await asyncio.sleep(IDLE)
                    records += _drain(inbox)
                break
            continue
        if isinstance(record, Exception):
            raise record
        records.append(record)
        counted += reading.counts(record)
    return records


def _drain(inbox: asyncio.Queue[DeadRecord | Exception]) -> list[DeadRecord]:
    records: list[DeadRecord] = []
    while not inbox.empty():
        record = inbox.get_nowait()
        if isinstance(record, Exception):
            raise record
        records.append(record)
    return records


async def _ready(amqp_queue: AbstractQueue) -> int:
    declared = await amqp_queue.channel.declare_queue(amqp_queue.name, passive=True)
    return declared.declaration_result.message_count or 0


async def _other_consumers(amqp_queue: AbstractQueue) -> int:
    declared = await amqp_queue.channel.declare_queue(amqp_queue.name, passive=True)
    return max(0, (declared.declaration_result.consumer_count or 0) - 1)


def _others(amqp_queue: AbstractQueue, exclusive: bool) -> int:
    return 0 if exclusive else amqp_queue.declaration_result.consumer_count or 0
