"""The dedupe store behind Redis Sentinel, its primary SIGKILLed under load: nothing is lost, and
the duplicates a failover can cost (done marks the replica had not received yet) are counted.

A primary, a replica and three sentinels run on this machine (``tests.reliability.sentinels``);
the workers reach them with ``HOOKQ_REDIS_URL=redis+sentinel://...``. The traffic carries
providers' retries, some arriving after the failover: the retry of an event whose done mark
died with the primary runs again. That is the cost docs/guarantees.md states; any other
duplicate fails the test. CI fails over once; the full run (``HOOKQ_RELIABILITY_FULL=1``)
brings the old primary back as a replica and fails over a second time, back to it.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path

import redis.asyncio as aioredis

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import senders
from tests.reliability.conftest import Scale
from tests.reliability.ledger import Effect
from tests.reliability.load import RECORDER_NAMES, Outcomes, with_retries_of
from tests.reliability.procs import Fleet
from tests.reliability.scenario import settle_and_judge, start_workers, traffic_while
from tests.reliability.sentinels import Failover, SentinelGroup
from tests.reliability.summary import SUMMARY


async def test_a_redis_failover_under_load_loses_nothing_and_counts_its_duplicates(
    fleet: Fleet,
    settings: Settings,
    names: Names,
    scale: Scale,
    redis_client: aioredis.Redis,
    tmp_path: Path,
) -> None:
    group = SentinelGroup(fleet, tmp_path)
    await group.start()
    _ingress, port = fleet.ingress()
    # Slow effects: a backlog is in flight in the workers when the primary dies.
    workers = start_workers(fleet, 2, HOOKQ_REDIS_URL=group.url, HOOKQ_TEST_EFFECT_DELAY="0.03")
    events = [senders.standard("rel.failover", {"n": n}) for n in range(scale.outage_events)]
    expected = len(events) * 2  # effects: two recording handlers
    shares = [0.25, 0.6] if scale.full else [0.3]

    async def fail_over(_outcomes: Outcomes) -> None:
        key = names.redis_key("effects")
        for index, share in enumerate(shares):
            async with asyncio.timeout(120):  # the workers are stuck: fail, do not hang
                while await redis_client.llen(key) < share * expected:
                    await asyncio.sleep(0.05)
            failover = await group.fail_over()
            if index + 1 < len(shares):
                await group.bring_back(failover.killed_port)

    traffic = with_retries_of(events, every=10, rng=random.Random(18))
    outcomes = await traffic_while(port, traffic, fail_over)
    result = await settle_and_judge(fleet, workers, settings, names, redis_client, outcomes)
    verdict = result.verdict
    # The done marks the failovers lost and no later run wrote again: a provider's retry of
    # one of these events, arriving now, would run it a second time.
    keys = [
        names.redis_key("dedupe", handler, "standard", "rel.failover", "0", delivery_id)
        for handler in RECORDER_NAMES
        for delivery_id in sorted(outcomes.acked)
    ]
    marks_lost = sum(1 for value in await group.values(keys) if value != b"done")
    SUMMARY.add_failover(verdict, len(events), len(group.failovers), marks_lost)
    print(
        f"redis failovers: {[(round(f.seconds, 1), f.unreplicated) for f in group.failovers]} "
        f"(seconds to a new primary, replication bytes unacknowledged at the kill); "
        f"duplicated: {verdict.duplicated}; done marks lost: {marks_lost} of {len(keys)}"
    )

    assert len(group.failovers) == len(shares)
    first_kill = group.failovers[0].at
    before = sum(1 for e in result.effects if e.kind == "effect" and e.at < first_kill)
    assert 0 < before < expected, "the failover did not happen during the processing"
    assert outcomes.acked == {e.delivery_id for e in events}
    assert not verdict.lost, verdict.problems()
    assert not verdict.unexpected, verdict.problems()
    assert not result.left, f"messages left over: {result.left}"
    # A duplicate is a run before a failover and one after it: its done mark died unreplicated.
    unexplained = [
        key for key, runs in _runs(result.effects).items() if not _across(runs, group.failovers)
    ]
    assert not unexplained, f"duplicates no failover explains: {unexplained[:3]}"


def _runs(effects: list[Effect]) -> dict[tuple[str, str], list[Effect]]:
    runs: dict[tuple[str, str], list[Effect]] = {}
    for effect in sorted(effects, key=lambda e: e.at):
        if effect.kind == "effect":
            runs.setdefault((effect.handler, effect.delivery_id), []).append(effect)
    return {key: found for key, found in runs.items() if len(found) > 1}


def _across(runs: list[Effect], failovers: list[Failover]) -> bool:
    return all(
        any(first.at <= f.at <= following.at for f in failovers)
        for first, following in itertools.pairwise(runs)
    )
