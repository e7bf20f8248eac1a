"""Plain: HMAC-SHA256 of the raw body in ``Plain-Request-Signature``, plus a replay window on
the signed ``webhookMetadata.webhookDeliveryAttemptTimestamp``. Dedupe on the event ``id``,
which is the same on every retry (the attempt id is not).

Plain's other ``Plain-*`` headers are not kept: each repeats a field of the body (event id and
type, workspace, webhook target, delivery attempt), and only the body is signed. Handlers read
those fields, authenticated, from the typed event."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import datetime

from hookq.sources.base import (
    Accepted,
    BadPayload,
    Source,
    Unauthorized,
    hmac_sha256,
    parse_object,
    required_string,
    same,
    to_bytes,
)
from hookq.sources.plain.models import EVENTS, PlainEvent

SIGNATURE_HEADER = "Plain-Request-Signature"


class PlainSource(Source):
    name = "plain"
    events = EVENTS
    envelope = PlainEvent

    def accept(self, headers: Mapping[str, str], body: bytes, now: float) -> Accepted:
        self._check_signature(headers.get(SIGNATURE_HEADER), body)
        event = parse_object(body)
        self._check_timestamp(event, now)
        return Accepted(
            event_type=required_string(event, "type"),
            delivery_id=required_string(event, "id"),
            body=body,
        )

    def _check_signature(self, signature: str | None, body: bytes) -> None:
        if self.config.insecure and not self._keys:
            return
        if not signature:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
        given = to_bytes(signature.strip().lower())
        self.require_any_key(
            lambda key: same(hmac_sha256(key, body).hex().encode(), given), SIGNATURE_HEADER
        )

    def _check_timestamp(self, event: Mapping[str, object], now: float) -> None:
        metadata = event.get("webhookMetadata")
        if not isinstance(metadata, dict):
            metadata = {}
        stamp = metadata.get("webhookDeliveryAttemptTimestamp")
        if not isinstance(stamp, str):
            raise BadPayload("body has no webhookMetadata.webhookDeliveryAttemptTimestamp")
        sent = attempt_time(stamp)
        if sent is None:
            raise BadPayload(
                f"webhookDeliveryAttemptTimestamp is not an RFC 3339 date-time: {stamp[:40]!r}"
            )
        if abs(now - sent) > self.config.timestamp_tolerance:
            raise Unauthorized(
                f"webhookDeliveryAttemptTimestamp is more than "
                f"{self.config.timestamp_tolerance:g}s from now (replayed or clock skew)"
            )


# White space as JavaScript's regular expressions know it (``\s``).
JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
DATE_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)([Tt" + JS_SPACE + r"])(\d\d):(\d\d):(\d\d)(?:\.(\d+))?"
    r"([Zz]|([+-])(\d\d)(:?)(\d\d)?)?",
    re.ASCII,
)


def attempt_time(stamp: str) -> float | None:
    """The Unix time of a ``webhookDeliveryAttemptTimestamp``, or None where Plain's own SDK
    refuses it. ``verifyPlainWebhook`` checks the schema's "date-time" (ajv-formats: RFC 3339,
    'T' or white space between date and time, either case of T and Z, offsets "+hh", "+hhmm"
    or "+hh:mm", a leap second), then reads the text with JavaScript's ``Date.parse``, which
    refuses leap seconds, "+hh" after a 'T', offsets past 23:59 after a 'T', and U+2028/9; it
    reads milliseconds, and a time without offset as local time. Checked against the SDK's own
    verdicts in tests/fixtures/plain/sdk/."""
    match = DATE_TIME.fullmatch(stamp)
    if match is None:
        return None
    year, month, day, sep, hour, minute, second, fraction, zone, sign, zh, colon, zm = (
        match.groups()
    )
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59 or sep in "\u2028\u2029":
        return None
    if sign is not None:
        iso = sep in "Tt"
        if (zm is None and (iso or colon)) or int(zm or 0) > 59 or (iso and int(zh) > 23):
            return None
    fields = (int(year), int(month), int(day), int(hour), int(minute), int(second))
    try:
        if zone is None:
            seconds = datetime(*fields).timestamp()  # local time, as Date.parse reads it
        else:
            seconds = calendar.timegm(datetime(*fields).timetuple())
    except ValueError:  # no such date (Feb 30), or year 0 (never within the replay window)
        return None
    offset = 0 if sign is None else (int(zh) * 60 + int(zm or 0)) * 60
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    return seconds - (offset if sign == "+" else -offset) + millis / 1000
