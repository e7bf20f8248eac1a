"""Running a handler in process through the worker's own pipeline, without a broker or Redis.

    result = await run_handler(sync_thread, "plain", "thread.chat_sent")
    assert result.done
    result = await run_handler(sync_thread, "plain", "thread.chat_sent", failing, attempt=2)
    assert result.retried and result.delay in (1.0, 4.0)  # Backoff(): 1, 4, 16 s..., jitter

What runs is what a worker runs (``hookq.worker.pipeline.Pipeline``): the event is signed
(``hookq.testing.signing``) and taken as the ingress takes it (``Source.accept``: LiveChat's
secret cut out, the delivery id found), read back as a queued message, validated
(``hookq.worker.validation.Validator``), and the handler is called with its timeout; its
outcome is the ``Ending`` the worker's ``after_run`` decides (the delay tier from the
handler's ``Backoff``, with its jitter). Only the ends are stand-ins: dedupe always grants the
claim, and the ending is recorded instead of being carried out on a broker.
"""

from __future__ import annotations

import dataclasses
import functools
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from aio_pika.abc import FieldValue
from pydantic import BaseModel

from hookq.handlers.annotations import check_annotation
from hookq.handlers.api import HandlerContext, HandlerFunc, HandlerSpec, spec_of
from hookq.message import Envelope, Failure, Header, event_headers
from hookq.sources.base import SourceSettings
from hookq.sources.registry import source_type
from hookq.testing.signing import Payload, signed_request, source_settings
from hookq.topology import topic_matches
from hookq.worker.deadlines import Deadlines
from hookq.worker.hooks import Hook, Hooks
from hookq.worker.inflight import InFlight
from hookq.worker.outcomes import Claim, Ending, Outcome, Requeue, RetryLater, Settler
from hookq.worker.pipeline import Pipeline
from hookq.worker.received import Message
from hookq.worker.validation import Validator

if TYPE_CHECKING:
    from hookq.handlers.api import Database


@dataclass(frozen=True, slots=True)
class Result:
    """How one run ended, as the worker would settle it."""

    outcome: Outcome  # processed, retried, dead, invalid (requeued: a hook failed)
    delay: float | None  # retried: the delay tier it would wait in, seconds
    failure: Failure | None  # why it failed: error type, message, traceback (the record kept)
    event: BaseModel | None  # the typed event the handler got (None: it did not run)
    context: HandlerContext | None  # the context the handler got
    error: Exception | None  # what the handler raised, if it raised

    @property
    def done(self) -> bool:
        return self.outcome is Outcome.PROCESSED

    @property
    def retried(self) -> bool:
        return self.outcome is Outcome.RETRIED

    @property
    def dead(self) -> bool:
        return self.outcome is Outcome.DEAD

    @property
    def invalid(self) -> bool:
        return self.outcome is Outcome.INVALID

    @property
    def reason(self) -> str | None:
        return self.failure.message if self.failure else None


