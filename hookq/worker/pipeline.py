"""One handler's message pipeline: the callback its queue's consumer runs for every message.

decode -> validate -> claim (dedupe) -> run the handler with its timeout; whatever ends the
message (``hookq.worker.outcomes``) is handed to the settler, and the hooks
(``hookq.worker.hooks``) wrap each stage and hear every outcome.

The claim comes from the handler's ``Claimer``: a Redis key (``hookq.worker.dedupe``), or for a
transactional handler a PostgreSQL transaction holding the event's inbox row
(``hookq.inbox``), which the handler writes through (``ctx.db``) and which commits when the run
ends well, before the message is settled.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import structlog
from pydantic import BaseModel

from hookq import log_context
from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.message import BadEnvelope, Envelope, Failure, read_envelope
from hookq.worker.deadlines import Deadlines
from hookq.worker.hooks import Delivery, Hooks, Stage
from hookq.worker.inflight import InFlight
from hookq.worker.outcomes import Claim, Ending, Invalid, Requeue, Settler, after_run
from hookq.worker.received import Message
from hookq.worker.validation import Validator

log = structlog.get_logger("hookq.worker")
handler_log = structlog.get_logger("hookq.handler")


class Claimer(Protocol):
    async def claim(self, envelope: Envelope) -> Claim:
        """This run's claim on the event; raises an ``Ending`` instead when it must not run
        (``Duplicate``: done, dead or in flight elsewhere)."""


class Pipeline:
    def __init__(
        self,
        spec: HandlerSpec,
        *,
        validator: Validator,
        claimer: Claimer,
        settler: Settler,
        hooks: Hooks,
        in_flight: InFlight,
        deadlines: Deadlines,
    ) -> None:
        self.spec = spec
        self._validator = validator
        self._claimer = claimer
        self._settler = settler
        self._hooks = hooks
        self._in_flight = in_flight
        self._deadlines = deadlines
        self._log = handler_log.bind(handler=spec.name)

    def start(self, message: Message) -> None:
        """Process ``message`` in a task of its own (the consumer's callback calls this).

        aiormq cancels its consumers' tasks when the connection drops. Cancelling a handler
        there would release the claim after an effect it may already have had, and the
        redelivery would run it again: in a task of its own the run finishes and marks done
        (Redis does not need the broker), its ack is lost with the channel, and the redelivery
        finds the done mark. Only the worker's stop cancels it (``InFlight.drain``).
        """
        self._in_flight.start(self.process(message))

    async def process(self, message: Message) -> None:
        """Everything that happens to one message, up to its settling."""
        delivery = Delivery(self.spec.name, message.headers)
        try:
            envelope = read_envelope(
                message.headers, message.body, message.message_id, message.timestamp
            )
        except BadEnvelope as exc:
            await self._settle(message, delivery, Invalid(Failure("BadEnvelope", str(exc))))
            return
        delivery.envelope = envelope
        bound = log_context.bind(
            {
                "delivery_id": envelope.delivery_id,
                "source": envelope.source,
                "event_type": envelope.event_type,
                "handler": self.spec.name,
                "attempt": envelope.attempt,
            }
        )
        try:
            async with self._hooks.around(Stage.MESSAGE, delivery):
                await self._process(message, delivery, envelope)
        except Exception:
            # A fault of ours or of a hook, not the handler's (those are outcomes): requeued,
            # and the queue's delivery limit dead-letters a message that keeps causing it.
            log.exception("worker error: message requeued")
            await self._settle(message, delivery, Requeue("worker error"))
        finally:
            log_context.unbind(bound)

    async def _process(self, message: Message, delivery: Delivery, envelope: Envelope) -> None:
        claim: Claim | None = None
        try:
            try:
                async with self._hooks.around(Stage.VALIDATE, delivery):
                    event = self._validator.validate(envelope, message.body)
                async with self._hooks.around(Stage.CLAIM, delivery):
                    claim = await self._claimer.claim(envelope)
                if isinstance(event, Failure):
                    raise Invalid(event)
            except Ending as ending:
                await self._settle(message, delivery, ending, claim)
                return
            except asyncio.CancelledError:
                await self._settle(message, delivery, Requeue("stopping"), claim)
                raise
            delivery.event = event
            await self._run_and_settle(message, delivery, event, claim)
        finally:
            if claim is not None:
                # Whatever ended the message (a hook's fault included), what the claim holds
                # (a pooled connection) goes back.
                await claim.close()

    async def _run_and_settle(
        self, message: Message, delivery: Delivery, event: BaseModel, claim: Claim
    ) -> None:
        try:
            async with self._hooks.around(Stage.RUN, delivery):
                ending = await self._run(delivery, event, claim, message.body)
        except asyncio.CancelledError:
            # Interrupted by a stop past its grace: the message goes back to the queue, and our
            # claim is released so that whoever gets it need not wait for the lease.
            await self._settle(message, delivery, Requeue("stopped past the grace"), claim)
            raise
        except Exception:
            log.exception("a hook failed around the run: message requeued")
            ending = Requeue("hook error")
        await self._settle(message, delivery, ending, claim)

    async def _run(self, delivery: Delivery, event: BaseModel, claim: Claim, body: bytes) -> Ending:
        spec, envelope = self.spec, delivery.envelope
        assert envelope is not None
        ctx = HandlerContext(
            handler=spec.name,
            delivery_id=envelope.delivery_id,
            source=envelope.source,
            event_type=envelope.event_type,
            attempt=envelope.attempt,
            max_attempts=spec.max_attempts,
            received_at=envelope.received_at,
            headers=envelope.provider_headers,
            log=self._log.bind(
                delivery_id=envelope.delivery_id,
                source=envelope.source,
                event_type=envelope.event_type,
                attempt=envelope.attempt,
            ),
            db=claim.db,
            body=body,
        )
        started = time.perf_counter()
        deadline = self._deadlines.within(spec.timeout)
        error: Exception | None = None
        try:
            async with deadline:
                await spec.func(event, ctx)
        except Exception as exc:
            error = exc
        finally:
            delivery.run_seconds = time.perf_counter() - started
        timed_out = isinstance(error, TimeoutError) and deadline.expired
        try:
            # A transactional run commits here, before it is settled: a crash between the
            # commit and the ack leaves a committed row, and the redelivery is a duplicate.
            error = await claim.end_run(error)
        except Ending as ending:
            return ending
        return after_run(error, spec, envelope.attempt, timed_out=timed_out)

    async def _settle(
        self,
        message: Message,
        delivery: Delivery,
        ending: Ending,
        claim: Claim | None = None,
    ) -> None:
        if delivery.outcome is not None:
            return  # settled already (a hook failed after it): a message ends once
        delivery.failure = ending.failure
        async with self._hooks.around(Stage.SETTLE, delivery):
            delivery.outcome = await self._settler.settle(message, ending, claim, delivery.attempt)
        self._hooks.settled(delivery, delivery.outcome)
