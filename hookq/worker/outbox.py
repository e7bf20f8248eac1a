"""Confirmed publishing of retry and dead-letter copies into a named queue.

A copy goes to the direct exchange under its queue's name (``hookq.topology``: every handler,
tier and dead queue is bound there under its own name). The channel has publisher confirms and
``mandatory``: a copy the broker did not route, did not confirm or refused (a full quorum queue
rejects publishes) raises ``PublishFailed``, and the caller requeues the original instead of
acking it.
"""

from __future__ import annotations

import asyncio

import aio_pika
import aiormq
from aio_pika.abc import AbstractExchange

from hookq.amqp import PUBLISH_FAILURES


class PublishFailed(Exception):
    """The broker did not confirm the copy: it is not safely anywhere."""


class Outbox:
    def __init__(self, direct: AbstractExchange, timeout: float) -> None:
        self._direct = direct
        self._timeout = timeout

    async def publish(self, message: aio_pika.Message, queue: str) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                confirmed = await self._direct.publish(message, routing_key=queue, mandatory=True)
        except PUBLISH_FAILURES as exc:
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc
        # Without confirms on the channel publish returns None; ours always has them.
        if confirmed is not None and not isinstance(confirmed, aiormq.spec.Basic.Ack):
            raise PublishFailed(f"broker answered {type(confirmed).__name__}")
