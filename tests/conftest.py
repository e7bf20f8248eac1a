"""Fixtures shared by every test: the real broker, Redis and PostgreSQL, and a namespace per test.

Each test gets its own namespace (``Settings.namespace``), so its exchanges, queues, Redis
keys and PostgreSQL schema are its own. Whatever a test session left behind is deleted when it
ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import aio_pika
import pytest
import redis.asyncio as aioredis
import structlog
from aio_pika.abc import AbstractRobustConnection

from bench.broker import listed_names
from hookq.settings import Settings
from hookq.sources.registry import settings_type
from hookq.topology import Names
from tests import services
from tests.support.proxy import CuttableProxy

SESSION_PREFIX = f"t{uuid.uuid4().hex[:6]}"
_namespace_numbers = itertools.count()

PLAIN_SECRET = "plain-test-secret"
LIVECHAT_SECRET = "livechat-test-secret-key"
STARYA_SECRET = "starya-test-secret"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRETS = {
    "plain": PLAIN_SECRET,
    "livechat": LIVECHAT_SECRET,
    "starya": STARYA_SECRET,
    "standard": STANDARD_SECRET,
}


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    try:
        with services.rabbitmq_url() as url:
            yield url
    except services.ServiceUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    _delete_leftovers(url)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    try:
        with services.redis_url() as url:
            yield url
    except services.ServiceUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    asyncio.run(_delete_redis_keys(url))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """PostgreSQL, for transactional handlers: asked for only by the tests that use it."""
    try:
        with services.postgres_url() as url:
            yield url
    except services.ServiceUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    asyncio.run(_drop_schemas(url))


async def _drop_schemas(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        schemas = await connection.fetch(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", SESSION_PREFIX
        )
        for row in schemas:
            name = row["nspname"].replace('"', '""')
            await connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await connection.close()


def _delete_leftovers(url: str, prefixes: tuple[str, ...] = (SESSION_PREFIX,)) -> None:
    queues = [n for n in listed_names("queues", SESSION_PREFIX) if n.startswith(prefixes)]
    exchanges = [n for n in listed_names("exchanges", SESSION_PREFIX) if n.startswith(prefixes)]
    if queues or exchanges:
        asyncio.run(_delete_broker_names(url, queues, exchanges))


async def _delete_broker_names(url: str, queues: list[str], exchanges: list[str]) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        for name in queues:
            channel = await connection.channel()  # a fresh one: a missing name closes it
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                await channel.queue_delete(name)
                await channel.close()
        for name in exchanges:
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                await channel.exchange_delete(name)
                await channel.close()


async def _delete_redis_keys(url: str) -> None:
    client = aioredis.from_url(url)
    async with client:
        async for key in client.scan_iter(match=f"{SESSION_PREFIX}*", count=1000):
            await client.delete(key)


@pytest.fixture(autouse=True)
def structlog_config_restored() -> Iterator[None]:
    """A test that runs ``hookq.cli.main`` in-process configures logging for the process:
    put the configuration back, so that later tests' ``capture_logs`` still sees their logs."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


# Finished tests' namespaces, deleted from the broker every SWEEP_EVERY tests: a whole suite's
# quorum queues (thousands) left until the session's end slowed RabbitMQ 3.10 on two cores to a
# standstill (it stopped accepting connections); swept in batches, a few hundred at most live.
_finished: list[str] = []
SWEEP_EVERY = 25


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of this test's own: prefixes its exchanges, queues and Redis keys."""
    name = f"{SESSION_PREFIX}-{next(_namespace_numbers)}"
    yield name
    _finished.append(name)
    if len(_finished) >= SWEEP_EVERY:
        url: str = request.getfixturevalue("amqp_url")
        _delete_leftovers(url, tuple(f"{finished}." for finished in _finished))
        _finished.clear()


@pytest.fixture
def names(namespace: str) -> Names:
    return Names(namespace)


@pytest.fixture
def settings(amqp_url: str, redis_url: str, namespace: str) -> Settings:
    return Settings(
        amqp_url=amqp_url,
        redis_url=redis_url,
        namespace=namespace,
        source_settings={
            name: settings_type(name)(secrets=[secret]) for name, secret in SECRETS.items()
        },
        publish_timeout=2.0,
        log_format="json",
    )


@pytest.fixture
async def amqp(
    amqp_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[AbstractRobustConnection]:
    """A connection named after the test (it shows in the broker's connection list)."""
    connection = await aio_pika.connect_robust(
        amqp_url, client_properties={"connection_name": f"test:{request.node.name}"}
    )
    async with connection:
        yield connection


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    async with client:
        yield client


@pytest.fixture
async def proxies(amqp_url: str) -> AsyncIterator[list[CuttableProxy]]:
    """Two "nodes" of a cluster for ``HOOKQ_AMQP_URL``: proxies to the shared broker, each
    cut (a dead node) by a test, all cut at the end."""
    target = urlsplit(amqp_url)
    made = [CuttableProxy(target.hostname or "127.0.0.1", target.port or 5672) for _ in range(2)]
    for proxy in made:
        await proxy.start()
    yield made
    for proxy in made:
        await proxy.cut()
