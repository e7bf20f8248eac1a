"""How a message ends: every outcome, and the one place that carries it out.

The pipeline decodes, validates, claims and runs; whatever ends a message is an ``Ending``
(raised where it is found, or returned by ``after_run``), and ``Settler.settle`` carries it
out: acked as done or duplicate, copied to a delay tier or the dead queue (confirmed) and then
acked, or requeued. Nothing is acked before it is safely elsewhere: a copy the broker did not
confirm requeues the original instead (``Outcome.REQUEUED``).

Adding an outcome means one ``Ending`` subclass here and one entry in ``Settler._entries``.

The settler never talks to the store that dedupes a handler's runs: it calls the run's ``Claim``
(``done``, ``dead``, ``release``), a Redis key for most handlers (``hookq.worker.dedupe``), the
transaction holding the inbox row for transactional ones (``hookq.inbox``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar, Protocol

import structlog
from aio_pika.abc import FieldValue

from hookq.handlers.api import HandlerSpec, Reject, Retry
from hookq.message import Failure, copy_message, retried, with_failure
from hookq.topology import Names
from hookq.worker.acks import ack
from hookq.worker.outbox import Outbox, PublishFailed
from hookq.worker.received import Message

if TYPE_CHECKING:
    from hookq.handlers.api import Database

log = structlog.get_logger("hookq.worker")


class Outcome(enum.StrEnum):
    """How a message ended (the ``outcome`` label of ``hookq_worker_events_total``)."""

    PROCESSED = "processed"  # the handler returned
    DUPLICATE = "duplicate"  # already done or dead, or another delivery of it is in flight
    RETRIED = "retried"  # sent to a delay tier
    DEAD = "dead"  # dead-lettered: rejected, out of attempts
    INVALID = "invalid"  # dead-lettered: the payload failed validation
    REQUEUED = "requeued"  # back to the queue: stopping, or a copy was not confirmed


class Ending(Exception):
    """Ends a message: raised in the pipeline, carried out by ``Settler.settle``."""

    outcome: ClassVar[Outcome]
    failure: Failure | None = None


class Done(Ending):
    outcome = Outcome.PROCESSED


class Duplicate(Ending):
    outcome = Outcome.DUPLICATE


class Invalid(Ending):
    outcome = Outcome.INVALID

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class Dead(Ending):
    outcome = Outcome.DEAD

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class RetryLater(Ending):
    outcome = Outcome.RETRIED

    def __init__(self, failure: Failure, delay: float, *, counts: bool = True) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.delay = delay
        # False: the handler did not run (its inbox row was busy elsewhere): the copy comes
        # back for the same attempt.
        self.counts = counts


class Requeue(Ending):
    outcome = Outcome.REQUEUED

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def after_run(
    error: BaseException | None, spec: HandlerSpec, attempt: int, *, timed_out: bool = False
) -> Ending:
    """What a handler's run (returned, or raised ``error``) means for its message."""
    if error is None:
        return Done()
    failure = Failure.from_exception(error)
    if timed_out:  # our deadline, not a TimeoutError the handler raised itself
        reason = f"handler ran over its {spec.timeout:g}s timeout"
        failure = Failure("HandlerTimeout", reason, failure.traceback)
    if isinstance(error, Reject) or attempt >= spec.max_attempts:
        return Dead(failure)
    if isinstance(error, Retry) and error.delay is not None:
        return RetryLater(failure, spec.backoff.tier_at_least(error.delay, spec.max_attempts))
    return RetryLater(failure, spec.backoff.delay(attempt))


class Claim(Protocol):
    """What one run holds from its claim to its settling, whatever the store behind it."""

    @property
    def db(self) -> Database | None:
        """What the handler writes through (``ctx.db``): None unless the claim is a
        transaction."""

    async def end_run(self, error: Exception | None) -> Exception | None:
        """The run ended (``error``: what the handler raised, or None): commit what it wrote, or
        undo it. Returns the error that decides the run's ending (the handler's, or one its
        commit met); raises ``Requeue`` when the claim's own store failed under the run (no
        attempt is counted against the handler)."""

    async def done(self) -> bool:
        """Make the done mark durable before the ack; False when the claim was lost (a Redis
        lease outrun), and the ack goes ahead anyway."""

    async def dead(self) -> None:
        """Mark the event dead (its dead letter is published): a provider's resend of it is a
        duplicate, not another dead letter."""

    async def release(self) -> None:
        """Give the claim up, so that a retry or a redelivery can claim it."""

    async def retrying(self, attempt: int, due: float) -> None:
        """Give the claim up for a retry of run ``attempt`` due at ``due`` (Unix seconds),
        leaving a note of it where the store can keep one (``hookq events show`` reads it)."""

    async def close(self) -> None:
        """Return what the claim holds (a connection), whatever happened: called once the
        message ended, a no-op when ``done``, ``dead`` or ``release`` did it."""


