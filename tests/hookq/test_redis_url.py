"""HOOKQ_REDIS_URL: through Sentinel, what a worker says while it cannot find the primary and
the client it builds (no connection is made there); every client packs commands with hiredis."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.asyncio.sentinel import MasterNotFoundError, SentinelManagedConnection

from hookq.redis_client import HiredisPacking, SentinelRedis, redis_client, why_unreachable

URL = "redis+sentinel://:s3cret@127.0.0.1:6403,127.0.0.1:6404/dedupe/3"


def test_no_primary_is_explained_with_the_service_and_sentinels_never_the_password() -> None:
    reason = why_unreachable(MasterNotFoundError("No master found for 'dedupe'"), URL)
    assert "no primary for service 'dedupe'" in reason
    assert "127.0.0.1:6403,127.0.0.1:6404" in reason
    assert "s3cret" not in reason
    refused = why_unreachable(ConnectionRefusedError("Connection refused"), URL)
    assert "service 'dedupe'" in refused
    assert "s3cret" not in refused


async def test_a_sentinel_url_makes_a_client_of_the_primary_with_the_servers_credentials() -> None:
    client = redis_client(URL)
    assert isinstance(client, SentinelRedis)
    assert client.sentinels is not None
    assert [(s.connection_pool.connection_kwargs["port"]) for s in client.sentinels.sentinels] == [
        6403,
        6404,
    ]
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["db"], kwargs["password"]) == (3, "s3cret")
    # The sentinels are asked without the servers' password.
    assert all(
        s.connection_pool.connection_kwargs["password"] is None for s in client.sentinels.sentinels
    )
    await client.aclose()


@pytest.mark.parametrize(
    ("url", "base"),
    [
        (URL, SentinelManagedConnection),
        ("redis://127.0.0.1:6379/0", Connection),
        ("rediss://127.0.0.1:6379/0", SSLConnection),
        ("unix:///tmp/redis.sock", UnixDomainSocketConnection),
    ],
)
async def test_every_kind_of_connection_packs_commands_with_hiredis(url: str, base: type) -> None:
    client = redis_client(url)
    connection_class = client.connection_pool.connection_class
    assert issubclass(connection_class, HiredisPacking)
    assert issubclass(connection_class, base)
    await client.aclose()


async def test_commands_packed_with_hiredis_say_what_redis_py_would(redis_url: str) -> None:
    client = redis_client(redis_url)
    arguments = ("EVAL", "return ARGV", 1, "k:é", b"\x00\xff", 12, "two words")
    connection = client.connection_pool.connection_class()
    assert b"".join(connection.pack_command(*arguments)) == b"".join(
        Connection().pack_command(*arguments)
    )
    try:
        # On the real server: a script's arguments come back as they were sent.
        assert await client.eval("return ARGV", 1, "hookq-test:k", b"\x00\xff", 12, "é") == [
            b"\x00\xff",
            b"12",
            "é".encode(),
        ]
    finally:
        await client.aclose()
