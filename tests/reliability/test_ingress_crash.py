"""The ingress killed with SIGKILL under load, twice, and started again on its port: requests in
flight die with it, providers retry them, and still no 2xx is given for an event the broker does
not hold, and nothing runs twice."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import senders
from tests.reliability.conftest import Scale
from tests.reliability.load import Outcomes
from tests.reliability.procs import Fleet
from tests.reliability.scenario import settle_and_judge, start_workers, traffic_while
from tests.reliability.summary import SUMMARY

CRASHES = 2


async def test_ingress_killed_under_load_acks_only_what_is_queued(
    fleet: Fleet, settings: Settings, names: Names, scale: Scale, redis_client: aioredis.Redis
) -> None:
    ingress, port = fleet.ingress()
    workers = start_workers(fleet, 2)
    events = [senders.standard("rel.crash", {"n": n}) for n in range(scale.outage_events)]
    crashed: list[int] = []

    async def crash_the_ingress(progress: Outcomes) -> None:
        nonlocal ingress
        for number in range(1, CRASHES + 1):
            async with asyncio.timeout(120):
                while len(progress.acked) < number * len(events) / (CRASHES + 2):
                    await asyncio.sleep(0.02)
            crashed.append(ingress.pid)
            fleet.kill(ingress)
            ingress, _port = await asyncio.to_thread(fleet.ingress, port)
            fleet.restarts += 1

    outcomes = await traffic_while(port, events, crash_the_ingress)
    result = await settle_and_judge(fleet, workers, settings, names, redis_client, outcomes)
    verdict = result.verdict
    SUMMARY.add(verdict, events=len(events), restarts=CRASHES)
    broken = outcomes.statuses[0] + outcomes.statuses[503]
    print(f"ingress crashes: {len(crashed)}, {broken} requests without an answer or with a 503")

    assert len(crashed) == CRASHES
    assert broken > 0, "no request saw the crashes: the scenario did not bite"
    result.assert_acked_events_ran_once()
    assert outcomes.acked == {e.delivery_id for e in events}
