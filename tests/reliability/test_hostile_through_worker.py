"""Hostile input that the ingress accepts (a valid credential over a hostile body) goes on to
the workers: none may crash one or loop, each ends as an effect or a dead letter, and nothing
the ingress refused ever has an effect."""

from __future__ import annotations

import asyncio
from collections import Counter

import aio_pika
import orjson
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from hookq.message import Header
from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import hostile, rawhttp
from tests.reliability.conftest import Scale
from tests.reliability.load import RECORDER_NAMES, RECORDERS, leftover_messages, read_effects
from tests.reliability.procs import Fleet
from tests.reliability.scenario import worker_env
from tests.reliability.summary import SUMMARY

# Mostly bodies the ingress accepts (a valid type), some it must refuse.
CASES = st.one_of(
    hostile.signed_hostile_bodies(st.just("rel.hostile")),
    hostile.signed_hostile_bodies(st.just("rel.hostile")),
    hostile.signed_hostile_bodies(),
    hostile.one_bit_off(),
)


async def dead_ids(settings: Settings, queue: str) -> set[str]:
    """Delivery ids in a dead-letter queue (consumed: the test's own namespace)."""
    found: set[str] = set()
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        dead = await channel.declare_queue(queue, passive=True)
        while (message := await dead.get(no_ack=True, fail=False)) is not None:
            found.add(str(message.headers.get(Header.DELIVERY_ID)))
    return found


def test_hostile_bodies_reaching_workers_end_as_effects_or_dead_letters(
    fleet: Fleet, settings: Settings, names: Names, scale: Scale
) -> None:
    _ingress, port = fleet.ingress()
    worker = fleet.worker(worker_env())
    acked: set[str] = set()
    statuses: Counter[tuple[str, int]] = Counter()
    server_errors: list[hostile.Case] = []

    @hsettings(
        max_examples=scale.fuzz_examples,
        deadline=None,
        derandomize=not scale.full,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(CASES)
    def run(case: hostile.Case) -> None:
        SUMMARY.fuzz_cases += 1
        status, answer = rawhttp.post(port, case.path, case.body, case.headers)
        statuses[(case.path, status)] += 1
        if status >= 500:
            server_errors.append(case)
        if 200 <= status < 300:
            acked.add(orjson.loads(answer)["delivery_id"])

    run()
    assert acked, "no hostile body was accepted: the workers were never exercised"
    ended = asyncio.run(_settle(settings, names, acked))
    assert worker.alive(), f"a hostile body killed the worker: {worker.log_tail()}"
    assert fleet.stop(worker) == 0
    effects, dead, left = asyncio.run(_collect(settings, names))
    SUMMARY.events += len(acked)
    print(f"hostile bodies: {sorted(statuses.items())}, dead {[len(d) for d in dead.values()]}")
    for handler in RECORDER_NAMES:
        done = effects.get(handler, [])
        assert len(done) == len(set(done)), f"{handler}: an effect ran twice"
        assert set(done) <= acked, f"{handler}: an effect for a refused request"
        assert set(done) | dead[handler] == acked, f"{handler}: lost {acked - set(done)}"
    assert not server_errors, f"5xx answers, e.g. {server_errors[:1]}"
    assert ended, "the workers did not finish the accepted bodies in time"
    assert not left, f"messages left over: {left}"


async def _settle(settings: Settings, names: Names, acked: set[str]) -> bool:
    """Until every handler has an effect or a dead letter for each accepted body."""
    async with aioredis.from_url(settings.redis_url) as client:
        return await _poll(settings, names, client, acked)


async def _poll(settings: Settings, names: Names, client: aioredis.Redis, acked: set[str]) -> bool:
    for _ in range(120):
        found = await read_effects(client, names.redis_key("effects"))
        connection = await aio_pika.connect(settings.amqp_url)
        async with connection:
            channel = await connection.channel()
            dead = 0
            for spec in RECORDERS:
                queue = await channel.declare_queue(names.dead_queue(spec.name), passive=True)
                dead += queue.declaration_result.message_count or 0
        if len({(e.handler, e.delivery_id) for e in found}) + dead >= len(acked) * len(RECORDERS):
            return True
        await asyncio.sleep(0.5)
    return False


async def _collect(
    settings: Settings, names: Names
) -> tuple[dict[str, list[str]], dict[str, set[str]], dict[str, int]]:
    effects: dict[str, list[str]] = {}
    async with aioredis.from_url(settings.redis_url) as client:
        found = await read_effects(client, names.redis_key("effects"))
    for effect in found:
        effects.setdefault(effect.handler, []).append(effect.delivery_id)
    dead = {name: await dead_ids(settings, names.dead_queue(name)) for name in RECORDER_NAMES}
    left = await leftover_messages(settings.amqp_url, names, RECORDERS)
    return effects, dead, left
