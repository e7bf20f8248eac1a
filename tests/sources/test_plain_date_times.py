"""Plain's date-time fields accept exactly what Plain's own SDK accepts, and hand handlers an
aware ``datetime`` (issue 12, item 23): a leap second, year 0000, ``+00``, no offset, any of
JavaScript's white space as separator, all dead-lettered before; numbers (Unix times pydantic
takes) refused, as the SDK refuses them.

The SDK's verdicts on 5,790 date-time strings are in tests/fixtures/plain/sdk/date_times.json,
made by ``date_times.js`` beside it (ajv-formats' "date-time", as ``parsePlainWebhook`` runs it).
"""

from __future__ import annotations

import json
import re
import typing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from hookq.sources.plain import PlainSource, ThreadChatSent
from hookq.sources.plain import _generated as g
from hookq.sources.plain import models as m
from hookq.sources.plain.datetimes import (
    EARLIEST,
    LATEST,
    USUAL,
    DateTime,
    _PlainDateTime,
    read_date_time,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SDK = FIXTURES / "plain" / "sdk"
SEED = FIXTURES / "seeds" / "plain" / "thread.chat_sent.json"
VERDICTS: list[tuple[str, bool]] = [
    (text, accepted) for text, accepted in json.loads((SDK / "date_times.json").read_text())
]
ADAPTER: TypeAdapter[datetime] = TypeAdapter(DateTime)
MESSAGE = "Input should be a date-time as Plain's SDK accepts it"


def model_reads(text: str) -> datetime | None:
    """What a model field makes of ``text`` sent as a JSON string (None: refused)."""
    try:
        return ADAPTER.validate_json(json.dumps(text))
    except ValidationError:
        return None


def test_every_verdict_of_the_sdk_is_hookqs() -> None:
    assert len(VERDICTS) > 5000
    assert 500 < sum(accepted for _, accepted in VERDICTS) < len(VERDICTS) - 500
    differ = [
        (text, accepted)
        for text, accepted in VERDICTS
        if (read_date_time(text) is not None) != accepted
    ]
    assert not differ, f"{len(differ)} differ, e.g. {differ[:5]}"


def test_a_model_field_reads_each_string_as_read_date_time_does() -> None:
    """The usual shape goes through pydantic's own parser (faster): to the same value."""
    usual = re.compile(USUAL)
    for text, _ in VERDICTS:
        read, field = read_date_time(text), model_reads(text)
        assert field == read, text
        if read is not None and field is not None:
            assert field.utcoffset() == read.utcoffset(), text
    assert sum(1 for text, ok in VERDICTS if ok and usual.match(text)) > 40


def two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map("{:02d}".format)


ZONES = st.one_of(
    st.sampled_from(["Z", "z", ""]),
    st.tuples(st.sampled_from("+-"), two(0, 99), st.sampled_from(["", ":"]), two(0, 99)).map(
        "".join
    ),
    st.tuples(st.sampled_from("+-"), two(0, 99)).map("".join),
)
TEXTS = st.tuples(
    st.integers(0, 9999).map("{:04d}".format),
    two(0, 13),
    two(0, 32),
    st.sampled_from(["T", "t", " ", "\u3000"]),
    two(0, 24),
    two(0, 60),
    two(0, 60),
    st.text("0123456789", max_size=9).map(lambda digits: f".{digits}" if digits else ""),
    ZONES,
).map(lambda p: f"{p[0]}-{p[1]}-{p[2]}{p[3]}{p[4]}:{p[5]}:{p[6]}{p[7]}{p[8]}")


@given(TEXTS)
def test_the_fast_path_and_read_date_time_agree(text: str) -> None:
    read, field = read_date_time(text), model_reads(text)
    assert field == read
    if read is not None and field is not None:
        assert field.utcoffset() == read.utcoffset()
        assert field.replace(tzinfo=None) == read.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # The three of item 23.
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999_999, UTC)),
        ("0000-01-01T00:00:00Z", EARLIEST),
        ("2024-02-29T12:00:00+00", datetime(2024, 2, 29, 12, tzinfo=UTC)),
        # A leap second keeps its day and offset; its fraction is dropped.
        (
            "2024-02-29T23:59:60.5-05:00",
            datetime(2024, 2, 29, 23, 59, 59, 999_999, timezone(timedelta(hours=-5))),
        ),
        ("9999-12-31T23:59:60Z", LATEST),
        # Offsets as written; none at all, "-00:00", "z" are UTC.
        ("2024-02-29t12:00:00z", datetime(2024, 2, 29, 12, tzinfo=UTC)),
        ("2024-02-29T12:00:00", datetime(2024, 2, 29, 12, tzinfo=UTC)),
        ("2024-02-29T12:00:00-00:00", datetime(2024, 2, 29, 12, tzinfo=UTC)),
        (
            "2024-02-29 12:00:00+0530",
            datetime(2024, 2, 29, 12, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        (
            "2024-02-29\u300012:00:00+05",
            datetime(2024, 2, 29, 12, tzinfo=timezone(timedelta(hours=5))),
        ),
        ("2024-02-29T12:00:00+23:60", datetime(2024, 2, 28, 12, tzinfo=UTC)),
        # A day or more of offset: the same instant in UTC, clamped to what Python holds.
        ("2024-02-29T12:00:00+99:99", datetime(2024, 2, 25, 7, 21, tzinfo=UTC)),
        ("2024-02-29T12:00:00-99:99", datetime(2024, 3, 4, 16, 39, tzinfo=UTC)),
        ("0001-01-01T00:00:00+99:99", EARLIEST),
        ("9999-12-31T23:59:59-99:99", LATEST),
        # Fraction digits past the sixth are cut, never rounded into the next second.
        ("2024-12-31T23:59:59.9999999Z", datetime(2024, 12, 31, 23, 59, 59, 999_999, UTC)),
        ("2024-02-29T12:00:00.1Z", datetime(2024, 2, 29, 12, 0, 0, 100_000, UTC)),
    ],
)
def test_the_value_a_handler_gets(text: str, value: datetime) -> None:
    for read in (read_date_time(text), model_reads(text)):
        assert read == value
        assert read is not None
        assert read.tzinfo is not None
        assert read.utcoffset() == value.utcoffset()
        assert read.replace(tzinfo=None) == value.replace(tzinfo=None)


