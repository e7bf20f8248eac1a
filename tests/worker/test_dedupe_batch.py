"""The dedupe scripts, run for many messages at once against the real Redis: a batch of calls
made in one turn of the event loop is one round trip, and gives each caller what the same calls
made one by one would have."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from hookq.redis_client import redis_client as hookq_redis_client
from hookq.topology import Names
from hookq.worker.dedupe import ClaimState, Dedupe
from hookq.worker.inflight import InFlight
from hookq.worker.redis_gate import RedisGate
from hookq.worker.script_batch import BatchScript, ScriptBatch
from tests.support.redis_server import PrivateRedis

ECHO = BatchScript("return {tonumber(argv(1)) * 2}", args=1)  # each key's argument, doubled


def make_dedupe(client: aioredis.Redis, names: Names, lease: float = 30.0) -> Dedupe:
    gate = RedisGate(client, InFlight())
    return Dedupe(client, gate, names, lease=lease, done_ttl=60.0)


async def test_concurrent_claims_travel_together_and_each_gets_its_own_answer(
    redis_client: aioredis.Redis, names: Names
) -> None:
    dedupe = make_dedupe(redis_client, names)
    keys = [dedupe.key("h", "plain", "thread.chat_sent", f"pEv_{n}") for n in range(50)]
    before = dedupe._batch.round_trips
    # The same key twice in one batch, as two deliveries of one event arriving together.
    claims = await asyncio.gather(
        *(dedupe.claim(key, f"m{n}") for n, key in enumerate(keys)),
        dedupe.claim(keys[0], "another-message"),
    )
    # The first call sends at once; every later one waits for it and goes in the next.
    assert dedupe._batch.round_trips - before <= 2
    assert [c.state for c in claims[:50]] == [ClaimState.CLAIMED] * 50
    assert claims[50].state is ClaimState.OTHER_MESSAGE
    assert 29 < claims[50].lease_left <= 30

    marked = await asyncio.gather(*(dedupe.mark_done(c) for c in claims[:25]))
    await asyncio.gather(*(dedupe.release(c) for c in claims[25:50]))
    assert marked == [True] * 25
    values = await redis_client.mget(keys)
    assert values[:25] == [b"done"] * 25
    assert values[25:] == [None] * 25

    again = await asyncio.gather(*(dedupe.claim(key, f"m{n}") for n, key in enumerate(keys)))
    assert [c.state for c in again] == [ClaimState.DONE] * 25 + [ClaimState.CLAIMED] * 25
    await dedupe.close()


async def test_a_redelivery_sees_its_own_claim_and_a_lost_lease_is_not_marked_done(
    redis_client: aioredis.Redis, names: Names
) -> None:
    dedupe = make_dedupe(redis_client, names)
    key = dedupe.key("h", "plain", "thread.chat_sent", "pEv_x")
    first = await dedupe.claim(key, "m1")
    redelivered = await dedupe.claim(key, "m1")  # a new run of the same message
    assert redelivered.state is ClaimState.SAME_MESSAGE
    # Another run took the key over (first's lease lapsed): first must not mark it done.
    await redis_client.set(key, "m1 someone-else", px=30_000)
    assert await dedupe.mark_done(first) is False
    await dedupe.release(first)  # not ours: left alone
    assert await redis_client.get(key) == b"m1 someone-else"
    await dedupe.close()


async def test_a_script_error_fails_its_callers_only(redis_client: aioredis.Redis) -> None:
    batch = ScriptBatch(redis_client)
    broken = BatchScript("return {redis.call('NOSUCHCOMMAND')}", args=1)
    results = await asyncio.gather(
        batch.call(ECHO, "k1", (1,)),
        batch.call(broken, "k2", (1,)),
        batch.call(ECHO, "k3", (21,)),
        return_exceptions=True,
    )
    assert results[0] == 2
    assert results[2] == 42
    assert isinstance(results[1], Exception)
    with pytest.raises(ValueError, match="1 arguments per key"):
        batch.call(ECHO, "k1", (1, 2))
    await batch.close()


async def test_shared_arguments_go_once_per_script_call_and_reach_every_key(
    redis_client: aioredis.Redis,
) -> None:
    batch = ScriptBatch(redis_client)
    scaled = BatchScript("return {tonumber(argv(1)) * tonumber(shared(1))}", args=1, shared=1)
    results = await asyncio.gather(
        batch.call(scaled, "k1", (1,), (10,)),
        batch.call(scaled, "k2", (2,), (100,)),
        batch.call(scaled, "k3", (3,), (10,)),
    )
    assert list(results) == [10, 200, 30]
    assert batch.round_trips == 1  # two script calls (one per shared value), one pipeline
    with pytest.raises(ValueError, match="1 shared"):
        batch.call(scaled, "k1", (1,))
    await batch.close()


async def test_a_claim_tells_its_own_message_by_the_value_before_the_last_space(
    redis_client: aioredis.Redis, names: Names
) -> None:
    dedupe = make_dedupe(redis_client, names)
    key = dedupe.key("h", "standard", "t", "id-spaces")
    first = await dedupe.claim(key, "message with spaces")
    assert first.state is ClaimState.CLAIMED
    assert (await dedupe.claim(key, "message with spaces")).state is ClaimState.SAME_MESSAGE
    assert (await dedupe.claim(key, "message with")).state is ClaimState.OTHER_MESSAGE
    assert 29 < (await redis_client.pttl(key)) / 1000 <= 30  # the shared lease
    await dedupe.close()


async def test_a_connection_redis_closed_is_replaced_without_failing_the_calls(
    redis_url: str, redis_client: aioredis.Redis
) -> None:
    # The batch keeps one connection between round trips; Redis closing it (a restart, a
    # client timeout, CLIENT KILL) costs the next round trip the quick retry of the worker's
    # client, not a failure.
    worker_client = hookq_redis_client(redis_url)
    batch = ScriptBatch(worker_client)
    assert await batch.call(ECHO, "k1", (1,)) == 2
    # The connections whose last command was EVAL, the batch's among them; other tests' clients
    # are left alone.
    evaluating = [c for c in await redis_client.client_list() if c["cmd"] == "eval"]
    assert evaluating
    for connection in evaluating:
        await redis_client.client_kill_filter(_id=connection["id"])
    again = await asyncio.gather(batch.call(ECHO, "k1", (2,)), batch.call(ECHO, "k2", (3,)))
    assert list(again) == [4, 6]
    await batch.close()
    await worker_client.aclose()


async def test_a_redis_that_stops_answering_fails_the_calls_within_the_bound(
    tmp_path: Path,
) -> None:
    # The worker's client has no socket timeout of its own (it costs a task per command): the
    # batch's bound is what ends a round trip Redis never answers, and the next one, Redis
    # back, goes through.
    with PrivateRedis(tmp_path) as server:
        client = hookq_redis_client(server.url)
        assert client.connection_pool.connection_kwargs["socket_timeout"] is None
        batch = ScriptBatch(client, timeout=0.5)
        assert await batch.call(ECHO, "k1", (1,)) == 2
        server.pause()
        try:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await batch.call(ECHO, "k1", (2,))
            assert time.monotonic() - started < 2.0
        finally:
            server.resume()
        assert await batch.call(ECHO, "k1", (3,)) == 6
        await batch.close()
        await client.aclose()
