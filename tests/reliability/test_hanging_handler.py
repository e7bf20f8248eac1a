"""A handler that hangs: its timeout fires, the event is retried (and succeeds), and the other
events keep flowing through the same handler meanwhile."""

from __future__ import annotations

import redis.asyncio as aioredis

from hookq.handlers.api import spec_of
from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import hanging, senders
from tests.reliability.load import Outcomes
from tests.reliability.procs import Fleet
from tests.reliability.scenario import settle_and_judge, start_workers, traffic_while
from tests.reliability.summary import SUMMARY

HANGING = 5
FLOWING = 60


async def nothing_broken(_outcomes: Outcomes) -> None:
    """The fault here is the handler itself."""


async def test_hanging_handler_times_out_is_retried_and_others_flow(
    fleet: Fleet, settings: Settings, names: Names, redis_client: aioredis.Redis
) -> None:
    spec = spec_of(hanging.sometimes_hangs)
    assert spec is not None
    _ingress, port = fleet.ingress()
    workers = start_workers(
        fleet, 1, HOOKQ_HANDLER_MODULES="tests.reliability.hanging", HOOKQ_PREFETCH="8"
    )
    hang = [senders.standard("rel.hang", {"hang": True, "n": n}) for n in range(HANGING)]
    flow = [senders.standard("rel.flow", {"n": n}) for n in range(FLOWING)]
    # The hanging events go first, so they hold their slots while the others arrive.
    outcomes = await traffic_while(port, hang + flow, nothing_broken)
    result = await settle_and_judge(
        fleet, workers, settings, names, redis_client, outcomes, specs=[spec]
    )
    SUMMARY.add(result.verdict, events=HANGING + FLOWING)

    hang_ids = {r.delivery_id for r in hang}
    started = {e.delivery_id: e.at for e in result.effects if e.kind == "hang"}
    finished = {
        e.delivery_id: e for e in result.effects if e.kind == "effect" and e.delivery_id in hang_ids
    }
    assert set(started) == hang_ids, "not every marked event hung on its first run"
    assert all(e.attempt >= 2 for e in finished.values()), "a hung run completed without a retry"
    first_hang = min(started.values())
    first_retry = min(e.at for e in finished.values())
    flowed = [
        e
        for e in result.effects
        if e.kind == "effect" and e.delivery_id not in hang_ids and first_hang < e.at < first_retry
    ]
    print(f"hanging handler: {len(flowed)} other events completed while {HANGING} hung")
    assert flowed, "no other event completed while the handler hung"
    logs = "".join(w.log_path.read_text(errors="replace") for w in workers)
    timeouts = [line for line in logs.splitlines() if "handler failed: retrying" in line]
    assert len(timeouts) >= HANGING, "the worker did not report each hung run as failed"
    assert all("Timeout" in line for line in timeouts), "a hung run failed other than by timeout"
    assert not result.verdict.lost, result.verdict.problems()
    assert result.verdict.duplicated == 0, result.verdict.problems()
    assert not result.left, f"messages left over: {result.left}"
