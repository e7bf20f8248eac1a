"""An invalid event is validated once per worker process, however many handlers it reaches
(issue 12, item 5): the failure is kept by delivery for the other handlers' copies, and only
for the same bytes (another body under the same delivery id is validated again).

The cost of one validation is bounded by the models themselves (fail-fast lists and mappings);
``tests/reliability/test_validation_blowup.py`` measures both under attack, in real processes.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from aio_pika.abc import AbstractChannel
from pydantic import BaseModel

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.message import Header
from hookq.settings import Settings
from hookq.sources.livechat import LivechatSource
from hookq.topology import Names
from tests.fixtures import REFERENCE
from tests.support.events import eventually, publish_event, ready_count, take_all
from tests.worker.conftest import StartWorker

HANDLERS = ("check-a", "check-b", "check-c")


def flooded_chat(items: int, note: str = "") -> bytes:
    """LiveChat's ``incoming_chat`` example as queued, its thread holding ``items`` empty
    events (each an error: no type, no id, no time)."""
    path = REFERENCE / "livechat" / "fixtures-v3.5" / "incoming_chat.json"
    event = json.loads(path.read_text())
    del event["secret_key"]
    event["payload"]["chat"]["thread"]["events"] = [{}] * items
    event["note"] = note
    return json.dumps(event).encode()


async def test_an_invalid_event_is_validated_once_for_all_its_handlers(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: Counter[str] = Counter()
    parse = LivechatSource.parse

    def counting_parse(self: LivechatSource, event_type: str, body: bytes) -> BaseModel:
        parsed[json.loads(body)["note"]] += 1
        return parse(self, event_type, body)

    monkeypatch.setattr(LivechatSource, "parse", counting_parse)

    async def never(_event: BaseModel, _ctx: HandlerContext) -> None:
        raise AssertionError("an invalid event reached a handler")

    specs = [HandlerSpec(name=n, patterns=("livechat.#",), func=never) for n in HANDLERS]
    await start_worker(settings, *specs)
    flood: dict[str, Any] = {"source": "livechat", "event_type": "incoming_chat"}
    await publish_event(channel, names, "chat-1", flooded_chat(10_000, "first"), **flood)
    for handler in HANDLERS:
        queue = names.dead_queue(handler)

        async def dead(queue: str = queue) -> bool:
            return await ready_count(channel, queue) == 1

        await eventually(dead)
        (letter,) = await take_all(channel, queue)
        message = str(letter.headers[Header.ERROR_MESSAGE])
        # Fail-fast: the first item's errors, not 30,000 of them.
        assert "events.0." in message, message
        assert "events.1" not in message, message
        assert "... and" not in message, message
    assert parsed == Counter({"first": 1})

    # The same delivery id with other bytes is validated again, once (and, dead already for
    # every handler, a duplicate).
    await publish_event(channel, names, "chat-1", flooded_chat(10_000, "changed"), **flood)
    await eventually(lambda: parsed["changed"] == 1)
    await asyncio.sleep(0.5)
    assert parsed == Counter({"first": 1, "changed": 1})
