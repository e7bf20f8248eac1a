"""Plain's ``webhookDeliveryAttemptTimestamp`` is read as Plain's own SDK reads it: accepted and
refused alike, at the same instant (issue 12, items 23 and 24).

The SDK's verdicts (``verifyPlainWebhook``: ajv-formats' "date-time", then ``Date.parse``) are
in tests/fixtures/plain/sdk/, with the script that produced them under TZ=UTC."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from hookq.sources.plain import PlainSource
from hookq.sources.plain.config import PlainSettings
from hookq.sources.plain.timestamps import attempt_time
from tests.conftest import PLAIN_SECRET
from tests.ingress import signing

VERDICTS = Path(__file__).resolve().parents[1] / "fixtures" / "plain" / "sdk"
ROWS: list[tuple[str, bool, int | None]] = [
    tuple(row) for row in json.loads((VERDICTS / "attempt_timestamps.json").read_text())
]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, as when the verdicts were made (a time without offset is local)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_every_verdict_of_the_sdk_is_hookqs(utc: None) -> None:
    assert sum(accepted for _, accepted, _ in ROWS) > 300, "the verdicts accept too little"
    differ = []
    for text, accepted, millis in ROWS:
        seconds = attempt_time(text)
        ours = None if seconds is None else round(seconds * 1000)
        if ours != (millis if accepted else None):
            differ.append((text, millis, ours))
    assert not differ, f"{len(differ)} differ, e.g. {differ[:5]}"


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("2026-03-01t12:00:00z", True),  # lower-case t and z (item 24)
        ("2026-03-01 12:00:00+00", True),  # "+00" after white space (item 23)
        ("2026-03-01T12:00:00+00", False),  # ... but not after a 'T': Date.parse refuses it
        ("2026-03-01T23:59:60Z", False),  # a leap second: the schema allows, Date.parse not
        ("2026-03-01T12:00:00.123456Z", True),
        ("20260301T120000Z", False),  # ISO 8601 basic format: Python reads it, Plain does not
        ("2026-03-01T12:00:00Z\n", False),
        ("\u0662026-03-01T12:00:00Z", False),  # a non-ASCII digit
    ],
)
def test_quirks(text: str, accepted: bool) -> None:
    assert (attempt_time(text) is not None) is accepted


def test_a_lowercase_timestamp_is_accepted_by_the_source() -> None:
    now = time.time()
    event = {"id": "pEv_lower", "type": "thread.chat_sent", "payload": {}}
    body, headers = signing.plain_request(event, now=now)
    stamp = orjson.loads(body)["webhookMetadata"]["webhookDeliveryAttemptTimestamp"]
    lowered = body.replace(stamp.encode(), stamp.replace("T", "t").replace("Z", "z").encode())
    headers = {"Plain-Request-Signature": signing.hmac_hex(PLAIN_SECRET, lowered)}
    source = PlainSource(PlainSettings(secrets=[PLAIN_SECRET]))
    assert source.accept(headers, lowered, now).delivery_id == "pEv_lower"