Entry = Callable[[Message, Ending, Claim | None, int], Awaitable[Outcome]]


class Settler:
    """Carries out one handler's endings."""

    def __init__(self, spec: HandlerSpec, names: Names, outbox: Outbox) -> None:
        self._spec = spec
        self._names = names
        self._outbox = outbox
        self._dead_queue = names.dead_queue(spec.name)
        self._entries: dict[type[Ending], Entry] = {
            Done: self._done,
            Duplicate: self._duplicate,
            Invalid: self._dead,
            Dead: self._dead,
            RetryLater: self._retry,
            Requeue: self._requeue,
        }

    async def settle(
        self, message: Message, ending: Ending, claim: Claim | None, attempt: int
    ) -> Outcome:
        """Carry out ``ending`` for run ``attempt``; returns the outcome it really had."""
        return await self._entries[type(ending)](message, ending, claim, attempt)

    async def _done(
        self, message: Message, _ending: Ending, claim: Claim | None, _a: int
    ) -> Outcome:
        # The done mark first: acked before it, a crash would leave an event that ran with no
        # mark, and its next delivery would run it again. (An inbox row was committed with the
        # handler's writes when the run ended: its done() only confirms it.)
        if claim is not None and not await claim.done():
            log.warning("claim lost before done: the handler outran the claim lease")
        await ack(message)
        return Outcome.PROCESSED

    async def _duplicate(
        self, message: Message, _ending: Ending, _claim: Claim | None, _a: int
    ) -> Outcome:
        await ack(message)
        return Outcome.DUPLICATE

    async def _dead(
        self, message: Message, ending: Ending, claim: Claim | None, attempt: int
    ) -> Outcome:
        assert ending.failure is not None
        headers = with_failure(
            message.headers, self._spec.name, attempt, ending.failure, time.time(), dead=True
        )
        if not await self._publish(message, self._dead_queue, headers, claim):
            return Outcome.REQUEUED
        if claim is not None:
            # Its provider's next retry of it is a duplicate, not another dead letter.
            await claim.dead()
        await ack(message)
        log.warning(
            "dead-lettered",
            reason=ending.outcome.value,
            attempts=attempt,
            error_type=ending.failure.error_type,
            # Validation errors name fields and reasons, never values; other messages may
            # quote the payload and stay in the dead letter's headers.
            **({"error": ending.failure.message[:500]} if isinstance(ending, Invalid) else {}),
        )
        return ending.outcome

    async def _retry(
        self, message: Message, ending: Ending, claim: Claim | None, attempt: int
    ) -> Outcome:
        assert isinstance(ending, RetryLater)
        assert ending.failure is not None
        # Released before the copy is published: the copy (a message of its own) must find the
        # key free, or it would be taken for a duplicate of a delivery in flight.
        now = time.time()
        if claim is not None:
            await claim.retrying(attempt + 1 if ending.counts else attempt, now + ending.delay)
        headers = (
            retried(message.headers, self._spec.name, attempt, ending.failure, now)
            if ending.counts
            else with_failure(message.headers, self._spec.name, attempt, ending.failure, now)
        )
        tier = self._names.retry_queue(self._spec.name, ending.delay)
        if not await self._publish(message, tier, headers, None):
            return Outcome.REQUEUED
        await ack(message)
        # The error's message stays in the copy's headers: it may quote the payload.
        log.warning(
            "handler failed: retrying",
            error_type=ending.failure.error_type,
            retry_in=ending.delay,
        )
        return Outcome.RETRIED

    async def _requeue(
        self, message: Message, _ending: Ending, claim: Claim | None, _a: int
    ) -> Outcome:
        await requeue(message)
        if claim is not None:
            # So that whoever gets it next need not wait for the lease. Bounded: we may be
            # stopping, and the lease frees it anyway.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await claim.release()
        return Outcome.REQUEUED

    async def _publish(
        self,
        message: Message,
        queue: str,
        headers: dict[str, FieldValue],
        claim: Claim | None,
    ) -> bool:
        copy = copy_message(
            message.body,
            headers,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            timestamp=message.timestamp,
        )
        try:
            await self._outbox.publish(copy, queue)
        except PublishFailed as exc:
            log.error("publish not confirmed: message requeued", queue=queue, error=str(exc))
            await self._requeue(message, Requeue(str(exc)), claim, 0)
            return False
        return True


async def requeue(message: Message) -> None:
    """Back to its queue; never raises (a closed channel cannot nack: the broker takes the
    message back with it)."""
    assert message.delivery_tag is not None, "hookq consumes with acknowledgements"
    with contextlib.suppress(Exception):
        await message.channel.basic_nack(message.delivery_tag, requeue=True)
