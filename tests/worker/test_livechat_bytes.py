"""LiveChat bodies are queued as received, without their ``secret_key`` (issue 12, item 7), through
the real ingress and a worker.

Before, the ingress parsed and re-serialised LiveChat bodies to remove the secret: integers of
2^64 and more became floats, ``1e15`` became ``1000000000000000.0`` and ``1.5e-400`` became
``0.0``. Two events that differed only there shared a body and a delivery id (a digest of it),
and the second was acked as a duplicate and never ran.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aio_pika.abc import AbstractRobustConnection
from pydantic import BaseModel

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.settings import Settings
from hookq.topology import Names, declare_exchanges
from tests.conftest import LIVECHAT_SECRET
from tests.ingress.test_ingress import running_ingress
from tests.support.events import eventually, take_all
from tests.worker.conftest import StartWorker

SECRET_MEMBER = b'"secret_key" : "%s",\n  ' % LIVECHAT_SECRET.encode()


def received(number: bytes) -> bytes:
    """A LiveChat event as a sender may format it, carrying ``number``."""
    return (
        b'{ "webhook_id": "w-1", "action": "incoming_event",\n  '
        + SECRET_MEMBER
        + b'"organization_id": "o", "payload": {"chat_id": "C1", "thread_id": "T1", '
        b'"event": {"id": "e1", '
        b'"type": "custom", "created_at": "2019-10-11T09:40:59.219001Z", "content": '
        b'{"n": ' + number + b', "big": 18446744073709551616, "f": 1e15}}}, '
        b'"additional_data": {} }'
    )


async def test_bodies_differing_only_in_a_number_are_two_events_queued_byte_for_byte(
    settings: Settings, names: Names, amqp: AbstractRobustConnection, start_worker: StartWorker
) -> None:
    runs: list[str] = []

    async def record(_event: BaseModel, ctx: HandlerContext) -> None:
        runs.append(ctx.delivery_id)

    channel = await amqp.channel()
    events, _direct = await declare_exchanges(channel, names)
    tap = await channel.declare_queue(f"{names.namespace}.tap", durable=True)
    await tap.bind(events, routing_key="livechat.#")
    await start_worker(settings, HandlerSpec("chats", ("livechat.#",), func=record, timeout=5.0))
    sent = [received(b"1.5e-400"), received(b"1.5e-401")]
    answers: list[Any] = []
    async with running_ingress(settings) as ingress:
        for body in sent:
            answer = await ingress.post("/webhooks/livechat", data=body)
            assert answer.status == 200, await answer.text()
            answers.append((await answer.json())["delivery_id"])

    queued = [message.body for message in await take_all(channel, tap.name)]
    assert queued == [body.replace(SECRET_MEMBER, b"") for body in sent]
    assert answers == [f"sha256:{hashlib.sha256(body).hexdigest()}" for body in queued]
    await eventually(lambda: sorted(runs) == sorted(answers))
