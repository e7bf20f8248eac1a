"""Issues: dead letters grouped by handler, event type and error type, like Hookdeck's Issues.

A group is what an operator acts on at once (replay it after a fix, purge it when it is
noise): it is keyed by the dead queue it lives in (its handler, or ``unrouted``), so a group's
replay or purge (``actions``) selects exactly its letters with the CLI's own selection
(``--handler H --event-type T --error-type E``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from hookq.dlq import operations, report
from hookq.dlq.queues import connect
from hookq.dlq.records import DeadRecord, Selection
from hookq.privacy import Privacy
from hookq.settings import Settings

BROWSE_WAIT = 3.0  # as ``hookq dlq``'s --wait: another browse of a queue holds it that long


@dataclass(frozen=True, slots=True, order=True)
class IssueKey:
    handler: str
    event_type: str
    error_type: str

    @property
    def selection(self) -> Selection:
        return Selection(
            event_types=frozenset({self.event_type}), error_types=frozenset({self.error_type})
        )

    def query(self, **more: str) -> str:
        """The key as a query string (every value encoded: they come from providers)."""
        fields = {"handler": self.handler, "event_type": self.event_type}
        return urlencode(fields | {"error_type": self.error_type} | more)


@dataclass(slots=True)
class Issue:
    key: IssueKey
    count: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    sources: set[str] = field(default_factory=set)
    sample: DeadRecord | None = None  # the most recent letter of the group

    def add(self, record: DeadRecord) -> None:
        self.count += 1
        self.sources.add(record.source)
        at = record.failed_at
        if at is not None:
            self.first_seen = at if self.first_seen is None else min(self.first_seen, at)
            if self.last_seen is None or at >= self.last_seen:
                self.last_seen, self.sample = at, record
        if self.sample is None:
            self.sample = record

    def as_json(self, redactor: Privacy) -> dict[str, Any]:
        return {
            "handler": self.key.handler,
            "event_type": self.key.event_type,
            "error_type": self.key.error_type,
            "count": self.count,
            "first_seen": report.iso(self.first_seen),
            "last_seen": report.iso(self.last_seen),
            "sources": sorted(self.sources),
            "sample": None if self.sample is None else report.row(self.sample, redactor),
        }


def group(records: Iterable[DeadRecord]) -> list[Issue]:
    """Issues, the most recent failure first."""
    issues: dict[IssueKey, Issue] = {}
    for record in records:
        key = IssueKey(record.queue.handler, record.event_type, record.error_type)
        issues.setdefault(key, Issue(key)).add(record)
    return sorted(issues.values(), key=lambda i: (-(i.last_seen or 0.0), i.key))


@dataclass(frozen=True, slots=True)
class Board:
    issues: list[Issue]
    notes: list[str]
    read_at: float  # Unix time, shown
    monotonic: float = 0.0  # when, for the cache


class IssueBoard:
    """The issues of every dead queue, read by browsing them (which never changes them).

    One browse serves every request for ``max_age`` seconds: pages that refresh themselves, and
    several operators, do not each hold the dead queues (a browse holds a queue while it reads
    it, and a replay or purge starting meanwhile waits for it)."""

    def __init__(self, settings: Settings, max_age: float = 2.0) -> None:
        self._settings = settings
        self._max_age = max_age
        self._board: Board | None = None
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._board = None

    async def read(self) -> Board:
        async with self._lock:
            board = self._board
            if board is None or time.monotonic() - board.monotonic > self._max_age:
                board = self._board = await self._browse()
            return board

    async def _browse(self) -> Board:
        async with await connect(self._settings, "console-issues") as connection:
            read = await operations.read_queues(connection, self._settings, None, wait=BROWSE_WAIT)
        return Board(group(read.records), read.notes, time.time(), time.monotonic())
