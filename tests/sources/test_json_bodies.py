"""Valid JSON that orjson or pydantic's parser refuse is read, at the ingress and in the worker
alike (issue 12, items 22 and 25): a lone surrogate escape in any string, and nesting up to
``MAX_JSON_DEPTH``. Everything else orjson refuses is still refused."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from hookq.sources import jsonbody
from hookq.sources.base import BadPayload
from hookq.sources.jsonbody import MAX_JSON_DEPTH
from hookq.sources.plain import PlainSource
from hookq.sources.plain.config import PlainSettings
from hookq.sources.plain.models import PlainEvent
from tests.conftest import PLAIN_SECRET
from tests.ingress import signing

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"
SEED = SEEDS / "plain" / "thread.chat_sent.json"
SOURCE = PlainSource(PlainSettings(secrets=[PLAIN_SECRET]))


def plain_body(**extra: Any) -> tuple[bytes, dict[str, str]]:
    event = json.loads(SEED.read_text())
    event["payload"]["chat"].update(extra)
    return signing.plain_request(event)


def resign(body: bytes) -> dict[str, str]:
    return {"Plain-Request-Signature": signing.hmac_hex(PLAIN_SECRET, body)}


def ingress_and_worker(body: bytes) -> tuple[bool, bool]:
    """Whether the ingress accepts the body, and whether the worker validates it."""
    try:
        accepted = SOURCE.accept(resign(body), body, time.time())
    except BadPayload:
        ingress = False
    else:
        assert accepted.body is body  # the raw bytes go on, never re-written
        ingress = True
    try:
        SOURCE.parse("thread.chat_sent", body)
    except ValidationError:
        return ingress, False
    return ingress, True


@pytest.mark.parametrize("escape", [b"\\ud83d", b"\\udc00", b"\\ud83d\\ud83d", b"x\\uDFFFy"])
def test_a_lone_surrogate_in_a_string_is_accepted_and_validated(escape: bytes) -> None:
    body, _ = plain_body(text="MARK")
    body = body.replace(b'"MARK"', b'"truncated ' + escape + b'"')
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)  # what used to refuse it
    assert ingress_and_worker(body) == (True, True)
    event = SOURCE.parse("thread.chat_sent", body)
    assert isinstance(event, PlainEvent)
    assert event.payload.chat.text.startswith("truncated ")  # type: ignore[attr-defined]


def nested(depth: int) -> bytes:
    return b'{"u":' * depth + b"1" + b"}" * depth


# The body's own levels around the unknown field: the event object, payload, chat.
AROUND = 3


@pytest.mark.parametrize(
    "depth", [199, 200, 1021, 1022, 1024, MAX_JSON_DEPTH - AROUND, MAX_JSON_DEPTH - AROUND + 1]
)
def test_the_ingress_and_the_worker_agree_on_the_deepest_body(depth: int) -> None:
    body, _ = plain_body(unknown="MARK")
    body = body.replace(b'"MARK"', nested(depth))
    expected = depth + AROUND <= MAX_JSON_DEPTH
    assert ingress_and_worker(body) == (expected, expected)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":"\\ud83d","b":NaN}',
        b'{"a":"\\ud83d","b":Infinity}',
        b'{"a":"\\ud83d","b":1e400}',
        b'\xef\xbb\xbf{"a":"\\ud83d"}',
        b'{"a":"\\ud83d","b":"\xff"}',
        b'{"a":"\\ud83d",}',
        b'{"a":"\\ud83d"} x',
        b'{"a":"\\ud83d\t"}',
        '{"a":"\\ud83d"}'.encode("utf-16"),
    ],
)
def test_the_second_reading_is_as_strict_as_orjson(body: bytes) -> None:
    with pytest.raises(jsonbody.JSONBodyError):
        jsonbody.loads(body)


def test_numbers_read_the_second_time_as_orjson_reads_them() -> None:
    text = b'{"s":"\\ud83d","big":123456789012345678901234567890,"n":-0,"f":1.5e-400,"i":7}'
    value = jsonbody.loads(text)
    plain = orjson.loads(text.replace(b"\\ud83d", b"x"))
    assert {k: value[k] for k in ("big", "n", "f", "i")} == {
        k: plain[k] for k in ("big", "n", "f", "i")
    }
    assert value["s"] == "\ud83d"


def test_nesting_is_counted_as_orjson_counts_it() -> None:
    assert jsonbody.nesting(orjson.loads(b"[[1],{}]")) == 2
    assert jsonbody.nesting(1) == 0
    orjson.loads(b"[" * 1024 + b"]" * 1024)  # orjson's 1,024 are within the maximum
    assert jsonbody.loads(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    with pytest.raises(jsonbody.JSONBodyError, match="deeper"):
        jsonbody.loads(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    with pytest.raises(jsonbody.JSONBodyError, match="deeper"):
        jsonbody.loads(b"[" * 200_000 + b"]" * 200_000)
