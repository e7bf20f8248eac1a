"""The message format: every header hookq writes on a message and reads back, in one place.

The ingress publishes an event as its raw body with the *event headers* (``event_headers``).
A worker reads them as an ``Envelope`` (``read_envelope``). When a run fails, the copy that goes
to a delay tier or to the dead queue carries the *failure record* (``with_failure``), read back
by the dead-letter tools (``read_failure``). An operator's replay moves the failure record into
``PREVIOUS_FAILURE`` and stamps the replay (``replayed``). Every copy of a message, whatever
its reason, is built by ``copy_message``.

Our headers never start with ``x-``: RabbitMQ 3.13+ drops republished ``x-`` headers, and the
broker's own (``x-death``...) describe the old message's path, so copies drop them.
"""

from __future__ import annotations

import hashlib
import math
import traceback as tb
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import FieldValue


class Header:
    """Message headers set by hookq (the provider's own travel in ``PROVIDER_HEADERS``)."""

    SOURCE = "hookq-source"
    EVENT_TYPE = "hookq-event-type"
    DELIVERY_ID = "hookq-delivery-id"
    RECEIVED_AT = "hookq-received-at"  # int, Unix seconds (header_time)
    PROVIDER_HEADERS = "hookq-provider-headers"  # table: signed provider headers (absent: none)
    ATTEMPT = "hookq-attempt"  # int: the run this delivery is for, 1 on the first
    # W3C trace context of the ingress's span (only when tracing is on)
    TRACEPARENT = "traceparent"
    TRACESTATE = "tracestate"
    # Failure record, added when a handler's run fails (retry) or when a message is dead-lettered
    HANDLER = "hookq-handler"
    ERROR_TYPE = "hookq-error-type"
    ERROR_MESSAGE = "hookq-error-message"
    TRACEBACK = "hookq-traceback"
    FIRST_FAILED_AT = "hookq-first-failed-at"  # int, Unix seconds (header_time)
    LAST_FAILED_AT = "hookq-last-failed-at"  # int, Unix seconds (header_time)
    DEAD_AT = "hookq-dead-at"  # int, Unix seconds (header_time)
    # Operators' record
    REPLAYED_AT = "hookq-replayed-at"  # int, Unix seconds (header_time)
    REPLAYS = "hookq-replays"  # int
    REPLAY_ID = "hookq-replay-id"  # str: the replay run that put it back (a run never loops)
    PREVIOUS_FAILURE = "hookq-previous-failure"  # table: the failure record before the replay


class DestinationHeader:
    """HTTP headers of a delivery to a destination (``hookq.destinations``), besides the
    Standard Webhooks ones (``webhook-id``: the delivery id, ``webhook-timestamp``,
    ``webhook-signature``)."""

    SOURCE = "hookq-source"
    EVENT_TYPE = "hookq-event-type"
    ATTEMPT = "hookq-attempt"  # 1 on the first delivery


FAILURE_HEADERS = frozenset(
    {
        Header.HANDLER,
        Header.ATTEMPT,
        Header.ERROR_TYPE,
        Header.ERROR_MESSAGE,
        Header.TRACEBACK,
        Header.FIRST_FAILED_AT,
        Header.LAST_FAILED_AT,
        Header.DEAD_AT,
    }
)
MAX_MESSAGE = 1000  # characters of an error message kept in a header
MAX_TRACEBACK = 8000  # characters of a traceback kept (its end: where it was raised)
HISTORY_MESSAGE_LIMIT = 500  # characters of the previous error message kept by a replay
DELIVERY_LIMIT = "delivery_limit"  # the broker's x-death reason when the delivery limit hit


def header_time(seconds: float) -> int:
    """A time for a header: whole Unix seconds. Never a Python float: pamqp encodes floats as
    32-bit, which near 2026 is precise only to about two minutes."""
    return int(seconds)


# The event, as the ingress publishes it ---------------------------------------------------


def event_headers(
    source: str,
    event_type: str,
    delivery_id: str,
    received_at: float,
    provider_headers: Mapping[str, str] | None = None,
    trace: Mapping[str, str] | None = None,
) -> dict[str, FieldValue]:
    """The headers of a newly received event (the ingress's hot path: a plain dict)."""
    headers: dict[str, FieldValue] = {
        Header.SOURCE: source,
        Header.EVENT_TYPE: event_type,
        Header.DELIVERY_ID: delivery_id,
        Header.RECEIVED_AT: header_time(received_at),
    }
    if provider_headers:  # most providers keep none: no empty table to encode
        headers[Header.PROVIDER_HEADERS] = dict(provider_headers)
    if trace:
        headers.update(trace)
    return headers


