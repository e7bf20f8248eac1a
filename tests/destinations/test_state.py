"""A destination's shared state in Redis, as two workers see it (two ``DestinationState`` on
the same keys): the circuit opens for both, one probe at a time, a probe's answer closes or
reopens it; rate reservations are spaced across both."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from hookq.destinations.config import Destination
from hookq.destinations.state import RATE_MARGIN, Circuit, DestinationState
from hookq.testing.signing import SECRETS
from hookq.topology import Names


def destination(**keys: object) -> Destination:
    fields = {
        "name": "crm",
        "url": "http://127.0.0.1:9/hooks",
        "patterns": ["standard.#"],
        "secrets": [SECRETS["standard"]],
        "circuit_failures": 3,
        "circuit_cooldown": 0.5,
    } | keys
    return Destination.model_validate(fields)


def two_workers(
    redis_client: aioredis.Redis, names: Names, **keys: object
) -> tuple[DestinationState, DestinationState]:
    crm = destination(**keys)
    return DestinationState(redis_client, names, crm), DestinationState(redis_client, names, crm)


async def test_failures_in_a_row_open_the_circuit_for_every_worker(
    redis_client: aioredis.Redis, names: Names
) -> None:
    first, second = two_workers(redis_client, names)
    assert (await second.admit()).circuit is Circuit.CLOSED
    assert await first.record(success=False) is Circuit.CLOSED
    assert await second.record(success=False) is Circuit.CLOSED
    assert await first.record(success=False) is Circuit.OPEN  # the third in a row
    await asyncio.sleep(0.3)  # past the other worker's trust in its last look
    admission = await second.admit()
    assert admission.circuit is Circuit.OPEN
    assert 0 < admission.wait <= 0.5
    status = await first.status()
    assert (status.circuit, status.failures) == (Circuit.OPEN, 3)


async def test_a_success_between_failures_starts_the_count_again(
    redis_client: aioredis.Redis, names: Names
) -> None:
    first, second = two_workers(redis_client, names)
    await first.record(success=False)
    await first.record(success=False)
    await second.record(success=True)
    assert await first.record(success=False) is Circuit.CLOSED
    assert (await first.status()).failures == 1


async def test_one_probe_after_the_cooldown_then_closed_or_open_again(
    redis_client: aioredis.Redis, names: Names
) -> None:
    first, second = two_workers(redis_client, names)
    for _ in range(3):
        await first.record(success=False)
    await asyncio.sleep(0.55)
    admissions = [await first.admit(), await second.admit(), await second.admit()]
    assert [a.wait == 0 for a in admissions] == [True, False, False]  # one probe, others wait
    assert {a.circuit for a in admissions} == {Circuit.HALF_OPEN}
    assert await first.record(success=False) is Circuit.OPEN  # the probe failed
    assert (await second.admit()).circuit is Circuit.OPEN
    await asyncio.sleep(0.55)
    assert (await second.admit()).wait == 0  # the next probe
    assert await second.record(success=True) is Circuit.CLOSED
    assert (await first.admit()).circuit is Circuit.CLOSED
    assert (await first.status()).circuit is Circuit.CLOSED


async def test_disabled_holds_until_enabled_and_reset_closes(
    redis_client: aioredis.Redis, names: Names
) -> None:
    first, second = two_workers(redis_client, names)
    await first.disable("HTTP 410 Gone")
    assert (await second.admit()).circuit is Circuit.DISABLED
    assert await second.enable()
    assert not await second.enable()
    for _ in range(3):
        await first.record(success=False)
    await second.reset()
    assert (await first.admit()).circuit is Circuit.CLOSED


async def test_rate_reservations_are_spaced_across_workers(
    redis_client: aioredis.Redis, names: Names
) -> None:
    first, second = two_workers(redis_client, names, rate_limit="20/s")
    waits = [await (first if n % 2 else second).reserve() for n in range(10)]
    interval = 0.05 * (1 + RATE_MARGIN)
    for n, wait in enumerate(waits):
        assert abs(wait - n * interval) < 0.02, waits
    unlimited = DestinationState(redis_client, names, destination(name="other"))
    assert await unlimited.reserve() == 0.0
