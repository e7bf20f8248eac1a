"""What the ingress, the worker and the operators' tools share about talking to RabbitMQ:
connecting (and saying clearly why it failed), and what a failed publish looks like."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote, urlsplit

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractRobustConnection

from hookq.connecting import safe_url, until_reachable

log = structlog.get_logger("hookq.amqp")

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


async def connect_robust(
    url: str, connection_name: str, **options: Any
) -> AbstractRobustConnection:
    """A robust connection (it re-opens itself, its channels and consumers after an outage),
    waiting for the broker as long as it takes for the first one, with a log line that says
    why every few seconds; the loss and the return of the connection are logged too."""

    async def connect() -> AbstractRobustConnection:
        connection: AbstractRobustConnection = await aio_pika.connect_robust(
            url,
            client_properties={"connection_name": connection_name},
            reconnect_interval=RECONNECT_INTERVAL,
            **options,
        )
        return connection

    connection = await until_reachable(
        connect, service="broker", url=url, failures=CONNECT_FAILURES, explain=why_unreachable
    )
    _log_losses(connection, url)
    return connection


def _log_losses(connection: AbstractRobustConnection, url: str) -> None:
    def lost(_sender: object, exc: BaseException | None = None) -> None:
        if exc is not None and not isinstance(exc, asyncio.CancelledError):
            log.warning(
                "broker connection lost: reconnecting", broker=safe_url(url), error=str(exc)
            )

    def restored(_sender: object) -> None:
        log.info("broker connection restored", broker=safe_url(url))

    connection.close_callbacks.add(lost)
    connection.reconnect_callbacks.add(restored)
