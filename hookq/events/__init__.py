"""The event archive (issue 14): every event the ingress accepted, kept in a RabbitMQ stream,
found, traced, replayed and compared with the typed models.

The console and scripts call this small API; ``hookq events`` is its command line:

- ``Selection``: which archived events (source, type pattern, since, until, contains, ids,
  limit);
- ``search(settings, selection) -> list[ArchivedEvent]``;
- ``trace(settings, delivery_id) -> Trace | None``: the event, each bound handler's fate, and
  how many times the provider delivered it;
- ``replay(settings, selection, handlers, *, replay_id=None, rate=None, dry_run=False,
  progress=None) -> ReplaySummary``;
- ``drift(settings, source=None, since=None) -> list[Drift]``.

Imported lazily: ``hookq --help`` loads ``hookq.events.cli`` (and so this package) without
aio-pika.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookq.events.archive import ArchivedEvent, ArchiveMissing
    from hookq.events.fate import HandlerFate, Trace, trace
    from hookq.events.finding import search
    from hookq.events.replaying import ReplayError, ReplaySummary, replay
    from hookq.events.schema_drift import Drift, drift
    from hookq.events.selection import Selection

_WHERE = {
    "ArchivedEvent": "archive",
    "ArchiveMissing": "archive",
    "Drift": "schema_drift",
    "drift": "schema_drift",
    "HandlerFate": "fate",
    "Trace": "fate",
    "trace": "fate",
    "ReplaySummary": "replaying",
    "ReplayError": "replaying",
    "replay": "replaying",
    "search": "finding",
    "Selection": "selection",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'hookq.events' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hookq.events.{_WHERE[name]}"), name)


__all__ = [
    "ArchiveMissing",
    "ArchivedEvent",
    "Drift",
    "HandlerFate",
    "ReplayError",
    "ReplaySummary",
    "Selection",
    "Trace",
    "drift",
    "replay",
    "search",
    "trace",
]
