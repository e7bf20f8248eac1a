"""Dead-letter test data (a factory the other DLQ tests import) and the pure-logic tests:
durations, selections and redaction.

The factory writes dead messages in the worker's format (``hookq.topology.Header``) straight
into a handler's dead queue, declared with ``declare_handler``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import aio_pika
import orjson
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, FieldValue

from hookq.dlq.records import parse_duration
from hookq.logs import MASK
from hookq.message import Header
from hookq.privacy import Privacy
from hookq.topology import Names, declare_exchanges, declare_handler

HANDLER = "billing"
CONFIGURED_SECRET = "livechat-test-secret-key"  # tests/conftest.py's LIVECHAT_SECRET
CPF = "123.456.789-09"


def dead_message(
    delivery_id: str,
    *,
    handler: str = HANDLER,
    source: str = "plain",
    event_type: str = "thread.chat_sent",
    body: Any = None,
    error_type: str = "RuntimeError",
    error_message: str = "upstream answered 500",
    dead_at: float | None = None,
    attempts: int = 5,
) -> aio_pika.Message:
    dead_at = time.time() if dead_at is None else dead_at
    headers: dict[str, FieldValue] = {
        Header.SOURCE: source,
        Header.EVENT_TYPE: event_type,
        Header.DELIVERY_ID: delivery_id,
        Header.RECEIVED_AT: dead_at - 60,
        Header.PROVIDER_HEADERS: {"plain-event-id": delivery_id},
        Header.HANDLER: handler,
        Header.ATTEMPT: attempts,
        Header.ERROR_TYPE: error_type,
        Header.ERROR_MESSAGE: error_message,
        Header.TRACEBACK: f"Traceback (most recent call last):\n{error_type}: {error_message}\n",
        Header.FIRST_FAILED_AT: dead_at - 30,
        Header.LAST_FAILED_AT: dead_at,
        Header.DEAD_AT: dead_at,
    }
    payload = body if body is not None else {"id": delivery_id, "type": event_type}
    return aio_pika.Message(
        payload if isinstance(payload, bytes) else orjson.dumps(payload),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers=headers,
    )


def unrouted_message(
    delivery_id: str, source: str = "plain", event_type: str = "x.y"
) -> aio_pika.Message:
    return aio_pika.Message(
        orjson.dumps({"id": delivery_id}),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers={
            Header.SOURCE: source,
            Header.EVENT_TYPE: event_type,
            Header.DELIVERY_ID: delivery_id,
            Header.RECEIVED_AT: time.time(),
            Header.PROVIDER_HEADERS: {},
        },
    )


async def declare(
    connection: AbstractConnection,
    names: Names,
    handler: str = HANDLER,
    patterns: Sequence[str] = ("plain.thread.#",),
    delivery_limit: int = 10,
) -> None:
    channel = await connection.channel()
    await declare_handler(channel, names, handler, patterns, [1.0], delivery_limit)
    await channel.close()


async def publish_in_order(
    connection: AbstractConnection,
    exchange: str,
    routing_key: str,
    messages: Sequence[aio_pika.Message],
) -> None:
    """Publish on one channel without waiting per message (one channel keeps the order), then
    wait for the broker's confirms of all of them."""
    channel = await connection.channel(publisher_confirms=True)
    target = (
        await channel.get_exchange(exchange, ensure=False) if exchange else channel.default_exchange
    )
    pending = [asyncio.ensure_future(target.publish(m, routing_key=routing_key)) for m in messages]
    await asyncio.gather(*pending)
    await channel.close()


async def publish_dead(
    connection: AbstractConnection,
    names: Names,
    messages: Sequence[aio_pika.Message],
    handler: str = HANDLER,
) -> None:
    await publish_in_order(connection, names.direct_exchange, names.dead_queue(handler), messages)


async def publish_unrouted(
    connection: AbstractConnection, names: Names, messages: Sequence[aio_pika.Message]
) -> None:
    channel = await connection.channel()
    await declare_exchanges(channel, names)
    await channel.close()
    await publish_in_order(connection, names.unrouted_exchange, "", messages)


async def take_ids(connection: AbstractConnection, queue: str) -> list[str]:
    """Every message now in ``queue``, removed, as delivery ids in queue order."""
    channel = await connection.channel()
    declared = await channel.declare_queue(queue, passive=True)
    count = declared.declaration_result.message_count or 0
    ids: list[str] = []
    if count:
        await channel.set_qos(prefetch_count=min(count, 65535))
        received: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        tag = await declared.consume(received.put)
        async with asyncio.timeout(15):
            while len(ids) < count:
                message = await received.get()
                ids.append(str((message.headers or {})[Header.DELIVERY_ID]))
        await message.ack(multiple=True)
        await declared.cancel(tag)
    await channel.close()
    return ids


async def ready(connection: AbstractConnection, queue: str) -> int:
    channel: AbstractChannel = await connection.channel()
    declared = await channel.declare_queue(queue, passive=True)
    await channel.close()
    return declared.declaration_result.message_count or 0


async def eventually_ready(connection: AbstractConnection, queue: str, count: int) -> None:
    async with asyncio.timeout(15):
        while await ready(connection, queue) != count:
            await asyncio.sleep(0.05)


# --- pure logic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("12h", 43200), ("7d", 604800), ("2w", 1209600), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "7", "7x", "d7", "1h 30m", "-5m"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_redaction_masks_secrets_and_personal_data_by_key_shape_and_value() -> None:
    redactor = Privacy([CONFIGURED_SECRET])
    body = {
        "secret_key": "lc-abcdef",
        "organization_id": "org-1",
        "payload": {
            "user": {
                "cpf": CPF,
                "birthDate": "1990-02-03",
                "phoneNumber": "+55 11 98765-4321",
                "customerEmail": "ana@example.com",
                "name": "Ana",
                "note": f"call +55 (11) 98765-4321 or write ana@example.com, cpf {CPF}",
                "national_id": "12345678909",
                "echo": f"token={CONFIGURED_SECRET};",
            },
            "created": "2024-05-06T07:08:09.123Z",
            "counts": [1234567890, "17000000001234"],
            "thread": "Q0ZMSG9JZ2_1",
        },
    }
    masked = redactor.value(body)
    text = orjson.dumps(masked).decode()
    for leaked in (
        CPF,
        "12345678909",
        "98765-4321",
        "ana@example.com",
        CONFIGURED_SECRET,
        "lc-abc",
    ):
        assert leaked not in text
    user = masked["payload"]["user"]
    assert masked["secret_key"] == user["cpf"] == user["birthDate"] == MASK
    # What is not sensitive survives, including dates, ids and counts.
    assert user["name"] == "Ana"
    assert masked["organization_id"] == "org-1"
    assert masked["payload"]["created"] == "2024-05-06T07:08:09.123Z"
    assert masked["payload"]["counts"] == [1234567890, "17000000001234"]
    assert masked["payload"]["thread"] == "Q0ZMSG9JZ2_1"


def test_redaction_of_text_bodies_and_tracebacks() -> None:
    redactor = Privacy([CONFIGURED_SECRET, "abc"])  # too short to be masked meaningfully
    value, is_json = redactor.body(f"not json {CONFIGURED_SECRET} ana@example.com".encode())
    assert not is_json
    assert value == f"not json {MASK} {MASK}"
    assert redactor.text("KeyError: 'abc'") == "KeyError: 'abc'"
