"""What a queued message says about its event: the ingress's headers, read and checked once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from aio_pika.abc import AbstractIncomingMessage, FieldValue

from hookq.topology import Header


class BadEnvelope(Exception):
    """The message lacks a header the ingress always sets: it was not published by hookq."""


@dataclass(frozen=True, slots=True)
class Envelope:
    source: str
    event_type: str
    delivery_id: str
    attempt: int  # the run this delivery is for: 1 on the first
    received_at: datetime
    message_id: str
    replayed: bool = False  # an operator put it back from a dead queue

    def provider_headers(self, message: AbstractIncomingMessage) -> dict[str, str]:
        table = message.headers.get(Header.PROVIDER_HEADERS)
        if not isinstance(table, dict):
            return {}
        return {str(k): _text(v) for k, v in table.items()}


def _text(value: FieldValue) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _required(headers: dict[str, FieldValue], name: str) -> str:
    value = headers.get(name)
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if not isinstance(value, str) or not value:
        raise BadEnvelope(f"header {name!r} missing or empty")
    return value


def read_envelope(message: AbstractIncomingMessage) -> Envelope:
    headers = message.headers
    attempt = headers.get(Header.ATTEMPT, 1)
    received = headers.get(Header.RECEIVED_AT)
    return Envelope(
        source=_required(headers, Header.SOURCE),
        event_type=_required(headers, Header.EVENT_TYPE),
        delivery_id=_required(headers, Header.DELIVERY_ID),
        attempt=attempt if isinstance(attempt, int) and attempt >= 1 else 1,
        received_at=_received_at(received, message),
        message_id=message.message_id or _stable_id(message),
        replayed=Header.REPLAYED_AT in headers,
    )


def _received_at(value: FieldValue, message: AbstractIncomingMessage) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return message.timestamp or datetime.now(UTC)


def _stable_id(message: AbstractIncomingMessage) -> str:
    # Every hookq publish sets a message id. For one published without, the same bytes give
    # the same id: a redelivery is then never mistaken for a duplicate (at worst a duplicate
    # waits for the lease before it is recognised).
    return "sha256:" + hashlib.sha256(message.body).hexdigest()[:32]
