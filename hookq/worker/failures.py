"""The failure record a retried or dead-lettered message carries, and the copy that carries it.

A copy keeps the original body and our headers (broker-set ``x-`` headers are dropped: they
describe the old message's path, and RabbitMQ 3.13+ ignores them when republished), gets a new
unique message id, and adds the ``Header`` failure fields. ``FIRST_FAILED_AT`` survives from
earlier failures, so a dead letter says when its trouble began.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, FieldValue
from pydantic import ValidationError

from hookq.topology import Header, header_time

MAX_MESSAGE = 1000  # characters of an error message kept in a header
MAX_TRACEBACK = 8000  # characters of a traceback kept (its end: where it was raised)
MAX_VALIDATION_ERRORS = 20


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a run failed, as it is recorded in headers."""

    error_type: str
    message: str
    traceback: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        text = "".join(traceback.format_exception(exc))
        return cls(type(exc).__name__, truncate(str(exc)), text[-MAX_TRACEBACK:])


def truncate(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validation_failure(exc: ValidationError) -> Failure:
    """Field path and reason for each error; never the input values (they may be personal)."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
        for err in errors[:MAX_VALIDATION_ERRORS]
    ]
    if len(errors) > MAX_VALIDATION_ERRORS:
        parts.append(f"... and {len(errors) - MAX_VALIDATION_ERRORS} more")
    return Failure("ValidationError", truncate(f"{exc.title}: " + "; ".join(parts), 4000))


def failure_headers(
    original: Mapping[str, FieldValue],
    handler: str,
    attempt: int,
    failure: Failure,
    now: float,
) -> dict[str, FieldValue]:
    """The original's own headers plus the failure record of run ``attempt``."""
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
    return headers


def copy_of(message: AbstractIncomingMessage, headers: dict[str, FieldValue]) -> aio_pika.Message:
    """A persistent copy of ``message`` with ``headers`` and a message id of its own."""
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=uuid.uuid4().hex,
        timestamp=message.timestamp,
    )
