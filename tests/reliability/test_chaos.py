"""Workers killed with SIGKILL while events flow: nothing acknowledged is lost, and every second
effect is explained by a kill.

The real processes: one ingress, two or more workers running two recording handlers, the shared
RabbitMQ and Redis. A tenth of the events is delivered twice, as providers retry. Each time the
effects pass one of evenly spaced marks, a busy worker is killed (its pid and the time recorded)
and a new one started.
"""

from __future__ import annotations

import asyncio
import random

import redis.asyncio as aioredis

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import senders
from tests.reliability.conftest import Scale
from tests.reliability.ledger import Effect
from tests.reliability.load import RECORDER_NAMES, Outcomes, with_retries_of
from tests.reliability.procs import RSS_BOUND, WORKER_READY, Fleet, Kill, Spawned
from tests.reliability.scenario import settle_and_judge, start_workers, traffic_while, worker_env
from tests.reliability.summary import SUMMARY

# Slower than the ingress: a backlog builds, so each kill lands on a busy worker.
EFFECT_DELAY = {"HOOKQ_TEST_EFFECT_DELAY": "0.05"}


def consuming(worker: Spawned) -> bool:
    return worker.alive() and WORKER_READY in worker.log_path.read_text(errors="replace")


def mid_flight(kill: Kill, effects: list[Effect], window: float = 1.0) -> bool:
    """The killed worker had made an effect within ``window`` seconds before its kill."""
    return any(e.pid == kill.pid and kill.at - window <= e.at <= kill.at for e in effects)


class Chaos:
    """Kills a consuming worker each time the effects pass the next of ``kills`` evenly spaced
    marks (so every kill lands while the backlog is being processed, however fast this machine
    is), and starts a new worker in its place."""

    def __init__(
        self, fleet: Fleet, workers: list[Spawned], client: aioredis.Redis, key: str
    ) -> None:
        self.fleet, self.workers, self.client, self.key = fleet, workers, client, key
        self.rng = random.Random(7)

    async def run(self, expected_effects: int, kills: int) -> None:
        for mark in range(1, kills + 1):
            async with asyncio.timeout(180):  # the workers are stuck: fail, do not hang
                while await self.client.llen(self.key) < mark * expected_effects / (kills + 1):
                    await asyncio.sleep(0.05)
                while not (ready := [w for w in self.workers if consuming(w)]):
                    await asyncio.sleep(0.05)
            victim = self.rng.choice(ready)
            self.fleet.kill(victim)
            self.workers.remove(victim)
            self.workers.append(self.fleet.worker(worker_env(**EFFECT_DELAY), wait=False))
            self.fleet.restarts += 1


async def test_sigkilled_workers_lose_nothing_and_duplicate_only_on_kills(
    fleet: Fleet, settings: Settings, names: Names, scale: Scale, redis_client: aioredis.Redis
) -> None:
    ingress, port = fleet.ingress()
    workers = start_workers(fleet, 3 if scale.full else 2, **EFFECT_DELAY)
    events = [senders.standard("rel.chaos", {"n": n}) for n in range(scale.events)]
    traffic = with_retries_of(events, every=10, rng=random.Random(3))
    chaos = Chaos(fleet, workers, redis_client, names.redis_key("effects"))

    async def kill_workers(_outcomes: Outcomes) -> None:
        await chaos.run(len(events) * len(RECORDER_NAMES), scale.kills)

    outcomes = await traffic_while(port, traffic, kill_workers)
    assert ingress.rss_bytes() < RSS_BOUND, "the ingress outgrew its memory bound under load"
    result = await settle_and_judge(fleet, workers, settings, names, redis_client, outcomes)

    verdict = result.verdict
    SUMMARY.add(verdict, events=len(events), kills=len(fleet.kills), restarts=fleet.restarts)
    landed = sum(mid_flight(kill, result.effects) for kill in fleet.kills)
    print(f"chaos: {verdict.duplicated} duplicates, {landed}/{len(fleet.kills)} kills mid-flight")

    assert not outcomes.refused, f"events refused: {list(outcomes.refused.items())[:3]}"
    assert outcomes.acked == {e.delivery_id for e in events}, "the ingress did not ack them all"
    assert len(fleet.kills) >= scale.kills
    assert landed >= scale.kills // 2, "most kills missed the workers' processing"
    assert not result.left, f"messages left over (dead-lettered or stuck): {result.left}"
    assert not verdict.lost, verdict.problems()
    kills = [(kill.pid, round(kill.at, 3)) for kill in fleet.kills]
    outran = sum(
        p.log_path.read_text(errors="replace").count("claim lost") for p in fleet.processes
    )
    assert not verdict.unexplained, (
        f"{verdict.problems()}; kills (pid, time): {kills}; "
        f"'claim lost' (a lease lapsed under a live run) logged {outran} times"
    )
    assert not verdict.unexpected, verdict.problems()
