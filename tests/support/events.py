"""Publishing test events exactly as the ingress does, and reading queues back.

``publish_event`` sets the ingress's headers (``hookq.message.event_headers``: source, event
type, delivery id, time received, provider headers), a unique message id (or the one given, to
stage a redelivery) and publishes persistent, confirmed, to ``<ns>.events`` with routing key
``<source>.<event type>``. ``standard_body`` builds a valid Standard Webhooks payload whose extra
fields a recording handler (``tests.support.handlers``) reads as instructions.
``outcome_count`` reads back how a worker's handler ended them, from its metrics.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, FieldValue

from hookq.message import event_headers
from hookq.topology import Names, declare_exchanges
from hookq.worker.metrics import WorkerMetrics
from hookq.worker.outcomes import Outcome

TEST_EVENT = "test.event"


def outcome_count(metrics: WorkerMetrics, handler: str, outcome: Outcome) -> float:
    """How many Standard Webhooks test events ``handler`` ended with ``outcome``."""
    value = metrics.registry.get_sample_value(
        "hookq_worker_events_total",
        {"source": "standard", "event_type": "other", "handler": handler, "outcome": outcome},
    )
    return value or 0.0


def dedupe_key(
    names: Names, handler: str, delivery_id: str, generation: str = "0", source: str = "standard"
) -> str:
    """The Redis key a worker dedupes a test event on (``hookq.worker.dedupe``)."""
    event_type = TEST_EVENT
    return names.redis_key("dedupe", handler, source, event_type, generation, delivery_id)


def standard_body(event_type: str = TEST_EVENT, **fields: Any) -> bytes:
    return orjson.dumps({"type": event_type, **fields})


async def publish_event(
    channel: AbstractChannel,
    names: Names,
    delivery_id: str,
    body: bytes,
    *,
    source: str = "standard",
    event_type: str = TEST_EVENT,
    message_id: str | None = None,
    extra_headers: dict[str, FieldValue] | None = None,
) -> str:
    """Publish one event (``channel`` must have publisher confirms); returns its message id."""
    events, _direct = await declare_exchanges(channel, names)
    message_id = message_id or uuid.uuid4().hex
    headers = event_headers(
        source, event_type, delivery_id, time.time(), {"webhook-id": delivery_id}
    ) | (extra_headers or {})
    message = aio_pika.Message(
        body,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message_id,
        headers=headers,
    )
    await events.publish(message, routing_key=f"{source}.{event_type}")
    return message_id


async def take_all(channel: AbstractChannel, queue: str) -> list[AbstractIncomingMessage]:
    """Every message now in ``queue``, removed from it (basic.get with auto-ack)."""
    q = await channel.get_queue(queue, ensure=True)
    taken = []
    while (message := await q.get(no_ack=True, fail=False)) is not None:
        taken.append(message)
    return taken


async def ready_count(channel: AbstractChannel, queue: str) -> int:
    """Messages ready in ``queue`` (not counting those delivered and unacked), asked of the
    broker now: a robust channel's passive ``declare_queue`` answers from its cache."""
    underlay = await channel.get_underlay_channel()
    declared = await underlay.queue_declare(queue, passive=True)
    return int(declared.message_count or 0)


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], timeout: float = 15.0, interval: float = 0.05
) -> None:
    """Wait until ``check()`` (plain or async) is true; AssertionError after ``timeout`` s."""
    try:
        async with asyncio.timeout(timeout):
            while not await _holds(check):
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(f"condition still false after {timeout:g}s") from None


async def _holds(check: Callable[[], bool | Awaitable[bool]]) -> bool:
    result = check()
    return bool(await result) if inspect.isawaitable(result) else bool(result)
