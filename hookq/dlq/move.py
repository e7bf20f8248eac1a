"""Taking selected messages out of a dead queue, interruptible at any moment.

Each batch is one AMQP transaction on one channel: the copies we publish (replay) and the acks
of the dead messages (replay, purge) take effect together on ``tx.commit``, and not at all
before it. So whenever this process stops (Ctrl-C, kill -9, a lost connection), every message
is in exactly one place: a batch not committed is rolled back when the channel closes (its
copies never published, its dead messages returned to their places); a commit the broker
received is carried out whole. Running the command again picks up where it stopped.

(RabbitMQ's transactions are not atomic if the *broker* fails mid-commit; they are with respect
to the client going away, which is what an interrupted operator command is.)

A replay's copies go to a handler queue, which could be deleted mid-replay (a handler removed):
the broker would drop copies it cannot route, and an AMQP client without publisher confirms is
never told (confirms and transactions exclude each other). So a ``guard`` checks the target
queue before each commit (if it is gone, the failed check closes the channel: the batch rolls
back) and after it (if it went in between, the committed batch is handed back as ``orphans``
for the caller to restore: a possible duplicate, which the worker's dedupe absorbs, rather than
a loss).

Messages not selected are held unacknowledged until we finish, then returned to their places
by closing the channel. A message carrying this run's id came back (it was replayed and died
again, or found no handler): it is held too, so no run ever loops on a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from hookq.dlq.records import DeadQueue, DeadRecord
from hookq.message import Header

LOGGER = "hookq.dlq"
IDLE = 0.3  # seconds without a delivery before asking the broker whether more is coming
Select = Callable[[DeadRecord], bool]
# Publishes whatever replaces the dead message (in the open transaction); None: just remove it.
Act = Callable[[AbstractChannel, DeadRecord], Awaitable[None]]
Progress = Callable[[DeadRecord], None]
# Raises GuardFailed when the batch must not, or may not have, reached its target.
Guard = Callable[[AbstractChannel], Awaitable[None]]


class GuardFailed(Exception):
    """The target of the moved messages is gone."""


@dataclass(slots=True)
class MoveResult:
    queue: DeadQueue
    done: list[DeadRecord] = field(default_factory=list)
    came_back: list[DeadRecord] = field(default_factory=list)  # carried this run's id
    stopped: str = ""  # why we stopped before the queue was exhausted, if we did
    orphans: list[DeadRecord] = field(default_factory=list)  # committed, target gone since

    @property
    def complete(self) -> bool:
        return not self.stopped


@dataclass(frozen=True, slots=True)
class MoveOptions:
    run_id: str
    rate: float | None = None  # messages per second
    batch: int = 50  # messages per transaction
    window: int | None = None  # prefetch; None: unlimited (needed to reach past held messages)
    wait: float = 30.0  # seconds to wait for other sessions to give back what they hold


class _Pacer:
    def __init__(self, rate: float | None) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._next = max(self._next, now)
        await asyncio.sleep(self._next - now)
        self._next += self._interval


async def move(
    connection: AbstractConnection,
    queue: DeadQueue,
    namespace: str,
    select: Select,
    act: Act | None,
    options: MoveOptions,
    progress: Progress | None = None,
    guard: Guard | None = None,
) -> MoveResult:
    channel, inbox = await _consume(connection, queue, options)
    try:
        mover = _Mover(channel, inbox, queue, namespace, select, act, options, progress, guard)
        result = await mover.run()
    finally:
        # Uncommitted work is rolled back; held messages go back to their places.
        with contextlib.suppress(aiormq.exceptions.AMQPError, RuntimeError):
            if not channel.is_closed:
                await channel.close()
    # Looked up per call, not cached at import: the CLI configures logging when it starts.
    structlog.get_logger(LOGGER).info(
        "dlq queue done",
        queue=queue.name,
        handler=queue.handler,
        run_id=options.run_id,
        moved=len(result.done),
        came_back=len(result.came_back),
        stopped=result.stopped or None,
    )
    return result


class _Mover:
    """One pass over a queue on a transactional channel: take, act, ack, commit in batches."""

    def __init__(
        self,
        channel: AbstractChannel,
        inbox: asyncio.Queue[AbstractIncomingMessage],
        queue: DeadQueue,
        namespace: str,
        select: Select,
        act: Act | None,
        options: MoveOptions,
        progress: Progress | None,
        guard: Guard | None,
    ) -> None:
        self._channel, self._inbox, self._queue = channel, inbox, queue
        self._namespace, self._select, self._act = namespace, select, act
        self._options, self._progress, self._guard = options, progress, guard
        self._batch = 1 if options.rate else max(1, options.batch)
        self._pacer = _Pacer(options.rate)
        self._pending: list[DeadRecord] = []
        self._held = 0  # delivered to us, not taken: returned to their places at the end
        self._position = 0
        self._waiting_since: float | None = None
        self.result = MoveResult(queue)

    async def run(self) -> MoveResult:
        try:
            await self._run()
        except GuardFailed as exc:
            self.result.stopped = str(exc)
        return self.result

    async def _run(self) -> None:
        while True:
            try:
                message = await asyncio.wait_for(self._inbox.get(), IDLE)
            except TimeoutError:
                await self._commit()
                if await self._finished():
                    break
                continue
            self._waiting_since = None
            await self._take(message)
        await self._commit()

    async def _take(self, message: AbstractIncomingMessage) -> None:
        record = DeadRecord.from_message(message, self._queue, self._position, self._namespace)
        self._position += 1
        if record.headers.get(Header.REPLAY_ID) == self._options.run_id:
            self.result.came_back.append(record)
            self._held += 1
            return
        if not self._select(record):
            self._held += 1
            return
        await self._pacer.wait()
        if self._act is not None:
            await self._act(self._channel, record)
        await message.ack()  # takes effect at commit, together with the act's publish
        self._pending.append(record)
        if len(self._pending) >= self._batch:
            await self._commit()

    async def _commit(self) -> None:
        if not self._pending:
            return
        if self._guard is not None:
            await self._guard(self._channel)  # failing, it closed the channel: rolled back
        await (await self._channel.get_underlay_channel()).tx_commit()
        if self._guard is not None:
            try:
                await self._guard(self._channel)
            except GuardFailed:
                self.result.orphans.extend(self._pending)
                raise
        # Kept for the summary without their bodies: a replay's memory does not grow with it.
        self.result.done.extend(record.lean() for record in self._pending)
        for record in self._pending:
            _log_done(record, self._options.run_id, "replayed" if self._act else "purged")
            if self._progress is not None:
                self._progress(record)
        self._pending.clear()

    async def _finished(self) -> bool:
        """Nothing arrived for a while: is there anything left that we could still get?"""
        declared = await self._channel.declare_queue(self._queue.name, passive=True)
        ready = declared.declaration_result.message_count or 0
        others = (declared.declaration_result.consumer_count or 1) - 1
        if not self._inbox.empty():
            return False
        if self._options.window and self._held >= self._options.window:
            return True  # all we can be sent is held already
        if ready == 0 and others == 0:
            return True
        if ready == 0:
            # Another session holds messages; closing, it returns them and they come to us.
            loop = asyncio.get_running_loop()
            self._waiting_since = self._waiting_since or loop.time()
            if loop.time() - self._waiting_since > self._options.wait:
                self.result.stopped = f"{others} other session(s) still hold messages"
                return True
        return False


def _log_done(record: DeadRecord, run_id: str, what: str) -> None:
    with structlog.contextvars.bound_contextvars(
        delivery_id=record.delivery_id,
        source=record.source,
        event_type=record.event_type,
        handler=record.handler,
    ):
        structlog.get_logger(LOGGER).debug(
            f"dlq message {what}", run_id=run_id, queue=record.queue.name
        )


async def _consume(
    connection: AbstractConnection, queue: DeadQueue, options: MoveOptions
) -> tuple[AbstractChannel, asyncio.Queue[AbstractIncomingMessage]]:
    """A transactional channel consuming the queue. Waits while a browse holds the queue
    exclusively (browses are short)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.wait
    while True:
        channel = await connection.channel(publisher_confirms=False)
        try:
            await (await channel.get_underlay_channel()).tx_select()
            amqp_queue = await channel.declare_queue(queue.name, passive=True)
            await channel.set_qos(prefetch_count=options.window or 0)
            inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await amqp_queue.consume(inbox.put, no_ack=False)
            return channel, inbox
        except aiormq.exceptions.ChannelAccessRefused:
            if loop.time() >= deadline:
                raise
        except BaseException:
            with contextlib.suppress(aiormq.exceptions.AMQPError, RuntimeError):
                if not channel.is_closed:
                    await channel.close()
            raise
        await asyncio.sleep(random.uniform(0.05, 0.25))
