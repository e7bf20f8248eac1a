"""The Redis connection of the worker and the operators' tools, and what a failure means."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import redis.asyncio as aioredis
import redis.exceptions
import structlog
from redis.asyncio.retry import Retry as RedisRetry
from redis.backoff import NoBackoff

from hookq.connecting import until_reachable

log = structlog.get_logger("hookq.redis")

# What "Redis is unreachable" looks like (BusyLoadingError is a ConnectionError: still loading;
# TimeoutError is also our own bound on one operation).
REDIS_DOWN = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
    TimeoutError,
)
# What makes a first connection fail: down, or refusing us (a password, a database number).
REDIS_REFUSING = (*REDIS_DOWN, redis.exceptions.ResponseError)


def redis_client(url: str) -> aioredis.Redis:
    # A short connect timeout and one quick retry (a pooled connection gone stale after a Redis
    # restart): an outage is then noticed in seconds and handled by the gate, not here. No
    # socket_timeout: redis-py spends a task per command on it; the gate bounds each operation.
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=2.0,
        retry=RedisRetry(NoBackoff(), 1),
        health_check_interval=30,
    )


def why_unreachable(exc: BaseException, url: str) -> str:
    parts = urlsplit(url)
    where = f"{parts.hostname or '?'}:{parts.port or 6379}"
    text = str(exc)
    if isinstance(exc, redis.exceptions.AuthenticationError) or "NOAUTH" in text:
        return f"wrong credentials for Redis at {where}"
    if "DB index is out of range" in text:
        return f"Redis at {where} has no database {parts.path[1:]!r}"
    if (
        "Connection refused" in text
        or "Error 111 " in text
        or isinstance(exc, ConnectionRefusedError)
    ):
        return f"connection refused at {where} (is Redis running there?)"
    if isinstance(exc, redis.exceptions.TimeoutError | TimeoutError):
        return f"no answer from {where}"
    return f"{type(exc).__name__}: {text}"


async def wait_for_redis(client: aioredis.Redis, url: str) -> None:
    """Until Redis answers a ping, with a log line every few seconds saying why it does not."""

    async def ping() -> None:
        async with asyncio.timeout(5.0):
            await client.ping()

    await until_reachable(
        ping, service="redis", url=url, failures=REDIS_REFUSING, explain=why_unreachable
    )