class BadEnvelope(Exception):
    """The message lacks a header the ingress always sets: it was not published by hookq."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a queued message says about its event."""

    source: str
    event_type: str
    delivery_id: str
    attempt: int  # the run this delivery is for: 1 on the first
    received_at: datetime
    message_id: str
    provider_headers: Mapping[str, str]
    replay_id: str | None = None  # the operator's replay that put it back, if one did

    @property
    def replayed(self) -> bool:
        return self.replay_id is not None

    @property
    def routing_key(self) -> str:
        return f"{self.source}.{self.event_type}"


def read_envelope(
    headers: Mapping[str, Any],
    body: bytes,
    message_id: str | None = None,
    timestamp: datetime | None = None,
) -> Envelope:
    """The envelope of a queued message; ``BadEnvelope`` if hookq did not publish it."""
    attempt = headers.get(Header.ATTEMPT, 1)
    replay_id = headers.get(Header.REPLAY_ID)
    return Envelope(
        source=_required(headers, Header.SOURCE),
        event_type=_required(headers, Header.EVENT_TYPE),
        delivery_id=_required(headers, Header.DELIVERY_ID),
        attempt=attempt if isinstance(attempt, int) and attempt >= 1 else 1,
        received_at=_received_at(headers.get(Header.RECEIVED_AT), timestamp),
        message_id=message_id or _stable_id(body),
        provider_headers=_provider_headers(headers.get(Header.PROVIDER_HEADERS)),
        replay_id=text(replay_id) or None if replay_id is not None else None,
    )


def trace_context(headers: Mapping[str, Any]) -> dict[str, str]:
    """The W3C trace context a message carries (empty when tracing was off at the ingress)."""
    return {
        name: text(headers[name])
        for name in (Header.TRACEPARENT, Header.TRACESTATE)
        if name in headers
    }


def _required(headers: Mapping[str, Any], name: str) -> str:
    value = text(headers.get(name))
    if not value:
        raise BadEnvelope(f"header {name!r} missing or empty")
    return value


def _provider_headers(table: Any) -> Mapping[str, str]:
    if not isinstance(table, Mapping):
        return {}
    return {str(k): text(v) for k, v in table.items()}


def _received_at(value: Any, timestamp: datetime | None) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return timestamp or datetime.now(UTC)


def _stable_id(body: bytes) -> str:
    # Every hookq publish sets a message id. For one published without, the same bytes give
    # the same id: a redelivery is then never mistaken for a duplicate (at worst a duplicate
    # waits for the lease before it is recognised).
    return "sha256:" + hashlib.sha256(body).hexdigest()[:32]


# The failure record ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a run failed, as it is recorded in headers."""

    error_type: str
    message: str
    traceback: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        text_ = "".join(tb.format_exception(exc))
        return cls(type(exc).__name__, truncate(str(exc)), text_[-MAX_TRACEBACK:])


def truncate(value: str, limit: int = MAX_MESSAGE) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def with_failure(
    original: Mapping[str, Any],
    handler: str,
    attempt: int,
    failure: Failure,
    now: float,
    *,
    dead: bool = False,
) -> dict[str, FieldValue]:
    """The original's own headers plus the failure record of run ``attempt`` (and the time it
    went dead, for a dead letter). ``FIRST_FAILED_AT`` survives from earlier failures, so a
    dead letter says when its trouble began."""
    headers = {k: v for k, v in original.items() if not k.startswith("x-")}
    first_failed = headers.get(Header.FIRST_FAILED_AT)
    headers.update(
        {
            Header.HANDLER: handler,
            Header.ATTEMPT: attempt,
            Header.ERROR_TYPE: failure.error_type,
            Header.ERROR_MESSAGE: failure.message,
            Header.FIRST_FAILED_AT: (
                first_failed if isinstance(first_failed, int | float) else header_time(now)
            ),
            Header.LAST_FAILED_AT: header_time(now),
        }
    )
    if failure.traceback is not None:
        headers[Header.TRACEBACK] = failure.traceback
    else:
        headers.pop(Header.TRACEBACK, None)
    if dead:
        headers[Header.DEAD_AT] = header_time(now)
    return headers


def retried(
    original: Mapping[str, Any], handler: str, attempt: int, failure: Failure, now: float
) -> dict[str, FieldValue]:
    """The headers of the copy that goes to a delay tier: the failure record of run
    ``attempt`` and the number of the run it comes back for."""
    headers = with_failure(original, handler, attempt, failure, now)
    headers[Header.ATTEMPT] = attempt + 1
    return headers


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """The failure record as the dead-letter tools read it. A message the broker dead-lettered
    itself (a crash loop hit the handler queue's delivery limit) carries none of our failure
    headers, only ``x-death``: its error type is ``delivery_limit``."""

    handler: str  # empty when the message does not say
    attempts: int | None
    error_type: str  # empty when the message carries no failure record
    error_message: str
    traceback: str
    failed_at: float | None
    first_failed_at: float | None
    replays: int
    replayed_at: float | None
    broker_queue: str  # the queue the broker dead-lettered it from (delivery limit), if any


