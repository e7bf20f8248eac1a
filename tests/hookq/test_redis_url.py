"""HOOKQ_REDIS_URL through Sentinel: what a worker says while it cannot find the primary, and
the client it builds (no connection is made here)."""

from __future__ import annotations

from redis.asyncio.sentinel import MasterNotFoundError

from hookq.redis_client import SentinelRedis, redis_client, why_unreachable

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