@pytest.mark.parametrize(
    "value",
    [
        *(1700000000, 1.7e9, True, None, {}, [], "1700000000", "2024-02-29"),
        *("2024-02-29_12:00:00Z", "2024-02-29T12:00Z", "2024-02-29T24:00:00Z"),
        *("2024-02-29T12:59:60Z", "2023-02-29T12:00:00Z", "<b>2024-02-29T12:00:00Z</b>"),
    ],
)
def test_what_the_sdk_refuses_is_refused_in_one_error_that_quotes_nothing(value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTER.validate_json(json.dumps(value))
    [error] = caught.value.errors(include_input=False)
    assert (error["type"], error["msg"]) == ("plain_date_time", MESSAGE)


# Offsets of whole minutes: what the grammar writes (Python's own may have seconds).
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.datetimes(timezones=OFFSETS))
def test_python_and_json_round_trips_keep_the_value(value: datetime) -> None:
    class Holder(BaseModel):
        at: DateTime

    held = Holder(at=value)
    for again in (Holder.model_validate_json(held.model_dump_json()), Holder(**held.model_dump())):
        assert again.at == value
        assert again.at.utcoffset() == value.utcoffset()


def test_a_naive_datetime_built_in_python_is_refused() -> None:
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(datetime(2024, 2, 29, 12))


def test_the_json_schema_says_date_time() -> None:
    assert ADAPTER.json_schema() == {"type": "string", "format": "date-time"}
    timestamp = m.PlainEvent.model_json_schema()["properties"]["timestamp"]
    assert (timestamp["type"], timestamp["format"]) == ("string", "date-time")


def plain_date_time(annotation: Any) -> bool:
    """Every ``datetime`` inside ``annotation`` is ``DateTime``."""
    if annotation is datetime:
        return False
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        return (base is datetime and _PlainDateTime in metadata) or plain_date_time(base)
    return all(plain_date_time(arg) for arg in typing.get_args(annotation))


def date_time_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {n: f for n, f in model.model_fields.items() if "datetime" in str(f.annotation)}


def test_every_date_time_field_of_every_model_is_plains() -> None:
    models = [v for v in vars(g).values() if isinstance(v, type) and issubclass(v, BaseModel)]
    models += [*m.EVENTS.values(), m.PlainEvent]
    fields = {
        f"{model.__name__}.{name}": field
        for model in models
        for name, field in date_time_fields(model).items()
    }
    assert len(fields) > 60
    # pydantic keeps ``Annotated``'s metadata apart when the field is the type itself.
    not_plain = [
        name
        for name, field in fields.items()
        if not (_PlainDateTime in field.metadata or plain_date_time(field.annotation))
    ]
    assert not not_plain


def test_the_attempt_time_field_takes_every_attempt_time_the_ingress_takes() -> None:
    rows = json.loads((SDK / "attempt_timestamps.json").read_text())
    accepted = [text for text, ok, _ in rows if ok]
    assert len(accepted) > 300
    assert all(model_reads(text) is not None for text in accepted)


def test_an_event_with_the_three_is_still_typed() -> None:
    event = json.loads(SEED.read_text())
    event["timestamp"] = "2024-02-29T12:00:00+00"
    event["payload"]["chat"]["createdAt"] = "2016-12-31T23:59:60Z"
    event["payload"]["thread"]["customer"]["createdAt"] = "0000-01-01T00:00:00Z"
    parsed = PlainSource(insecure=True).parse("thread.chat_sent", json.dumps(event).encode())
    assert isinstance(parsed, ThreadChatSent)
    # Typed for mypy too: each is a ``datetime`` (a wrong annotation fails ``mypy``).
    sent: datetime = parsed.timestamp
    created: datetime = parsed.payload.chat.createdAt
    customer_since: datetime = parsed.payload.thread.customer.createdAt
    assert sent == datetime(2024, 2, 29, 12, tzinfo=UTC)
    assert created == datetime(2016, 12, 31, 23, 59, 59, 999_999, UTC)
    assert customer_since == EARLIEST
