"""One dead message as an operator sees it: who failed it, why, when, and what it carried.

Built from the message's headers, read by the message format (``hookq.message``): the event's
own headers and its failure record.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from hookq.message import Header, number, read_failure, text

UNROUTED = "unrouted"  # the pseudo-handler of the unrouted queue (a reserved handler name)
NO_HANDLER = "no_handler"  # the "error" of an unrouted event: nothing was bound to it


@dataclass(frozen=True, slots=True)
class DeadQueue:
    """A queue the DLQ tools work on: a handler's dead queue, or the unrouted queue."""

    handler: str  # ``UNROUTED`` for the unrouted queue
    name: str

    @property
    def unrouted(self) -> bool:
        return self.handler == UNROUTED


@dataclass(frozen=True, slots=True)
class DeadRecord:
    queue: DeadQueue
    position: int  # 0 = head of the queue when browsed
    delivery_id: str
    source: str
    event_type: str
    handler: str
    attempts: int | None
    error_type: str
    error_message: str
    traceback: str
    failed_at: float | None  # when it went dead (unrouted: when it was received)
    first_failed_at: float | None
    received_at: float | None
    replays: int
    replayed_at: float | None
    routing_key: str
    content_type: str | None
    headers: Mapping[str, Any] = field(repr=False)
    body: bytes = field(repr=False)

    @classmethod
    def from_message(
        cls, message: AbstractIncomingMessage, queue: DeadQueue, position: int, namespace: str
    ) -> DeadRecord:
        headers = dict(message.headers or {})
        failure = read_failure(headers)
        error_type, failed_at = failure.error_type, failure.failed_at
        handler = failure.handler or queue.handler
        if queue.unrouted:
            error_type, failed_at = NO_HANDLER, number(headers.get(Header.RECEIVED_AT))
        elif failure.broker_queue:
            handler = _handler_of_queue(failure.broker_queue, namespace) or handler
        return cls(
            queue=queue,
            position=position,
            delivery_id=text(headers.get(Header.DELIVERY_ID)),
            source=text(headers.get(Header.SOURCE)),
            event_type=text(headers.get(Header.EVENT_TYPE)),
            handler=handler,
            attempts=failure.attempts,
            error_type=error_type or "unknown",
            error_message=failure.error_message,
            traceback=failure.traceback,
            failed_at=failed_at,
            first_failed_at=failure.first_failed_at,
            received_at=number(headers.get(Header.RECEIVED_AT)),
            replays=failure.replays,
            replayed_at=failure.replayed_at,
            routing_key=message.routing_key or "",
            content_type=message.content_type,
            headers=headers,
            body=message.body,
        )

    def lean(self) -> DeadRecord:
        """The record without what is large (body, header table, traceback): what lists,
        stats, selections and summaries use."""
        return dataclasses.replace(self, body=b"", headers={}, traceback="")

    @property
    def event_routing_key(self) -> str:
        """The key the ingress published it with: ``<source>.<event type>``."""
        if self.source and self.event_type:
            return f"{self.source}.{self.event_type}"
        return self.routing_key

    def age(self, now: float) -> float | None:
        return None if self.failed_at is None else now - self.failed_at


@dataclass(frozen=True, slots=True)
class Selection:
    """Which dead messages a command acts on; empty criteria match everything."""

    ids: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    event_types: frozenset[str] = frozenset()
    error_types: frozenset[str] = frozenset()
    older_than: float | None = None  # seconds

    def matches(self, record: DeadRecord, now: float) -> bool:
        if self.ids and record.delivery_id not in self.ids:
            return False
        if self.sources and record.source not in self.sources:
            return False
        if self.event_types and record.event_type not in self.event_types:
            return False
        if self.error_types and record.error_type not in self.error_types:
            return False
        if self.older_than is not None:
            age = record.age(now)
            # A message with no failure time is never "old enough": purge only what we can date.
            return age is not None and age >= self.older_than
        return True


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``12h``, ``7d``, ``2w`` or combinations (``1h30m``), in seconds."""
    compact = text.strip().lower()
    parts = _DURATION_PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"invalid duration {text!r}: use e.g. 90s, 15m, 12h, 7d, 2w or 1h30m")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def _handler_of_queue(queue: str, namespace: str) -> str:
    prefix = f"{namespace}."
    return queue[len(prefix) :] if queue.startswith(prefix) else ""
