"""Plain's ``webhookDeliveryAttemptTimestamp``, read exactly as Plain's own SDK reads it."""

from __future__ import annotations

import calendar
from datetime import datetime

from hookq.sources.plain.datetimes import GRAMMAR


def attempt_time(stamp: str) -> float | None:
    """The Unix time of a ``webhookDeliveryAttemptTimestamp``, or None where Plain's own SDK
    refuses it. ``verifyPlainWebhook`` checks the schema's "date-time" (ajv-formats: RFC 3339,
    'T' or white space between date and time, either case of T and Z, offsets "+hh", "+hhmm"
    or "+hh:mm", a leap second), then reads the text with JavaScript's ``Date.parse``, which
    refuses leap seconds, "+hh" after a 'T', offsets past 23:59 after a 'T', and U+2028/9; it
    reads milliseconds, and a time without offset as local time. Checked against the SDK's own
    verdicts in tests/fixtures/plain/sdk/."""
    match = GRAMMAR.fullmatch(stamp)  # the schema's "date-time", checked first
    if match is None:
        return None
    part = match.groupdict()
    sep, sign, zh, zm = part["sep"], part["sign"], part["zh"], part["zm"]
    hour, minute, second = int(part["hour"]), int(part["minute"]), int(part["second"])
    if hour > 23 or minute > 59 or second > 59 or sep in "\u2028\u2029":
        return None
    if sign is not None:
        iso = sep in "Tt"
        if (zm is None and iso) or int(zm or 0) > 59 or (iso and int(zh) > 23):
            return None
    fields = (int(part["year"]), int(part["month"]), int(part["day"]), hour, minute, second)
    try:
        if part["z"] is None and sign is None:
            seconds = datetime(*fields).timestamp()  # local time, as Date.parse reads it
        else:
            seconds = calendar.timegm(datetime(*fields).timetuple())
    except ValueError:  # no such date (Feb 30), or year 0 (never within the replay window)
        return None
    offset = 0 if sign is None else (int(zh) * 60 + int(zm or 0)) * 60
    millis = int((part["fraction"] or "0")[:3].ljust(3, "0"))
    return seconds - (offset if sign == "+" else -offset) + millis / 1000
