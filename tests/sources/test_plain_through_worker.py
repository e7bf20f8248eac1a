"""Plain events that Plain's SDK accepts reach the handlers of their type through a real
ingress, RabbitMQ, Redis and worker (issue 12, items 23 and 26): date-times with a leap second,
year 0000 or a ``+00`` offset, and a ``payload.eventType`` that is not the ``type``; all were
dead-lettered as invalid. A payload without the fields of the type that routes it is still
dead-lettered, naming the field it lacks (the decision of item 26)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.message import read_failure
from hookq.settings import Settings
from hookq.sources.plain import PlainEvent, ThreadChatSent
from hookq.sources.plain.datetimes import EARLIEST
from hookq.topology import Names
from hookq.worker.runner import Worker
from tests.ingress import signing
from tests.ingress.test_ingress import running_ingress
from tests.support.events import eventually, take_all

SEED = (
    Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "plain" / "thread.chat_sent.json"
)
HANDLER = "plain-sdk-accepts"


def event(event_id: str, **changes: Any) -> dict[str, Any]:
    """The seed's thread.chat_sent (version 2026-02-27), with ``changes`` at dotted paths."""
    body: dict[str, Any] = json.loads(SEED.read_text())
    body["id"] = event_id
    body["webhookMetadata"]["webhookTargetVersion"] = "2026-02-27"
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        target = body
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return body


async def test_what_plains_sdk_accepts_reaches_the_handler_of_its_type(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    seen: dict[str, tuple[str, PlainEvent]] = {}

    async def record(plain: PlainEvent, ctx: HandlerContext) -> None:
        seen[ctx.delivery_id] = (ctx.event_type, plain)

    spec = HandlerSpec(name=HANDLER, patterns=("plain.#",), func=record, max_attempts=1)
    worker = Worker(settings, {HANDLER: spec}, connection_name="test:plain-through-worker")
    await worker.start()
    try:
        async with running_ingress(settings) as ingress:
            sent = {
                "pEv_dates": event(
                    "pEv_dates",
                    timestamp="2024-02-29T12:00:00+00",
                    **{"payload.chat.createdAt": "2016-12-31T23:59:60Z"},
                    **{"payload.thread.customer.createdAt": "0000-01-01T00:00:00Z"},
                ),
                "pEv_mismatch": event(
                    "pEv_mismatch", **{"payload.eventType": "thread.thread_created"}
                ),
                # A thread_created payload routed as thread.chat_sent: no ``chat``.
                "pEv_no_chat": event(
                    "pEv_no_chat",
                    **{"payload.eventType": "thread.thread_created", "payload.chat": None},
                ),
            }
            for body in sent.values():
                data, headers = signing.plain_request(body)
                answer = await ingress.post("/webhooks/plain", data=data, headers=headers)
                assert answer.status == 200, await answer.text()
            await eventually(lambda: {"pEv_dates", "pEv_mismatch"} <= set(seen))
            channel = await amqp.channel()
            letters: list[AbstractIncomingMessage] = []

            async def dead_lettered() -> bool:
                letters.extend(await take_all(channel, names.dead_queue(HANDLER)))
                return bool(letters)

            await eventually(dead_lettered)
    finally:
        await worker.stop()

    routed, dates = seen["pEv_dates"]
    assert routed == "thread.chat_sent"
    assert isinstance(dates, ThreadChatSent)
    assert dates.timestamp == datetime(2024, 2, 29, 12, tzinfo=UTC)
    assert dates.payload.chat.createdAt == datetime(2016, 12, 31, 23, 59, 59, 999_999, UTC)
    assert dates.payload.thread.customer.createdAt == EARLIEST
    routed, mismatch = seen["pEv_mismatch"]
    assert routed == "thread.chat_sent"
    assert isinstance(mismatch, ThreadChatSent)
    assert mismatch.payload.eventType == "thread.thread_created"
    [letter] = letters
    assert orjson.loads(letter.body)["id"] == "pEv_no_chat"
    failure = read_failure(letter.headers)
    assert failure.error_type == "ValidationError"
    assert "payload.chat: Field required" in failure.error_message
    assert "pEv_no_chat" not in seen
