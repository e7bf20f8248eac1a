"""Plain's date-times: accepted exactly where Plain's own SDK accepts them, read as aware
``datetime`` values (issue 12, item 23).

``parsePlainWebhook`` (``@team-plain/typescript-sdk`` 5.12.1) checks every date-time field of
a webhook with ajv-formats 2.1.1's "date-time", which is looser than RFC 3339 and than
pydantic's ``datetime`` in some ways and stricter in others. It accepts:

- ``YYYY-MM-DD``, then ``T``, ``t`` or any character JavaScript's ``\\s`` matches, then
  ``hh:mm:ss`` with any number of fraction digits;
- any year from 0000 (a leap year) to 9999, a real day of the month (Gregorian leap years);
- hours 00-23, minutes and seconds 00-59, and the leap second ``23:59:60`` (at any offset);
- the offset ``Z``/``z``, ``+hh``, ``+hhmm`` or ``+hh:mm`` with ANY two digits each (``+99:99``),
  or no offset at all (ajv-formats 2.1.1 means to require one, but lets it through).

It refuses everything else: numbers (Unix times pydantic would take), ``_`` as separator,
a date without a time, ``24:00:00``, white space around the value.

The value a handler gets is always a timezone-aware ``datetime``:

- the offset as written when Python can hold it (under 24 hours); ``Z``, ``-00:00`` and no
  offset at all are UTC (Plain's times are UTC; JavaScript would read a bare time as the
  machine's local time, which would make the value depend on where hookq runs);
- an offset of 24 hours or more (``+99:99``, which no real zone has): the same instant, in UTC,
  or ``datetime.min`` / ``datetime.max`` in UTC where that instant is outside years 1-9999;
- fraction digits past the sixth are cut (never rounded up into the next second or day);
- the leap second ``23:59:60`` (and its fractions) is ``23:59:59.999999``: it keeps its day and
  its order among the seconds before it, and cannot overflow past year 9999;
- year 0000, which Python's ``datetime`` cannot hold, is ``datetime.min`` in UTC
  (0001-01-01T00:00:00Z), whatever its month, day, time and offset.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import TzInfo, core_schema

# White space as JavaScript's regular expressions know it (``\s``).
JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# ajv-formats 2.1.1: the value split on /t|\s/i must give exactly a date and a time.
GRAMMAR = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)(?P<sep>[Tt" + JS_SPACE + r"])"
    r"(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)(?:\.(?P<fraction>\d+))?"
    r"(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<zh>\d\d)(?::?(?P<zm>\d\d))?)?",
    re.ASCII,
)
# The usual shape, which pydantic's own (Rust) parser reads to the same value, 4 times faster
# than ``read_date_time``: year 0001 and up, no leap second, offsets up to 23:59, 6 digits.
USUAL = (  # [0-9], not \d: Rust's \d matches every script's digits
    r"^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-[0-9]{2}-[0-9]{2}[Tt ]"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
UTC = TzInfo(0)  # pydantic's, as on the values its own parser reads
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
DAY_MINUTES = 24 * 60


def read_date_time(text: str) -> datetime | None:
    """``text`` as an aware ``datetime``, or None where Plain's SDK refuses it."""
    match = GRAMMAR.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (
        int(match[name]) for name in ("year", "month", "day", "hour", "minute", "second")
    )
    fraction, sign, offset_hours, offset_minutes = match.group("fraction", "sign", "zh", "zm")
    if not (1 <= month <= 12 and 1 <= day <= _days_in(year, month)):
        return None
    leap_second = (hour, minute, second) == (23, 59, 60)
    if not (hour <= 23 and minute <= 59 and second <= 59) and not leap_second:
        return None
    if year == 0:
        return EARLIEST
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    if leap_second:
        second, micro = 59, 999_999
    offset = 0 if sign is None else int(offset_hours) * 60 + int(offset_minutes or 0)
    if offset < DAY_MINUTES:
        zone = _zone(-offset if sign == "-" else offset)
        return datetime(year, month, day, hour, minute, second, micro, zone)
    # No tzinfo holds a day or more: the same instant in UTC, clamped to what Python holds.
    written = datetime(year, month, day, hour, minute, second, micro, UTC)
    try:
        return written + timedelta(minutes=offset if sign == "-" else -offset)
    except OverflowError:
        return LATEST if sign == "-" else EARLIEST


def _days_in(year: int, month: int) -> int:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 29 if month == 2 and leap else DAYS[month]


@lru_cache(maxsize=256)
def _zone(minutes: int) -> TzInfo:
    return TzInfo(minutes * 60)


def _validate(value: Any) -> datetime:
    if isinstance(value, str):
        parsed = read_date_time(value)
        if parsed is not None:
            return parsed
    elif isinstance(value, datetime) and value.tzinfo is not None:
        return value  # built in Python (a model's own dump validated again)
    raise ValueError("not a date-time")  # replaced by the union's error below


class _PlainDateTime:
    """The pydantic schema of ``DateTime``: the usual shape through pydantic's parser, every
    other value through ``read_date_time``."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        usual = core_schema.chain_schema(
            [core_schema.str_schema(pattern=USUAL), core_schema.datetime_schema()]
        )
        return core_schema.union_schema(
            [usual, core_schema.no_info_plain_validator_function(_validate)],
            mode="left_to_right",
            # One error, which never quotes the input (errors reach logs and failure records).
            custom_error_type="plain_date_time",
            custom_error_message="Input should be a date-time as Plain's SDK accepts it",
            serialization=core_schema.simple_ser_schema("datetime"),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time"}


# Every date-time field of Plain's models (``_generated.py`` has it through the generator).
DateTime = Annotated[datetime, _PlainDateTime]
