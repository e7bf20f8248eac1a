"""What the ingress, the worker and the operators' tools share about talking to RabbitMQ:
connecting (and saying clearly why it failed), and what a failed publish looks like.

``HOOKQ_AMQP_URL`` names one node, or several comma-separated (the nodes of one cluster):
every connection goes to the first node that answers, and a robust connection that loses its
node reconnects to the next one (``ClusterConnection``), its channels and consumers with it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractConnection
from yarl import URL

from hookq import amqp_frames
from hookq.connecting import safe_url, until_reachable

log = structlog.get_logger("hookq.amqp")

C = TypeVar("C")

# Everything a confirmed publish can raise when the broker did not take the message: the
# caller answers 503 (ingress) or requeues the original (worker), never acknowledges it.
PUBLISH_FAILURES = (
    TimeoutError,
    ConnectionError,
    aio_pika.exceptions.AMQPError,
    aiormq.exceptions.AMQPError,
    RuntimeError,  # aiormq raises it for a write on a closing transport
)

# What a failed connection attempt raises: the broker away, refusing us, or closing at once.
CONNECT_FAILURES = (OSError, TimeoutError, aiormq.exceptions.AMQPError)

# Seconds between reconnection attempts of a robust connection: short, because providers
# retry a 503 for minutes at most, and a worker away from its queues is work piling up.
RECONNECT_INTERVAL = 1.0


def why_unreachable(exc: BaseException, url: str) -> str:
    """A connection failure as an operator would want to read it."""
    parts = urlsplit(url)
    where = f"{parts.hostname or '?'}:{parts.port or 5672}"
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    text = str(exc)
    if isinstance(exc, aiormq.exceptions.ProbableAuthenticationError):
        user = unquote(parts.username or "guest")
        return f"wrong credentials: the broker at {where} refused user {user!r}"
    if isinstance(exc, aiormq.exceptions.InvalidFrameError) and "Connection.Close" in text:
        return (
            f"the broker at {where} closed the connection on opening virtual host {vhost!r}: "
            "it does not exist, or the user has no permission on it"
        )
    errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if isinstance(exc, ConnectionRefusedError) or errno == 111:
        return f"connection refused at {where} (is RabbitMQ running there?)"
    if errno in (-2, -3, -5):
        return f"unknown host {parts.hostname!r}"
    if isinstance(exc, TimeoutError):
        return f"no answer from {where}"
    return f"{type(exc).__name__}: {text}"


def broker_nodes(url: str) -> list[str]:
    """The nodes ``HOOKQ_AMQP_URL`` names: one URL, or several separated by commas."""
    return [node.strip() for node in url.split(",") if node.strip()]


class BrokerUnreachable(ConnectionError):
    """No node answered; says why for each, in the order they were tried. A ConnectionError,
    so that what handles a refused connection handles this one (``hookq dlq``'s exit 3)."""

    def __init__(self, failures: Sequence[tuple[str, BaseException]]) -> None:
        self.failures = list(failures)
        super().__init__("; ".join(why_unreachable(exc, node) for node, exc in self.failures))


class ClusterConnection(aio_pika.RobustConnection):
    """A robust connection to any node of a cluster: each connection attempt (the first one,
    and every reconnection after a loss or a failed attempt) goes to the next node of the list,
    so that a client whose node died re-opens its channels, queues and consumers on a live one.

    aio-pika's robust connection reconnects to its one URL and has no hook for choosing it
    (mosquito/aio-pika#141): its reconnection loop makes every attempt through the private
    ``RobustConnection.__connect_transport``, which this class extends to aim at the next node
    first. tests/hookq/test_amqp_nodes.py pins that: an aio-pika that renames it fails them."""

    def __init__(self, nodes: Sequence[str], first: int = 0, **kwargs: Any) -> None:
        self.nodes = tuple(URL(node) for node in nodes)
        self._attempts = itertools.cycle(range(len(self.nodes)))
        for _ in range(first % len(self.nodes)):
            next(self._attempts)
        super().__init__(self.nodes[first % len(self.nodes)], **kwargs)

    async def _RobustConnection__connect_transport(self) -> None:
        self.url = self.nodes[next(self._attempts)]
        await super()._RobustConnection__connect_transport()  # type: ignore[misc]

    @property
    def node(self) -> str:
        """The node of the current (or last) attempt, without its password: for logs."""
        return safe_url(str(self.url))


async def connect_robust(url: str, connection_name: str, **options: Any) -> ClusterConnection:
    """A robust connection (it re-opens itself, its channels and consumers after an outage, on
    another node if ``url`` names several), waiting for the broker as long as it takes for the
    first one, with a log line that says why every few seconds; the loss and the return of the
    connection are logged too, with the node."""
    amqp_frames.install()
    nodes = broker_nodes(url)

    async def open_on(first: int) -> ClusterConnection:
        connection = ClusterConnection(
            nodes,
            first,
            client_properties={"connection_name": connection_name},
            reconnect_interval=RECONNECT_INTERVAL,
            **options,
        )
        try:
            await connection.connect()
        except BaseException:
            await connection.close()
            raise
        return connection

    connection = await until_reachable(
        lambda: first_answering(nodes, open_on),
        service="broker",
        url=url,
        failures=(BrokerUnreachable,),
        explain=lambda exc, _url: str(exc),
    )
    log.info("broker node connected", node=connection.node)
    _log_losses(connection)
    return connection


async def connect(url: str, connection_name: str) -> AbstractConnection:
    """A plain connection (it does not come back: for one-off work) to the first node of
    ``url`` that answers; ``BrokerUnreachable`` when none does."""
    amqp_frames.install()

    async def open_on(index: int) -> AbstractConnection:
        return await aio_pika.connect(
            nodes[index], client_properties={"connection_name": connection_name}
        )

    nodes = broker_nodes(url)
    return await first_answering(nodes, open_on)


async def first_answering(nodes: Sequence[str], open_on: Callable[[int], Awaitable[C]]) -> C:
    """``open_on(i)`` for each node in turn, the first that answers; ``BrokerUnreachable``
    with every node's failure if none does."""
    failures: list[tuple[str, BaseException]] = []
    for index, node in enumerate(nodes):
        try:
            return await open_on(index)
        except CONNECT_FAILURES as exc:
            failures.append((node, exc))
    raise BrokerUnreachable(failures)


def _log_losses(connection: ClusterConnection) -> None:
    # aio-pika reports a failed reconnection attempt as one more close: told apart from the
    # loss itself, and said with why that node refused.
    up = [True]

    def lost(_sender: object, exc: BaseException | None = None) -> None:
        if exc is None or isinstance(exc, asyncio.CancelledError):
            return
        if up[0]:
            log.warning(
                "broker connection lost: reconnecting", node=connection.node, error=str(exc)
            )
        else:
            log.warning(
                "broker node unreachable, trying the next",
                node=connection.node,
                reason=why_unreachable(exc, str(connection.url)),
            )
        up[0] = False

    def restored(_sender: object) -> None:
        up[0] = True
        log.info("broker connection restored", node=connection.node)

    connection.close_callbacks.add(lost)
    connection.reconnect_callbacks.add(restored)
