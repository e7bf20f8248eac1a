"""Which archived events an operator means: ``Selection``, its filters, and the times and
patterns the commands take.

A time is a duration back from now (``2h``, ``3d``, ``1h30m``) or an ISO-8601 time (``2026-12-01``,
``2026-12-01T13:00:00Z``; without a zone, UTC). The archive knows when each event was received
to the second (``hookq.message.Header.RECEIVED_AT``): ``since`` and ``until`` compare whole
seconds, both inclusive. A type pattern is a topic pattern over the event type, as handlers
bind (``*`` one dot-separated word, ``#`` any number): ``thread.*``, ``#.created``.

``contains`` searches the body as ``hookq events show`` prints it, masked by the privacy policy
(``hookq.privacy``), case-insensitively: a masked value is never matched, so searching for an
e-mail address finds nothing rather than telling who wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from hookq.dlq.records import parse_duration
from hookq.privacy import Privacy
from hookq.topology import check_pattern, topic_matches


@dataclass(frozen=True, slots=True)
class Selection:
    """The archived events wanted. Every filter given must match; ``limit`` keeps the newest."""

    source: str | None = None
    type_pattern: str | None = None  # a topic pattern over the event type
    since: datetime | None = None
    until: datetime | None = None
    contains: str | None = None  # in the masked body, case-insensitively
    ids: frozenset[str] = field(default_factory=frozenset)  # delivery ids
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.type_pattern is not None:
            check_pattern(self.type_pattern)
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit must be at least 1")
        if self.since and self.until and self.since > self.until:
            raise ValueError("since is after until")
        object.__setattr__(self, "ids", frozenset(self.ids))

    @classmethod
    def typed(
        cls,
        *,
        source: str | None = None,
        type_pattern: str | None = None,
        since: str | None = None,
        until: str | None = None,
        contains: str | None = None,
        ids: Iterable[str] = (),
        limit: int | None = None,
        now: datetime | None = None,
    ) -> Selection:
        """The filters as an operator types them (``hookq events`` options, the console's
        form): ``since`` and ``until`` a duration back from ``now`` or an ISO-8601 time.
        ``ValueError`` says what is wrong."""
        now = now or datetime.now(UTC)
        return cls(
            source=source,
            type_pattern=type_pattern,
            since=time_or_none(since, now),
            until=time_or_none(until, now),
            contains=contains,
            ids=frozenset(ids),
            limit=limit,
        )

    def to_json(self) -> dict[str, object]:
        """As a replay's checkpoint keeps it (``from_json`` reads it back)."""
        return {
            "source": self.source,
            "type_pattern": self.type_pattern,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "contains": self.contains,
            "ids": sorted(self.ids),
            "limit": self.limit,
        }

    @classmethod
    def from_json(cls, value: dict[str, object]) -> Selection:
        def time(key: str) -> datetime | None:
            raw = value.get(key)
            return datetime.fromisoformat(raw) if isinstance(raw, str) else None

        def text(key: str) -> str | None:
            raw = value.get(key)
            return raw if isinstance(raw, str) else None

        ids, limit = value.get("ids") or [], value.get("limit")
        ids = ids if isinstance(ids, list) else []
        return cls(
            source=text("source"),
            type_pattern=text("type_pattern"),
            since=time("since"),
            until=time("until"),
            contains=text("contains"),
            ids=frozenset(i for i in ids if isinstance(i, str)),
            limit=limit if isinstance(limit, int) else None,
        )


def time_or_none(text: str | None, now: datetime | None = None) -> datetime | None:
    """``parse_time`` of a filter that may be absent (None or empty)."""
    return parse_time(text, now) if text else None


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """A duration back from ``now`` or an ISO-8601 time, as an aware UTC datetime."""
    now = now or datetime.now(UTC)
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"invalid time {text!r}: a duration back from now (90s, 2h, 3d, 1h30m) or an "
            "ISO-8601 time (2026-12-01T13:00:00Z)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def whole_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


Matcher = Callable[[str, str, str, int, bytes], bool]


def matcher(selection: Selection, privacy: Privacy) -> Matcher:
    """A test of one archived event (source, event type, delivery id, received at in Unix
    seconds, body) against every filter but ``limit``; the cheap ones first."""
    since = whole_seconds(selection.since) if selection.since else None
    until = whole_seconds(selection.until) if selection.until else None
    needle = selection.contains.casefold() if selection.contains else None
    ids: Collection[str] = selection.ids

    def matches(source: str, event_type: str, delivery_id: str, at: int, body: bytes) -> bool:
        if selection.source is not None and source != selection.source:
            return False
        if since is not None and at < since:
            return False
        if until is not None and at > until:
            return False
        if ids and delivery_id not in ids:
            return False
        if selection.type_pattern is not None and not topic_matches(
            selection.type_pattern, event_type
        ):
            return False
        return needle is None or needle in masked_text(body, privacy).casefold()

    return matches


def masked_text(body: bytes, privacy: Privacy) -> str:
    """The body as an operator may read it: decoded and masked (JSON re-encoded compactly)."""
    value, is_json = privacy.body(body)
    return orjson.dumps(value).decode() if is_json else str(value)
