"""Redis (the dedupe store) restarted during worker load: no duplicated effect, no lost event.

The workers use a private ``redis-server`` on a spare port (the shared one stays up), persisted
as an operator must: append-only file, fsync on every write. It is stopped twice while the
workers process a backlog: once cleanly (SHUTDOWN), once with SIGKILL. The effects are recorded
in the shared Redis, which is not restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import senders
from tests.reliability.conftest import Scale
from tests.reliability.load import Outcomes, read_effects, with_retries_of
from tests.reliability.procs import Fleet, Spawned, free_port
from tests.reliability.scenario import settle_and_judge, start_workers, traffic_while
from tests.reliability.summary import SUMMARY

DOWN_SECONDS = 1.5


class DedupeRedis:
    """The private Redis, restartable on the same port and data directory."""

    def __init__(self, fleet: Fleet, data_dir: Path) -> None:
        self.fleet, self.data_dir, self.port = fleet, data_dir, free_port()
        self.server: Spawned = fleet.redis_server(self.port, data_dir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def restart(self, hard: bool) -> None:
        if hard:
            self.fleet.kill(self.server)
        else:
            client = aioredis.from_url(self.url)
            async with client:
                # SHUTDOWN closes the connection without a reply; the server saves the AOF.
                with contextlib.suppress(RedisConnectionError):
                    await client.shutdown()
            await asyncio.to_thread(self.server.proc.wait, 15)
        await asyncio.sleep(DOWN_SECONDS)
        self.server = await asyncio.to_thread(self.fleet.redis_server, self.port, self.data_dir)
        self.fleet.restarts += 1


async def test_redis_restarts_during_worker_load_neither_lose_nor_duplicate(
    fleet: Fleet,
    settings: Settings,
    names: Names,
    scale: Scale,
    redis_client: aioredis.Redis,
    tmp_path: Path,
) -> None:
    dedupe = DedupeRedis(fleet, tmp_path)
    _ingress, port = fleet.ingress()
    # Slow effects: a backlog is in flight in the workers whenever Redis goes away.
    workers = start_workers(fleet, 2, HOOKQ_REDIS_URL=dedupe.url, HOOKQ_TEST_EFFECT_DELAY="0.03")
    events = [senders.standard("rel.redis", {"n": n}) for n in range(scale.outage_events)]
    expected = len(events) * 2  # effects: two recording handlers
    # A clean restart once a fifth of the effects are made, a SIGKILL at a half: both land in
    # the middle of the processing, however fast this machine is.
    restarts = [(0.2, False), (0.5, True)]

    async def restart_redis(_outcomes: Outcomes) -> None:
        key = names.redis_key("effects")
        for share, hard in restarts:
            async with asyncio.timeout(120):  # the workers are stuck: fail, do not hang
                while await redis_client.llen(key) < share * expected:
                    await asyncio.sleep(0.05)
            await dedupe.restart(hard)

    traffic = with_retries_of(events, every=10, rng=random.Random(5))
    outcomes = await traffic_while(port, traffic, restart_redis)
    result = await settle_and_judge(fleet, workers, settings, names, redis_client, outcomes)
    verdict = result.verdict
    SUMMARY.add(verdict, events=len(events), restarts=len(restarts))
    pending = await _effects_before_last_restart(redis_client, names, fleet)
    print(f"redis restarts: {len(restarts)}, effects made before the last one: {pending}")

    assert 0 < pending < expected, "the restarts did not happen during the processing"
    assert outcomes.acked == {e.delivery_id for e in events}
    assert not verdict.lost, verdict.problems()
    assert verdict.duplicated == 0, f"an effect ran twice: {verdict.problems()}"
    assert not verdict.unexpected, verdict.problems()
    assert not result.left, f"messages left over: {result.left}"


async def _effects_before_last_restart(client: aioredis.Redis, names: Names, fleet: Fleet) -> int:
    last_start = max(p.started_at for p in fleet.processes if p.role == "redis")
    found = await read_effects(client, names.redis_key("effects"))
    return sum(1 for effect in found if effect.at < last_start)