async def run_handler(
    handler: HandlerFunc | HandlerSpec,
    source: str,
    event_type: str,
    payload: Payload | None = None,
    *,
    attempt: int = 1,
    hooks: Sequence[Hook] = (),
    settings: SourceSettings | None = None,
    now: float | None = None,
    db: Database | None = None,
) -> Result:
    """Run ``handler`` (a ``@handler`` function or its spec) on ``source``'s ``event_type``: the
    catalogue's example, or ``payload``. ``attempt``: the run it is (1 the first; the last,
    ``max_attempts``, dead-letters on failure). ``hooks``: the worker hooks to run around it.
    ``settings``: the source's settings, where they change the request (see ``signed_request``).
    ``db``: what a transactional handler writes through (``ctx.db``): an asyncpg connection,
    in a transaction of the caller's (roll it back to leave nothing behind).

    Raises what would stop it before it runs in a worker: ``AnnotationMismatch`` when its event
    annotation cannot take every event its patterns bind (discovery refuses it), ``ValueError``
    when it is not bound to this event type (a worker would never give it that event) or
    ``attempt`` is out of range, and the source's ``WebhookRejected`` when the ingress would
    refuse the payload."""
    spec = _spec(handler)
    check_annotation(spec)  # as the worker's discovery does: it would refuse to run it
    routing_key = f"{source}.{event_type}"
    if not any(topic_matches(pattern, routing_key) for pattern in spec.patterns):
        raise ValueError(
            f"handler {spec.name!r} is not bound to {routing_key!r} "
            f"(its patterns: {', '.join(spec.patterns)})"
        )
    if not 1 <= attempt <= spec.max_attempts:
        raise ValueError(f"attempt must be 1 to {spec.max_attempts} (its max_attempts)")
    if spec.transactional and db is None:
        raise ValueError(
            f"handler {spec.name!r} is transactional: pass db=, an asyncpg connection in a "
            "transaction of yours (ctx.db in the worker)"
        )
    request = signed_request(source, event_type, payload, settings=settings, now=now)
    accepted = request.accepted
    headers = event_headers(
        source,
        accepted.event_type,
        accepted.delivery_id,
        time.time() if now is None else now,
        accepted.provider_headers,
    )
    if attempt > 1:
        headers[Header.ATTEMPT] = attempt
    message = _Message(accepted.body, headers)
    seen = _Seen()
    settler = _RecordingSettler()
    # Validation reads no secret: the source as the worker builds it.
    checker = source_type(source)(settings or source_settings(source))
    deadlines = Deadlines()
    pipeline = Pipeline(
        dataclasses.replace(spec, func=functools.partial(_watched, spec.func, seen)),
        validator=Validator({source: checker}),
        claimer=_EveryClaimGranted(db),
        settler=settler,
        hooks=Hooks(hooks),
        in_flight=InFlight(),
        deadlines=deadlines,
    )
    try:
        await pipeline.process(cast(Message, message))
    finally:
        await deadlines.close()
    return _result(settler.ending, seen)


def _spec(handler: HandlerFunc | HandlerSpec) -> HandlerSpec:
    if isinstance(handler, HandlerSpec):
        return handler
    spec = spec_of(handler)
    if spec is None:
        raise TypeError(f"{handler!r} is not a handler: decorate it with @handler(...)")
    return spec


@dataclass(slots=True)
class _Seen:
    """What the handler was called with, and what it raised."""

    event: BaseModel | None = None
    context: HandlerContext | None = None
    error: Exception | None = None


async def _watched(func: HandlerFunc, seen: _Seen, event: Any, ctx: HandlerContext) -> None:
    seen.event, seen.context = event, ctx
    try:
        await func(event, ctx)
    except Exception as exc:
        seen.error = exc
        raise


def _result(ending: Ending | None, seen: _Seen) -> Result:
    assert ending is not None, "the pipeline ended the message without settling it"
    failure = ending.failure
    if isinstance(ending, Requeue):  # a hook (or hookq) failed: the worker logs it, requeues
        failure = Failure("Requeue", ending.reason)
    return Result(
        outcome=ending.outcome,
        delay=ending.delay if isinstance(ending, RetryLater) else None,
        failure=failure,
        event=seen.event,
        context=seen.context,
        error=seen.error,
    )


@dataclass(slots=True)
class _Message:
    """The queued message as the pipeline reads it (headers, body, id, time)."""

    body: bytes
    headers: dict[str, FieldValue]
    message_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    timestamp: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))
    content_type: str = "application/json"
    content_encoding: str | None = None


class _Granted:
    """A claim of a run no other delivery competes with: nothing to mark, commit or undo (the
    caller's transaction, if any, is the caller's)."""

    def __init__(self, db: Database | None) -> None:
        self.db = db

    async def end_run(self, error: Exception | None) -> Exception | None:
        return error

    async def done(self) -> bool:
        return True

    async def dead(self) -> None:
        return None

    async def release(self) -> None:
        return None

    async def retrying(self, attempt: int, due: float) -> None:
        return None

    async def close(self) -> None:
        return None


class _EveryClaimGranted:
    """One run, never a duplicate: what dedupe decides is the worker's business."""

    def __init__(self, db: Database | None) -> None:
        self._db = db

    async def claim(self, envelope: Envelope) -> Claim:
        return _Granted(self._db)


class _RecordingSettler(Settler):
    """Records how the message ends instead of carrying it out on a broker."""

    def __init__(self) -> None:
        self.ending: Ending | None = None

    async def settle(
        self, message: Message, ending: Ending, claim: Claim | None, attempt: int
    ) -> Outcome:
        self.ending = ending
        return ending.outcome
