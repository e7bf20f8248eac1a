"""Filling a test namespace's archive fast, exactly as the ingress publishes (its headers, to
``<ns>.ingress``), and an in-process worker's recording handlers.

``sample(n, now)`` builds ``n`` events of several sources and types spread over the last five
hours (bodies from the providers' shipped examples, each with a unique id and a ``note``), some
carrying an e-mail address the privacy policy masks. ``archive_events`` publishes them in
received order, confirmed, a few hundred at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractChannel, AbstractConnection

from hookq.message import event_headers
from hookq.settings import Settings
from hookq.sources.catalogue import example
from hookq.topology import ArchiveRetention, Names, declare_archive
from tests.support.workers import REPO, run_hookq

RETENTION = ArchiveRetention("7D", None, None)
TYPES = (
    ("plain", "thread.chat_sent"),
    ("plain", "thread.chat_received"),
    ("plain", "customer.customer_created"),
    ("livechat", "agent_created"),
    ("starya", "chat.created"),
    ("standard", "order.created"),
    ("standard", "order.paid"),
)
WORDS = ("apple", "banana", "cherry")
SECRET_MAIL = "someone.private@example.com"


@dataclass(frozen=True, slots=True)
class Sample:
    source: str
    event_type: str
    delivery_id: str
    received_at: float
    body: bytes


def body_for(source: str, event_type: str, delivery_id: str, **extra: Any) -> bytes:
    if source == "standard":
        return orjson.dumps({"type": event_type, "id": delivery_id, **extra})
    payload = orjson.loads(example(source, event_type))
    payload.pop("secret_key", None)  # the ingress strips it before the publish
    payload["id"] = delivery_id
    return orjson.dumps(payload | extra)


def sample(n: int, now: float) -> list[Sample]:
    events = []
    for i in range(n):
        source, event_type = TYPES[i % len(TYPES)]
        delivery_id = f"d{i:04d}-{uuid.uuid4().hex[:6]}"
        note = f"{WORDS[i % len(WORDS)]} number {i}"
        extra: dict[str, Any] = {"note": note}
        if i % 10 == 0:
            extra["contact"] = f"write to {SECRET_MAIL}"
        at = now - 5 * 3600 + i * (5 * 3600 / n)
        events.append(
            Sample(
                source,
                event_type,
                delivery_id,
                at,
                body_for(source, event_type, delivery_id, **extra),
            )
        )
    return events


async def archive_events(
    connection: AbstractConnection,
    names: Names,
    events: Sequence[Sample],
    batch: int = 250,
    retention: ArchiveRetention = RETENTION,
) -> None:
    await declare_archive(connection, names, retention)
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(names.ingress_exchange, ensure=False)
    try:
        for start in range(0, len(events), batch):
            await asyncio.gather(
                *(_publish(exchange, event) for event in events[start : start + batch])
            )
    finally:
        await channel.close()


async def _publish(exchange: aio_pika.abc.AbstractExchange, event: Sample) -> None:
    headers = event_headers(event.source, event.event_type, event.delivery_id, event.received_at)
    message = aio_pika.Message(
        event.body,
        headers=headers,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=uuid.uuid4().hex,
    )
    await exchange.publish(message, routing_key=f"{event.source}.{event.event_type}")


def events_env(settings: Settings, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
    env |= {
        "HOOKQ_AMQP_URL": settings.amqp_url,
        "HOOKQ_REDIS_URL": settings.redis_url,
        "HOOKQ_NAMESPACE": settings.namespace,
        "HOOKQ_BUILTIN_HANDLERS": "",
        "HOOKQ_LOG_FORMAT": "json",
        "PYTHONPATH": str(REPO),
    }
    return env | overrides


def hookq_events(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``hookq events *args`` run to completion as a process."""
    return run_hookq(events_env(settings), "events", *args, timeout=120)


def popen_events(settings: Settings, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hookq.cli", "events", *args],
        cwd=REPO,
        env=events_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def channel_of(connection: AbstractConnection) -> AbstractChannel:
    return await connection.channel(publisher_confirms=True)


async def events_command(settings: Settings, *argv: str) -> tuple[int, str, str]:
    """``hookq events *argv`` in this process (its parser, its command, its exit code),
    with what it printed: (exit code, stdout, stderr)."""
    from hookq.cli import build_parser
    from hookq.events.cli import execute

    args = build_parser().parse_args(["events", *argv])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = await execute(args.events_command_name, args, settings)
    return code, out.getvalue(), err.getvalue()
