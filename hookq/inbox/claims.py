"""A transactional handler's claim: the PostgreSQL transaction that holds the event's inbox row.

    BEGIN; INSERT the inbox row (lock timeout: the handler's timeout); SAVEPOINT
    run the handler with ctx.db  ->  RELEASE SAVEPOINT; COMMIT   (the run ended well)
                                 ->  ROLLBACK TO SAVEPOINT        (it failed or timed out)
    then, as the settler decides:    COMMIT with the row marked dead | ROLLBACK (retry, requeue)

- The row is there, committed: the event is done (or dead) for this handler: ``Duplicate``.
- Another transaction holds the row uncommitted (a second delivery in flight): the insert waits
  for it, and finds the row committed (a duplicate) or rolled back (ours to run). Past the
  handler's timeout it gives up: the message goes to a delay tier for the same attempt
  (``RetryLater`` that does not count), never runs beside the other.
- The savepoint after the row is what a failure rolls back to: the handler's writes are gone,
  the row stays locked, and a dead end commits it marked dead in the same transaction, so a
  provider's resend is a duplicate and nothing else ran it meanwhile.
- The commit happens when the run ends, before the message is settled: killed before it, the
  worker's transaction dies with its connection (nothing happened); killed after it, before the
  ack, the redelivery finds the committed row (a duplicate).
- PostgreSQL unreachable (claiming, under the run, committing): the gate closes, transactional
  handlers pause, and the message is requeued without counting an attempt.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NoReturn, cast

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
from asyncpg.transaction import Transaction

from hookq.handlers.api import HandlerSpec
from hookq.inbox.schema import inbox_key
from hookq.message import Envelope, Failure
from hookq.worker.inflight import InFlight
from hookq.worker.outcomes import Duplicate, Requeue, RetryLater

if TYPE_CHECKING:
    from hookq.handlers.api import Database
    from hookq.inbox.store import Inbox

log = structlog.get_logger("hookq.inbox")


class TransactionAborted(Exception):
    """The handler returned, but its transaction had failed (it caught a database error and
    went on): nothing it wrote can commit, so the run failed."""


class _State(enum.Enum):
    RUNNING = 1  # transaction open, savepoint active: the handler may write
    FAILED = 2  # rolled back to the savepoint: the row is held, the handler's writes are gone
    ENDED = 3  # committed or rolled back; the connection is back in the pool


class InboxKey:
    """The parts of an event's inbox row."""

    __slots__ = ("digest", "parts")

    def __init__(self, handler: str, envelope: Envelope) -> None:
        generation = envelope.replay_id or "0"
        self.parts = (
            handler,
            envelope.source,
            envelope.event_type,
            generation,
            envelope.delivery_id,
        )
        self.digest = inbox_key(*self.parts)


class InboxClaimer:
    """Claims one transactional handler's events on their inbox rows."""

    def __init__(self, inbox: Inbox, spec: HandlerSpec, in_flight: InFlight) -> None:
        self._inbox = inbox
        self._spec = spec
        self._in_flight = in_flight
        self._lock_timeout = str(max(1, round(spec.timeout * 1000)))  # ms

    async def claim(self, envelope: Envelope) -> InboxClaim:
        key = InboxKey(self._spec.name, envelope)
        # A wait the stop may cancel: for the gate, a pooled connection, or another delivery's
        # row. A cancelled claim leaves nothing behind (its transaction ends with it).
        with self._in_flight.waiting():
            return await self._inbox.gate.run(lambda: self._try(key, envelope))

    async def _try(self, key: InboxKey, envelope: Envelope) -> InboxClaim:
        inbox = self._inbox
        try:
            connection = await inbox.pool.acquire()
        except Exception as exc:
            if inbox.gate.is_down(exc):
                await inbox.outage(exc)
            raise
        try:
            transaction = connection.transaction()
            await transaction.start()
            inserted = await connection.fetchval(
                inbox.sql.claim, key.digest, *key.parts, self._lock_timeout
            )
            if inserted:
                savepoint = connection.transaction()
                await savepoint.start()
                return InboxClaim(inbox, connection, transaction, savepoint, key)
        except asyncpg.LockNotAvailableError:
            await inbox.rollback(connection, transaction)
            raise RetryLater(
                Failure(
                    "InboxBusy",
                    "another delivery of this event still held its inbox row after the "
                    f"handler's {self._spec.timeout:g}s timeout",
                ),
                self._spec.backoff.delay(envelope.attempt),
                counts=False,
            ) from None
        except BaseException as exc:
            connection.terminate()  # in an unknown state: never back into the pool
            if inbox.gate.is_down(exc):
                await inbox.outage(exc)
            raise
        await inbox.rollback(connection, transaction)
        raise Duplicate()


