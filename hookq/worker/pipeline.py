"""One handler's message pipeline: the callback its queue's consumer runs for every message.

decode -> validate -> claim (dedupe) -> run the handler with its timeout -> outcome. Every
message ends in exactly one place: acked as done or duplicate, copied to a delay tier or the
dead queue (confirmed) and then acked, or requeued. Nothing is acked before it is safely
elsewhere: a failed confirm requeues the message instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import structlog
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage, FieldValue
from pydantic import BaseModel, ValidationError
from structlog.contextvars import bind_contextvars, reset_contextvars

from hookq.handlers.api import HandlerContext, HandlerSpec, Reject, Retry
from hookq.sources.base import Source
from hookq.topology import Header, Names, header_time
from hookq.worker.dedupe import Claim, ClaimState, Dedupe
from hookq.worker.envelope import BadEnvelope, Envelope, read_envelope
from hookq.worker.failures import Failure, copy_of, failure_headers, validation_failure
from hookq.worker.inflight import InFlight
from hookq.worker.metrics import Outcome, WorkerMetrics
from hookq.worker.outbox import Outbox, PublishFailed

log = structlog.get_logger("hookq.worker")
handler_log = structlog.get_logger("hookq.handler")

MAX_LEASE_POLL = 1.0  # seconds between looks at a claim held by this same message


@dataclass(frozen=True, slots=True)
class RunFailed:
    failure: Failure
    rejected: bool = False
    delay: float | None = None  # what a Retry asked for


class Pipeline:
    def __init__(
        self,
        spec: HandlerSpec,
        *,
        names: Names,
        sources: dict[str, Source],
        dedupe: Dedupe,
        direct: AbstractExchange,
        metrics: WorkerMetrics,
        in_flight: InFlight,
        publish_timeout: float,
    ) -> None:
        self.spec = spec
        self._names = names
        self._sources = sources
        self._dedupe = dedupe
        self._outbox = Outbox(direct, publish_timeout)
        self._metrics = metrics
        self._in_flight = in_flight
        self._dead_queue = names.dead_queue(spec.name)
        self._duration = metrics.handler_seconds.labels(spec.name)
        self._log = handler_log.bind(handler=spec.name)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        """The consumer's callback (a coroutine function: aio-pika calls it without a wrapper)."""
        with self._in_flight.track():
            try:
                envelope = read_envelope(message)
            except BadEnvelope as exc:
                failure = Failure("BadEnvelope", str(exc))
                await self._dead_letter(message, None, failure, 1, Outcome.INVALID)
                return
            # Bound with tokens and reset, not with structlog's bound_contextvars, which reads
            # the whole context first: half the cost, per message (docs/benchmarks.md).
            tokens = bind_contextvars(
                delivery_id=envelope.delivery_id,
                source=envelope.source,
                event_type=envelope.event_type,
                handler=self.spec.name,
                attempt=envelope.attempt,
            )
            try:
                await self._process(message, envelope)
            except Exception:
                # A fault of ours, not the handler's (those are outcomes): requeued, and the
                # queue's delivery limit dead-letters a message that keeps causing it.
                log.exception("worker error: message requeued")
                await _requeue(message)
            finally:
                reset_contextvars(**tokens)

    async def _process(self, message: AbstractIncomingMessage, envelope: Envelope) -> None:
        try:
            event = self._validate(message, envelope)
            if not isinstance(event, BaseModel):
                await self._dead_letter(message, envelope, event, envelope.attempt, Outcome.INVALID)
                return
            claim = await self._claim(envelope)
            if claim is None:
                await _ack(message)
                self._count(envelope, Outcome.DUPLICATE)
                log.debug("duplicate acked")
                return
        except asyncio.CancelledError:
            await _requeue(message)  # stopping, or the channel closed: nothing ran
            raise
        await self._run_shielded(message, event, envelope, claim)

    async def _run_shielded(
        self, message: AbstractIncomingMessage, event: BaseModel, envelope: Envelope, claim: Claim
    ) -> None:
        """Run the handler and settle its outcome, whatever happens to the connection.

        aiormq cancels its consumers' tasks when the connection drops. Cancelling a handler
        there would release the claim after an effect it may already have had, and the
        redelivery would run it again: instead the run finishes and marks done (Redis does not
        need the broker), its ack is lost with the channel, and the redelivery finds the done
        mark. Only a stop whose grace period is over interrupts a run.
        """
        run = asyncio.ensure_future(self._run_and_settle(message, event, envelope, claim))
        try:
            await asyncio.shield(run)
        except asyncio.CancelledError:
            if self._in_flight.stopping:
                run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
            raise

    async def _run_and_settle(
        self, message: AbstractIncomingMessage, event: BaseModel, envelope: Envelope, claim: Claim
    ) -> None:
        try:
            failed = await self._run(message, event, envelope)
            if failed is None:
                await self._succeeded(message, envelope, claim)
            else:
                await self._failed(message, envelope, claim, failed)
        except asyncio.CancelledError:
            # Interrupted by a stop past its grace: the message goes back to the queue, and our
            # claim is released so that whoever gets it need not wait for the lease.
            await _requeue(message)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await self._dedupe.release(claim)
            raise

    def _validate(
        self, message: AbstractIncomingMessage, envelope: Envelope
    ) -> BaseModel | Failure:
        source = self._sources.get(envelope.source)
        if source is None:
            return Failure("UnknownSource", f"source {envelope.source!r} is not enabled here")
        try:
            return source.parse(envelope.event_type, message.body)
        except ValidationError as exc:
            return validation_failure(exc)

    async def _claim(self, envelope: Envelope) -> Claim | None:
        """Our claim, or None for a duplicate. Waits while this same message holds it."""
        key = self._dedupe.key(self.spec.name, envelope.source, envelope.delivery_id)
        waited = False
        while True:
            claim = await self._dedupe.claim(key, envelope.message_id)
            if claim.state is ClaimState.CLAIMED:
                return claim
            if claim.state is ClaimState.DONE:
                return None
            if claim.state is ClaimState.OTHER_MESSAGE and not envelope.replayed:
                return None  # that delivery ends acked, retried, dead or redelivered
            # Redelivered while its own earlier delivery holds the claim: that run's worker
            # died or lost its connection. It may still finish (then the key says done), else
            # the lease lapses and we run it. Never ack it as a duplicate: nothing else will.
            # A replay waits too: the claim may be a crash-looped message's, dead-lettered by
            # the broker with its claim still leased, and an operator's replay must not vanish.
            if not waited:
                log.info("claimed elsewhere: waiting for the lease", lease_left=claim.lease_left)
                waited = True
            with self._in_flight.waiting():
                await asyncio.sleep(min(max(claim.lease_left, 0.02), MAX_LEASE_POLL))

    async def _run(
        self, message: AbstractIncomingMessage, event: BaseModel, envelope: Envelope
    ) -> RunFailed | None:
        spec = self.spec
        ctx = HandlerContext(
            handler=spec.name,
            delivery_id=envelope.delivery_id,
            source=envelope.source,
            event_type=envelope.event_type,
            attempt=envelope.attempt,
            max_attempts=spec.max_attempts,
            received_at=envelope.received_at,
            headers=envelope.provider_headers(message),
            log=self._log.bind(
                delivery_id=envelope.delivery_id,
                source=envelope.source,
                event_type=envelope.event_type,
                attempt=envelope.attempt,
            ),
        )
        started = time.perf_counter()
        deadline = asyncio.timeout(spec.timeout)
        try:
            async with deadline:
                await spec.func(event, ctx)
        except Reject as exc:
            return RunFailed(Failure.from_exception(exc), rejected=True)
        except Retry as exc:
            return RunFailed(Failure.from_exception(exc), delay=exc.delay)
        except TimeoutError as exc:
            failure = Failure.from_exception(exc)
            if deadline.expired():  # ours, not one the handler raised
                reason = f"handler ran over its {spec.timeout:g}s timeout"
                failure = Failure("HandlerTimeout", reason, failure.traceback)
            return RunFailed(failure)
        except Exception as exc:
            return RunFailed(Failure.from_exception(exc))
        finally:
            self._duration.observe(time.perf_counter() - started)
        return None

    async def _succeeded(
        self, message: AbstractIncomingMessage, envelope: Envelope, claim: Claim
    ) -> None:
        if not await self._dedupe.mark_done(claim):
            # Our lease lapsed mid-run and another run took over: it marks done itself.
            log.warning("claim lost before done: the handler outran the claim lease")
        await _ack(message)
        self._count(envelope, Outcome.PROCESSED)
        log.debug("processed")

    async def _failed(
        self, message: AbstractIncomingMessage, envelope: Envelope, claim: Claim, failed: RunFailed
    ) -> None:
        # Released before the copy is published: the copy (a message of its own) must find the
        # key free, or it would be taken for a duplicate of a delivery in flight.
        await self._dedupe.release(claim)
        attempt, spec = envelope.attempt, self.spec
        if failed.rejected or attempt >= spec.max_attempts:
            await self._dead_letter(message, envelope, failed.failure, attempt, Outcome.DEAD)
            return
        if failed.delay is None:
            delay = spec.backoff.delay(attempt)
        else:
            delay = spec.backoff.tier_at_least(failed.delay, spec.max_attempts)
        headers = failure_headers(message.headers, spec.name, attempt, failed.failure, time.time())
        headers[Header.ATTEMPT] = attempt + 1
        tier = self._names.retry_queue(spec.name, delay)
        if await self._publish_then_ack(message, tier, headers):
            self._count(envelope, Outcome.RETRIED)
            # The error's message stays in the copy's headers: it may quote the payload.
            log.warning(
                "handler failed: retrying", error_type=failed.failure.error_type, retry_in=delay
            )

    async def _dead_letter(
        self,
        message: AbstractIncomingMessage,
        envelope: Envelope | None,
        failure: Failure,
        attempts: int,
        outcome: Outcome,
    ) -> None:
        now = time.time()
        headers = failure_headers(message.headers, self.spec.name, attempts, failure, now)
        headers[Header.DEAD_AT] = header_time(now)
        if await self._publish_then_ack(message, self._dead_queue, headers):
            if envelope is not None:
                self._count(envelope, outcome)
            log.warning(
                "dead-lettered",
                reason=outcome.value,
                attempts=attempts,
                error_type=failure.error_type,
                # Validation errors name fields and reasons, never values; other messages may
                # quote the payload and stay in the dead letter's headers.
                **({"error": failure.message[:500]} if outcome is Outcome.INVALID else {}),
            )

    async def _publish_then_ack(
        self, message: AbstractIncomingMessage, queue: str, headers: dict[str, FieldValue]
    ) -> bool:
        try:
            await self._outbox.publish(copy_of(message, headers), queue)
        except PublishFailed as exc:
            log.error("publish not confirmed: message requeued", queue=queue, error=str(exc))
            await _requeue(message)
            return False
        await _ack(message)
        return True

    def _count(self, envelope: Envelope, outcome: Outcome) -> None:
        self._metrics.count(envelope.source, envelope.event_type, self.spec.name, outcome)


async def _ack(message: AbstractIncomingMessage) -> None:
    # A closed channel cannot ack: the broker redelivers the message, and dedupe recognises it.
    try:
        # Sent on the channel without waiting for the write to be flushed (aio-pika's ack
        # waits): nothing here depends on when the broker reads it, and the wait cost a wake-up
        # per message (docs/benchmarks.md). A lost ack is a redelivery, which dedupe recognises.
        assert message.delivery_tag is not None, "hookq consumes with acknowledgements"
        await message.channel.basic_ack(message.delivery_tag, wait=False)
    except Exception as exc:
        log.warning("ack failed: the broker will redeliver", error=f"{type(exc).__name__}: {exc}")


async def _requeue(message: AbstractIncomingMessage) -> None:
    with contextlib.suppress(Exception):
        await message.nack(requeue=True)
