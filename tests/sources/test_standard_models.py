"""Standard Webhooks events: any JSON object validates, ``type`` is typed, all else is kept."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from hookq.sources.standard import EVENTS, StandardEvent, StandardSource

# The payload shape the Standard Webhooks spec gives as its example.
SPEC_EXAMPLE = {
    "type": "contact.created",
    "timestamp": "2022-11-03T20:26:10.344522Z",
    "data": {"id": "1f81eb52-5198-4599-803e-771906343485", "type": "contact"},
}


def source() -> StandardSource:
    return StandardSource(insecure=True)


def parse(event_type: str, body: object) -> StandardEvent:
    event = source().parse(event_type, json.dumps(body).encode())
    assert type(event) is StandardEvent  # no typed events: every type gets the envelope
    return event


def test_spec_example_keeps_type_timestamp_and_data() -> None:
    event = parse("contact.created", SPEC_EXAMPLE)
    assert event.type == "contact.created"
    assert event.timestamp == "2022-11-03T20:26:10.344522Z"
    assert event.data == SPEC_EXAMPLE["data"]
    assert event.model_dump(exclude_unset=True) == SPEC_EXAMPLE


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"type": "x.y"},
        {"type": "x.y", "timestamp": 1700000000, "data": [1, 2, 3]},
        {"kind": "no type field", "nested": {"deep": [None, True, 1.5]}},
    ],
    ids=["empty", "type-only", "odd-shapes", "no-type"],
)
def test_any_json_object_validates_and_keeps_its_fields(body: dict[str, object]) -> None:
    event = parse("x.y", body)
    assert event.model_dump(exclude_unset=True) == body
    assert event.type == body.get("type")


@pytest.mark.parametrize(
    ("body", "loc"),
    [(["a", "list"], ()), ({"type": 42}, ("type",)), ({"type": {"name": "x"}}, ("type",))],
    ids=["not-an-object", "type-int", "type-object"],
)
def test_non_objects_and_non_string_types_fail_with_the_field_named(
    body: object, loc: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as exc:
        parse("x.y", body)
    errors = exc.value.errors()
    assert [err["loc"] for err in errors] == [loc]
    if loc:
        assert "type" in str(exc.value)


def test_no_typed_events() -> None:
    assert EVENTS == {}
    assert StandardSource.envelope is StandardEvent
    assert source().model_for("invoice.paid") is StandardEvent