def read_failure(headers: Mapping[str, Any]) -> FailureRecord:
    death = _broker_death(headers.get("x-death"))
    error_type = text(headers.get(Header.ERROR_TYPE))
    failed_at = number(headers.get(Header.DEAD_AT)) or number(headers.get(Header.LAST_FAILED_AT))
    broker_queue = ""
    attempts = whole(headers.get(Header.ATTEMPT))
    if not error_type and death is not None:
        error_type = DELIVERY_LIMIT
        failed_at = failed_at or number(death.get("time"))
        broker_queue = text(death.get("queue"))
        attempts = attempts or whole(death.get("count"))
    return FailureRecord(
        handler=text(headers.get(Header.HANDLER)),
        attempts=attempts,
        error_type=error_type,
        error_message=text(headers.get(Header.ERROR_MESSAGE)),
        traceback=text(headers.get(Header.TRACEBACK)),
        failed_at=failed_at,
        first_failed_at=number(headers.get(Header.FIRST_FAILED_AT)),
        replays=whole(headers.get(Header.REPLAYS)) or 0,
        replayed_at=number(headers.get(Header.REPLAYED_AT)),
        broker_queue=broker_queue,
    )


def _broker_death(value: Any) -> Mapping[str, Any] | None:
    """The ``x-death`` entry of the delivery limit, if the broker dead-lettered the message."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        return None
    for entry in value:
        if isinstance(entry, Mapping) and text(entry.get("reason")) == DELIVERY_LIMIT:
            return entry
    return None


# Replays --------------------------------------------------------------------------------


def replayed(
    original: Mapping[str, Any], run_id: str, now: float, *, back_to_handler: bool
) -> dict[str, FieldValue]:
    """The headers of a replayed copy: the event's own headers, the failure record moved into
    ``PREVIOUS_FAILURE`` (so the next failure is recorded cleanly and the last one is still
    visible), a fresh attempt count, and the replay's stamp. An unrouted event goes back to
    the events exchange as it came (``back_to_handler`` False)."""
    headers: dict[str, FieldValue] = {
        key: value
        for key, value in original.items()
        if not key.startswith("x-") and key not in FAILURE_HEADERS
    }
    if back_to_handler:
        headers[Header.ATTEMPT] = 1
        headers[Header.PREVIOUS_FAILURE] = _failure_history(read_failure(original))
    headers[Header.REPLAYED_AT] = header_time(now)
    headers[Header.REPLAYS] = (whole(original.get(Header.REPLAYS)) or 0) + 1
    headers[Header.REPLAY_ID] = run_id
    return headers


def _failure_history(record: FailureRecord) -> dict[str, FieldValue]:
    history: dict[str, FieldValue] = {
        "handler": record.handler,
        "error-type": record.error_type,
        "error-message": record.error_message[:HISTORY_MESSAGE_LIMIT],
    }
    for key, value in (
        ("attempts", record.attempts),
        ("first-failed-at", record.first_failed_at),
        ("dead-at", record.failed_at),
    ):
        if value is not None:
            history[key] = round(value)
    return history


# Copies ---------------------------------------------------------------------------------


def copy_message(
    body: bytes,
    headers: Mapping[str, FieldValue],
    *,
    content_type: str | None = "application/json",
    content_encoding: str | None = None,
    timestamp: datetime | None = None,
) -> aio_pika.Message:
    """A persistent copy of a message with ``headers`` and a message id of its own: every
    publish has a unique message id (a mandatory return finds its publish by it)."""
    return aio_pika.Message(
        body,
        headers=dict(headers),
        content_type=content_type,
        content_encoding=content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=uuid.uuid4().hex,
        timestamp=timestamp,
    )


# Reading header values ------------------------------------------------------------------


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def number(value: Any) -> float | None:
    """A header's number, or None (not a number, or not finite: ``inf`` is no time)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, datetime):
        # AMQP timestamps are UTC; pamqp gives them without a zone.
        return value.replace(tzinfo=value.tzinfo or UTC).timestamp()
    try:
        parsed = float(text(value)) if value is not None else None
    except ValueError:
        return None
    return parsed if parsed is None or math.isfinite(parsed) else None


def whole(value: Any) -> int | None:
    result = number(value)
    return None if result is None else int(result)
