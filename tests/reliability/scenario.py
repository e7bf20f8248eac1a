"""The shape every fault scenario shares: start an ingress and workers, send traffic while
something is broken on purpose, then let the system settle and judge what it did."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from hookq.handlers.api import HandlerSpec
from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import senders
from tests.reliability.ledger import Effect, Verdict, judge
from tests.reliability.load import (
    RECORDERS,
    Outcomes,
    leftover_messages,
    read_effects,
    send_all,
    wait_for_effects,
)
from tests.reliability.procs import Fleet, Spawned

# Above every test handler timeout (2 s) with room for a busy machine stalling a worker: a
# lease that lapses under a live run lets another worker run it too.
CLAIM_LEASE = 5.0


def worker_env(**extra: str) -> dict[str, str]:
    """Workers running the recording handlers only, with a short claim lease."""
    return {
        "HOOKQ_HANDLER_MODULES": "tests.reliability.effects",
        "HOOKQ_BUILTIN_HANDLERS": "",
        "HOOKQ_CLAIM_LEASE": str(CLAIM_LEASE),
        "HOOKQ_PREFETCH": "4",
        **extra,
    }


def start_workers(fleet: Fleet, count: int, **env: str) -> list[Spawned]:
    workers = [fleet.worker(worker_env(**env), wait=False) for _ in range(count)]
    for worker in workers:
        fleet.wait_consuming(worker)
    return workers


async def traffic_while(
    port: int,
    requests: Sequence[senders.Request],
    disrupt: Callable[[Outcomes], Coroutine[Any, Any, None]],
) -> Outcomes:
    """Send ``requests`` while ``disrupt`` runs; it sees the answers as they come (to time its
    faults by the traffic's progress) and is awaited before returning."""
    outcomes = Outcomes()
    disrupting = asyncio.create_task(disrupt(outcomes))
    try:
        await send_all(f"http://127.0.0.1:{port}", requests, outcomes=outcomes)
    finally:
        await disrupting
    return outcomes


@dataclass
class Result:
    outcomes: Outcomes
    effects: list[Effect]
    verdict: Verdict
    left: dict[str, int]

    def assert_acked_events_ran_once(self) -> None:
        """Nothing refused, no 2xx without its event, no effect twice or unexpected, and no
        message left in a queue."""
        outcomes, verdict = self.outcomes, self.verdict
        assert not outcomes.refused, f"events refused: {list(outcomes.refused.items())[:3]}"
        assert not verdict.lost, f"2xx without the event in the broker: {verdict.problems()}"
        assert verdict.duplicated == 0, f"an effect ran twice: {verdict.problems()}"
        assert not verdict.unexpected, verdict.problems()
        assert not self.left, f"messages left over: {self.left}"


async def settle_and_judge(
    fleet: Fleet,
    workers: Sequence[Spawned],
    settings: Settings,
    names: Names,
    redis_client: aioredis.Redis,
    outcomes: Outcomes,
    specs: Sequence[HandlerSpec] = RECORDERS,
    timeout: float = 180.0,
) -> Result:
    """Wait for the acked events' effects and for stragglers, stop the workers cleanly and
    count what is left in the queues."""
    key, handlers = names.redis_key("effects"), [spec.name for spec in specs]
    await wait_for_effects(redis_client, key, outcomes.acked, handlers, timeout)
    # Then time for stragglers (a late duplicate would show here): after a kill, a lease more,
    # as a dead worker's redelivered messages wait for its claim to lapse.
    await asyncio.sleep(CLAIM_LEASE + 2 if fleet.kills else 2)
    for worker in workers:
        if worker.alive():
            # In a thread: a proxy in this event loop may carry the worker's broker connection.
            code = await asyncio.to_thread(fleet.stop, worker)
            assert code == 0, f"worker did not stop cleanly: {worker.log_tail()}"
    left = await leftover_messages(settings.amqp_url, names, specs)
    found = await read_effects(redis_client, key)
    verdict = judge(outcomes.acked, handlers, found, fleet.kills, outcomes.ambiguous)
    return Result(outcomes, found, verdict, left)
