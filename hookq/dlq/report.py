"""Dead messages as plain data: what ``--json`` prints and what the tables are drawn from.

Everything an operator can read passes through the privacy policy (``hookq.privacy``) here, so
no output path can forget it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from hookq.declarations import Orphan
from hookq.dlq.browse import Snapshot
from hookq.dlq.move import MoveResult
from hookq.dlq.records import DeadRecord
from hookq.privacy import Privacy

TOP_ERRORS = 5


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def row(record: DeadRecord, redactor: Privacy) -> dict[str, Any]:
    return {
        "handler": record.handler,
        "queue": record.queue.name,
        "position": record.position,
        "delivery_id": record.delivery_id,
        "source": record.source,
        "event_type": record.event_type,
        "attempts": record.attempts,
        "error_type": record.error_type,
        "error_message": redactor.text(record.error_message),
        "failed_at": iso(record.failed_at),
        "replays": record.replays,
    }


def detail(record: DeadRecord, redactor: Privacy) -> dict[str, Any]:
    body, is_json = redactor.body(record.body)
    return row(record, redactor) | {
        "first_failed_at": iso(record.first_failed_at),
        "received_at": iso(record.received_at),
        "replayed_at": iso(record.replayed_at),
        "routing_key": record.routing_key,
        "content_type": record.content_type,
        "traceback": redactor.text(record.traceback),
        "headers": redactor.value(dict(record.headers)),
        "body": body,
        "body_is_json": is_json,
    }


def queue_summary(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "handler": snapshot.queue.handler,
        "queue": snapshot.queue.name,
        "exists": snapshot.exists,
        "ready": snapshot.ready,  # waiting when the browse began, by the broker's count
        "seen": len(snapshot.records),
        "complete": snapshot.complete,
        "other_consumers": snapshot.other_consumers,
    }


def stats(snapshot: Snapshot) -> dict[str, Any]:
    times = [r.failed_at for r in snapshot.records if r.failed_at is not None]
    errors = Counter(r.error_type for r in snapshot.records)
    return queue_summary(snapshot) | {
        "dead": len(snapshot.records),
        "oldest_failure": iso(min(times)) if times else None,
        "newest_failure": iso(max(times)) if times else None,
        "error_types": dict(errors.most_common(TOP_ERRORS)),
    }


def orphan(found: Orphan) -> dict[str, Any]:
    """A handler queue that no deployed handler declares, still bound: it keeps filling."""
    return {
        "handler": found.history.handler,
        "queue": found.queue,
        "waiting": found.state.ready,
        "dead": found.dead,
        "declared_by": found.history.owner,
        "last_declared": iso(found.history.last.at),
        "patterns": sorted(found.history.bound),  # bound by it and never unbound
    }


def moved(result: MoveResult, redactor: Privacy) -> dict[str, Any]:
    return {
        "handler": result.queue.handler,
        "queue": result.queue.name,
        "done": [row(r, redactor) for r in result.done],
        "came_back": [row(r, redactor) for r in result.came_back],
        "complete": result.complete,
        "stopped": result.stopped or None,
    }


def partial_note(snapshot: Snapshot) -> str | None:
    if snapshot.complete:
        return None
    return (
        f"{snapshot.queue.name}: {snapshot.other_consumers} other session(s) attached "
        "(a replay or purge under way?); the messages they hold right now are not shown"
    )