class InboxClaim:
    """One run's transaction (``outcomes.Claim``)."""

    __slots__ = ("_connection", "_inbox", "_key", "_savepoint", "_state", "_transaction")

    def __init__(
        self,
        inbox: Inbox,
        connection: PoolConnectionProxy[asyncpg.Record],
        transaction: Transaction,
        savepoint: Transaction,
        key: InboxKey,
    ) -> None:
        self._inbox = inbox
        self._connection = connection
        self._transaction = transaction
        self._savepoint = savepoint
        self._key = key
        self._state = _State.RUNNING

    @property
    def db(self) -> Database | None:
        # A pool's proxy: it behaves as the connection, and fails once given back to the pool
        # (a handler that kept ctx.db past its run cannot write outside a transaction).
        return cast("Database", self._connection)

    async def end_run(self, error: Exception | None) -> Exception | None:
        if self._state is not _State.RUNNING:
            return error
        if error is None:
            return await self._commit()
        # Only our own connection's loss is an outage: a handler's OSError or TimeoutError may
        # come from anything it calls.
        if self._connection.is_closed():
            await self._give_up(error)
        try:
            await self._savepoint.rollback()
        except Exception as exc:
            if self._lost(exc):
                await self._give_up(exc)
            self._drop()  # unusable: its transaction (the row too) ends with it
            return error
        self._state = _State.FAILED
        return error

    async def _commit(self) -> Exception | None:
        try:
            # Fails if an error the handler caught aborted the transaction: COMMIT would then
            # roll back without a word, and the ack would lose the event.
            await self._savepoint.commit()
            await self._transaction.commit()
        except asyncpg.InFailedSQLTransactionError:
            await self._end(rollback=True)
            return TransactionAborted(
                "the handler returned, but an error it caught had aborted its transaction: "
                "nothing it wrote was committed"
            )
        except Exception as exc:
            if self._lost(exc):
                # Committed or not, we cannot know: the redelivery finds the row, or runs it.
                await self._give_up(exc)
            # Refused at commit (a deferred constraint, a serialization failure): the handler's
            # failure, nothing was committed.
            await self._end(rollback=True)
            return exc
        await self._end(rollback=False)
        return None

    async def done(self) -> bool:
        # Committed when the run ended: nothing left to make durable.
        return True

    async def dead(self) -> None:
        if self._state is not _State.ENDED:
            try:
                # Rolled back to the savepoint already, or never ran (an invalid payload).
                await self._connection.execute(self._inbox.sql.mark_dead, self._key.digest)
                await self._transaction.commit()
            except Exception as exc:
                log.warning("inbox dead mark: transaction lost, marking anew", error=repr(exc))
                await self._end(rollback=True)
            else:
                await self._end(rollback=False)
                return
        # The run's transaction is gone: the dead letter is out, so the mark must follow.
        await self._inbox.mark_dead(self._key.digest, self._key.parts)

    async def release(self) -> None:
        await self._end(rollback=True)

    async def retrying(self, attempt: int, due: float) -> None:
        await self.release()  # the inbox keeps no note of a retry: the row stays unclaimed

    async def close(self) -> None:
        await self._end(rollback=True)

    def _lost(self, error: BaseException) -> bool:
        return self._connection.is_closed() or self._inbox.gate.is_down(error)

    async def _give_up(self, error: BaseException) -> NoReturn:
        """PostgreSQL failed under the run: not the handler's doing, no attempt counted."""
        self._drop()
        await self._inbox.outage(error)
        raise Requeue(f"postgresql unavailable: {type(error).__name__}") from None

    def _drop(self) -> None:
        self._state = _State.ENDED
        self._connection.terminate()

    async def _end(self, *, rollback: bool) -> None:
        if self._state is _State.ENDED:
            return
        self._state = _State.ENDED
        if rollback:
            await self._inbox.rollback(self._connection, self._transaction)
        else:
            await self._inbox.give_back(self._connection)
