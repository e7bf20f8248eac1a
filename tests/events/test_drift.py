"""``hookq events drift``: fields the providers added and event types the catalogue does not
know, counted over the archive with first and last seen."""

from __future__ import annotations

import json
import time

import orjson
from aio_pika.abc import AbstractRobustConnection

from hookq.events import drift
from hookq.settings import Settings
from hookq.sources.catalogue import example
from hookq.topology import Names
from tests.events.support import Sample, archive_events, events_command, hookq_events


def plain(
    delivery_id: str, at: float, event_type: str = "thread.chat_sent", **chat: object
) -> Sample:
    payload = orjson.loads(example("plain", "thread.chat_sent"))
    payload["id"], payload["type"] = delivery_id, event_type
    payload["payload"]["chat"] |= chat
    return Sample("plain", event_type, delivery_id, at, orjson.dumps(payload))


async def test_drift_reports_added_fields_and_unknown_types_with_counts(
    settings: Settings, amqp: AbstractRobustConnection, names: Names
) -> None:
    now = time.time()
    events = [
        plain("fits-1", now - 50),
        plain("added-1", now - 40, sentiment={"score": 0.5}),
        plain("fits-2", now - 30),
        plain("added-2", now - 20, sentiment={"score": 0.9}),
        plain("added-3", now - 10, sentiment={"score": 0.1}),
        *(plain(f"mood-{i}", now - 5 + i, "thread.mood_changed") for i in range(4)),
    ]
    await archive_events(amqp, names, events)

    found = {(d.source, d.event_type, d.field): d for d in await drift(settings)}
    assert set(found) == {
        ("plain", "thread.chat_sent", "payload.chat.sentiment"),
        ("plain", "thread.mood_changed", None),
    }
    added = found["plain", "thread.chat_sent", "payload.chat.sentiment"]
    assert added.count == 3
    assert (int(added.first_seen.timestamp()), int(added.last_seen.timestamp())) == (
        int(now - 40),
        int(now - 10),
    )
    unknown = found["plain", "thread.mood_changed", None]
    assert (unknown.count, unknown.unknown_event_type) == (4, True)
    assert await drift(settings, source="livechat") == []

    done = hookq_events(settings, "drift", "--json", "--source", "plain", "--since", "1h")
    assert done.returncode == 0, done.stderr
    rows = sorted(json.loads(done.stdout), key=lambda r: r["event_type"])
    assert rows[0] | {"first_seen": "", "last_seen": ""} == {
        "source": "plain",
        "event_type": "thread.chat_sent",
        "field": "payload.chat.sentiment",
        "count": 3,
        "first_seen": "",
        "last_seen": "",
    }
    assert rows[1]["unknown_event_type"] is True
    assert rows[1]["count"] == 4
    code, out, _err = await events_command(settings, "drift", "--json", "--source", "livechat")
    assert (code, json.loads(out)) == (1, [])
    code, out, _err = await events_command(settings, "drift")
    assert code == 0
    assert "payload.chat.sentiment" in out
    assert "not in the catalogue" in out
    code, _out, err = await events_command(settings, "drift", "--source", "nope")
    assert code == 2
    assert "unknown source 'nope'" in err
