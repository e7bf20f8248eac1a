"""How full each handler's queues are, read from the broker.

Over AMQP (always): a passive declare of each queue answers its ready messages and consumers:
the handler queue's depth, its retry tiers' messages (retrying), its dead queue (dead), and the
unrouted queue. AMQP says nothing of messages delivered and not yet acknowledged, nor of how
many were handled: those come from RabbitMQ's management API when
``HOOKQ_CONSOLE_BROKER_API_URL`` names it (``messages_unacknowledged``: in flight; the
``message_stats.ack`` counter: handled, of which the sampler makes a rate). Without it the
overview shows them as unknown, and says which setting would show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import aiohttp
from aio_pika.abc import AbstractConnection

from hookq.amqp import broker_nodes
from hookq.dlq.queues import queue_state
from hookq.handlers.api import HandlerSpec
from hookq.topology import Names

API_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class QueueCounts:
    depth: int | None  # None: the queue does not exist (no worker declared it yet)
    consumers: int
    retrying: int
    dead: int | None


@dataclass(frozen=True, slots=True)
class ApiCounts:
    in_flight: int
    acked: int  # cumulative: messages handled (every ending acks the delivery)


async def queue_counts(
    connection: AbstractConnection, names: Names, spec: HandlerSpec
) -> QueueCounts:
    main = await queue_state(connection, names.handler_queue(spec.name))
    dead = await queue_state(connection, names.dead_queue(spec.name))
    retrying = 0
    for delay in sorted(set(spec.retry_delays)):
        tier = await queue_state(connection, names.retry_queue(spec.name, delay))
        retrying += tier.ready if tier is not None else 0
    return QueueCounts(
        depth=None if main is None else main.ready,
        consumers=0 if main is None else main.consumers,
        retrying=retrying,
        dead=None if dead is None else dead.ready,
    )


async def unrouted_count(connection: AbstractConnection, names: Names) -> int | None:
    state = await queue_state(connection, names.unrouted_queue)
    return None if state is None else state.ready


def vhost_of(amqp_url: str) -> str:
    # The nodes of a cluster share their virtual hosts: the first node's URL names it.
    path = urlsplit(broker_nodes(amqp_url)[0]).path
    return unquote(path[1:]) if len(path) > 1 else "/"


class BrokerApi:
    """RabbitMQ's management HTTP API: per-queue counts AMQP does not give."""

    def __init__(self, base_url: str, vhost: str, session: aiohttp.ClientSession) -> None:
        self._base = base_url.rstrip("/")
        if not self._base.endswith("/api"):
            self._base += "/api"
        self._vhost = quote(vhost, safe="")
        self._session = session

    async def queue(self, name: str) -> Mapping[str, Any] | None:
        """The queue's management record; None if the broker does not know it."""
        url = f"{self._base}/queues/{self._vhost}/{quote(name, safe='')}"
        timeout = aiohttp.ClientTimeout(total=API_TIMEOUT)
        async with self._session.get(url, timeout=timeout) as response:
            if response.status == 404:
                return None
            response.raise_for_status()
            found: Mapping[str, Any] = await response.json()
            return found

    async def messages(self, queue: str) -> int | None:
        """The messages a queue holds (a stream's included); None if the broker has no such
        queue."""
        record = await self.queue(queue)
        return None if record is None else int(record.get("messages") or 0)

    async def counts(self, queue: str) -> ApiCounts | None:
        record = await self.queue(queue)
        if record is None:
            return None
        stats = record.get("message_stats") or {}
        return ApiCounts(
            in_flight=int(record.get("messages_unacknowledged") or 0),
            acked=int(stats.get("ack") or 0),
        )
