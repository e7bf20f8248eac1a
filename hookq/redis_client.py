"""The Redis connection of the worker and the operators' tools, and what a failure means."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
import redis.exceptions
import structlog
from redis.asyncio.retry import Retry as RedisRetry
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel
from redis.backoff import NoBackoff
from redis.connection import HiredisRespSerializer
from redis.utils import HIREDIS_AVAILABLE

from hookq.connecting import until_reachable
from hookq.redis_url import is_sentinel, parse_sentinel

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


class SentinelRedis(aioredis.Redis):
    """The primary's client: closing it closes the connections to the sentinels too."""

    sentinels: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinels is not None:
            await self.sentinels.aclose()


class HiredisPacking:
    """Commands packed by hiredis, as redis-py's threaded client packs them; its asyncio
    connections pack them in Python, ten times slower (52 against 5 us for a batch of 32 dedupe
    claims, timeit): about 3 % of the worker's CPU (docs/benchmarks.md)."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        packed: list[bytes] = self._packer.pack(*args)
        return packed


_hiredis_classes: dict[type[Any], type[Any]] = {}


def _packing_with_hiredis(connection_class: type[Any]) -> type[Any]:
    if connection_class not in _hiredis_classes:
        _hiredis_classes[connection_class] = type(
            connection_class.__name__, (HiredisPacking, connection_class), {}
        )
    return _hiredis_classes[connection_class]


def _pack_with_hiredis(client: aioredis.Redis) -> aioredis.Redis:
    # Whatever class the URL chose (TCP, TLS, a Unix socket, Sentinel's): the same with hiredis.
    pool = client.connection_pool
    if HIREDIS_AVAILABLE:
        pool.connection_class = _packing_with_hiredis(pool.connection_class)
    return client


def redis_client(url: str) -> aioredis.Redis:
    # A short connect timeout and one quick retry (a pooled connection gone stale after a Redis
    # restart): an outage is then noticed in seconds and handled by the gate, not here. No
    # socket_timeout (redis-py 8 sets 5 s unless told): it costs a task per command sent and a
    # timer per reply read, and every caller bounds its operations itself (the dedupe batch,
    # the gate's probes, the destinations' runs and commands).
    options: dict[str, Any] = {
        "socket_connect_timeout": 2.0,
        "socket_timeout": None,
        "retry": RedisRetry(NoBackoff(), 1),
        "health_check_interval": 30,
    }
    if not is_sentinel(url):
        return _pack_with_hiredis(aioredis.Redis.from_url(url, **options))
    # Through Sentinel: each new connection asks the sentinels where the primary is. After a
    # failover the old primary's connections fail (or answer READONLY, which redis-py turns
    # into a ConnectionError): the gate waits, and the next attempt reaches the new primary.
    target = parse_sentinel(url)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        target.sentinels,
        sentinel_kwargs={"socket_connect_timeout": 2.0, "socket_timeout": 2.0},
    )
    client = sentinel.master_for(
        target.service,
        redis_class=SentinelRedis,
        db=target.db,
        username=target.username,
        password=target.password,
        **options,
    )
    assert isinstance(client, SentinelRedis)
    client.sentinels = sentinel
    return _pack_with_hiredis(client)


def _where(url: str) -> str:
    if is_sentinel(url):
        return parse_sentinel(url).where()
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}:{parts.port or 6379}"


def why_unreachable(exc: BaseException, url: str) -> str:
    parts = urlsplit(url)
    where = _where(url)
    text = str(exc)
    if isinstance(exc, MasterNotFoundError):
        return f"no primary for {where} (sentinels down, or a failover under way)"
    if isinstance(exc, redis.exceptions.AuthenticationError) or "NOAUTH" in text:
        return f"wrong credentials for Redis at {where}"
    if "DB index is out of range" in text:
        database = parse_sentinel(url).db if is_sentinel(url) else parts.path[1:]
        return f"Redis at {where} has no database {database!r}"
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
