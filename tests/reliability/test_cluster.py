"""A three-node RabbitMQ cluster losing nodes under load: hookq moves to live nodes by itself.

The cluster is private (tests/support/rabbit_cluster.py: nodes hookqc1..3@localhost on
5701-5703, started once for this module and removed after it); ``HOOKQ_AMQP_URL`` names all
three nodes, so every process connects first to the first one up, which then also leads
the quorum queues its workers declare and holds the classic ones (dead letters, unrouted).
Redis is the shared one. Two tests:

- the node a worker and the ingress are connected to is SIGKILLed: the same worker process
  consumes again within seconds, the ingress answers 503 at most meanwhile and a 2xx only for
  an event the cluster holds; a worker started while that node is down (it holds the classic
  queues) starts all the same;
- the scenario: steady ingress traffic (a tenth of the events delivered twice, as providers
  retry) while the node leading the handlers' quorum queues is SIGKILLed and restarted (three
  times in the full run), then a node is stopped for good (once that leaves every queue a
  majority, as an operator checks first) and the traffic goes on with two.
  The node stopped for good is the one the ingress is connected to by then (the ingress moves
  as the archive stream may change writers), unless it holds the classic dead-letter and
  unrouted queues: they would go with it (docs/guarantees.md says what that costs), and the
  count of messages left over reads them; then the handlers' queues' leader, or a follower.
  Counted like the other scenarios: every 2xx event has its effect in each handler, no effect
  of an event never acknowledged unless its publish was in doubt (a 503 or a dropped
  connection), and no duplicate at all: no worker dies here, so there is no crash window.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import senders
from tests.reliability.conftest import FULL
from tests.reliability.load import RECORDER_NAMES, Outcomes, deliver, read_effects
from tests.reliability.procs import Fleet, Spawned
from tests.reliability.scenario import settle_and_judge, start_workers, worker_env
from tests.reliability.summary import SUMMARY
from tests.support.rabbit_cluster import RabbitCluster

# A worker's node killed: consuming again within this, measured from the kill (a reconnection
# interval, the quorum queues electing new leaders, the consumers re-created).
CONSUMES_AGAIN_WITHIN = 20.0


@dataclass(frozen=True)
class Plan:
    rate: float  # events sent per second
    leader_kills: int  # SIGKILL and restart of the handlers' queues' leader
    before_kill: float  # seconds of traffic before each kill (after the placement's check)
    after_restart: float  # seconds of traffic after the last restart, before the stop
    on_two: float  # seconds of traffic once a node is gone for good


PLAN = (
    Plan(rate=60, leader_kills=3, before_kill=6, after_restart=6, on_two=30)
    if FULL
    else Plan(rate=40, leader_kills=1, before_kill=0.5, after_restart=1, on_two=2)
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[RabbitCluster]:
    with RabbitCluster() as started:
        yield started


@pytest.fixture
def whole_cluster(cluster: RabbitCluster) -> RabbitCluster:
    """The cluster with every node running again (a test before may have left one down, or
    still starting): hookq's processes start on a whole cluster."""
    for node in cluster.nodes:
        cluster.launch(node.index)
    cluster.wait_whole()
    return cluster


@pytest.fixture
def settings(settings: Settings, whole_cluster: RabbitCluster) -> Settings:
    """The test's settings, on the cluster: every process of the fleet gets its nodes."""
    return settings.model_copy(update={"amqp_url": whole_cluster.url})


def logged(process: Spawned, *events: str) -> Iterator[dict[str, Any]]:
    """The process's JSON log lines of these events, in order."""
    for line in process.log_path.read_text(errors="replace").splitlines():
        if any(f'"{event}"' in line for event in events):
            yield json.loads(line)


def node_of(process: Spawned, cluster: RabbitCluster) -> int:
    """The node a process says it connected to last (its 'broker node connected' or
    'broker connection restored' log line)."""
    node = None
    for entry in logged(process, "broker node connected", "broker connection restored"):
        node = entry["node"]
    assert node is not None, f"no node in the log: {process.log_tail()}"
    return next(n.index for n in cluster.nodes if f":{n.amqp_port}/" in node)


async def effects_of(client: aioredis.Redis, key: str, delivery_id: str) -> set[str]:
    return {e.handler for e in await read_effects(client, key) if e.delivery_id == delivery_id}


async def test_a_worker_consumes_again_within_seconds_when_its_node_is_killed(
    fleet: Fleet,
    settings: Settings,
    names: Names,
    redis_client: aioredis.Redis,
    whole_cluster: RabbitCluster,
) -> None:
    cluster, key = whole_cluster, names.redis_key("effects")
    ingress, port = await asyncio.to_thread(fleet.ingress, HOOKQ_PUBLISH_TIMEOUT="2")
    (worker,) = await asyncio.to_thread(start_workers, fleet, 1)
    node = node_of(worker, cluster)
    assert node_of(ingress, cluster) == node
    outcomes = Outcomes()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        base = f"http://127.0.0.1:{port}"
        before = senders.standard("rel.node", {"n": 0})
        await deliver(session, base, before, outcomes)
        await asyncio.wait_for(until_effects(redis_client, key, before.delivery_id), 15)

        await asyncio.to_thread(cluster.settle)  # the ingress has just declared the archive
        killed_at = time.monotonic()
        await asyncio.to_thread(cluster.kill, node)
        after = senders.standard("rel.node", {"n": 1})
        await deliver(session, base, after, outcomes)  # 503s retried, as a provider does
        acked_in = time.monotonic() - killed_at
        await asyncio.wait_for(
            until_effects(redis_client, key, after.delivery_id), CONSUMES_AGAIN_WITHIN
        )
        consumed_in = time.monotonic() - killed_at
        # That node held the classic queues (dead letters, unrouted): a worker starting while
        # it is down starts all the same, without them.
        late = await asyncio.to_thread(fleet.worker, worker_env())
        assert '"classic queue unavailable: its node is down"' in late.log_path.read_text()

    print(
        f"node kill: worker consuming again {consumed_in:.1f} s after the kill (the event "
        f"acknowledged after {acked_in:.1f} s); answers {dict(outcomes.statuses)}"
    )
    cluster.launch(node)  # back for the next test, while this one ends
    assert worker.alive(), "the worker died with its node"
    assert node_of(worker, cluster) != node, "the worker did not move to another node"
    assert outcomes.acked == {before.delivery_id, after.delivery_id}
    assert set(outcomes.statuses) <= {200, 503, 0}, outcomes.statuses


def why_unacknowledged(missing: set[str], ingress: Spawned) -> str:
    """A provider gave up on some events: how many, and why the ingress said it did not
    confirm (its 503s' reasons, counted, and its last lines)."""
    reasons = Counter(
        entry.get("error", "?")[:120] for entry in logged(ingress, "broker did not confirm")
    )
    return (
        f"a provider gave up: {len(missing)} events never got a 2xx; the ingress's reasons "
        f"{dict(reasons.most_common(8))}; its log ends:\n{ingress.log_tail(40)}"
    )


async def until_effects(client: aioredis.Redis, key: str, delivery_id: str) -> None:
    while await effects_of(client, key, delivery_id) != set(RECORDER_NAMES):
        await asyncio.sleep(0.1)


@dataclass
class Traffic:
    """Events sent at a steady rate until stopped, each delivered as a provider would (503s
    and broken connections retried); every tenth delivered once more a moment later."""

    port: int
    rate: float
    outcomes: Outcomes = field(default_factory=Outcomes)
    sent: list[senders.Request] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        rng, base = random.Random(18), f"http://127.0.0.1:{self.port}"
        pending: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
            for n in itertools.count():
                if self.stop.is_set():
                    break
                request = senders.standard("rel.cluster", {"n": n})
                self.sent.append(request)
                pending.add(asyncio.create_task(deliver(session, base, request, self.outcomes)))
                if n % 10 == 0:
                    again = self._again(session, base, request, rng.uniform(0.1, 2.0))
                    pending.add(asyncio.create_task(again))
                await asyncio.sleep(1 / self.rate)
                pending = {task for task in pending if not task.done()}
            await asyncio.gather(*pending)

    async def _again(
        self, session: aiohttp.ClientSession, base: str, request: senders.Request, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        await deliver(session, base, request, self.outcomes)


@dataclass
class NodeLosses:
    """The scenario's faults, in order, with what they hit (printed in the report)."""

    cluster: RabbitCluster
    queue: str  # a handler's quorum queue, whose leader is killed
    classic_home: int | None  # the node holding the classic queues (dead letters, unrouted)
    ingress: Spawned
    log: list[str] = field(default_factory=list)
    kills: int = 0
    stops: int = 0

    async def run(self, plan: Plan) -> None:
        for _ in range(plan.leader_kills):
            await asyncio.sleep(plan.before_kill)
            leader = await self._leader()
            await asyncio.to_thread(self.cluster.settle)  # the archive stream is seconds old
            await asyncio.to_thread(self.cluster.kill, leader)
            self.kills += 1
            started = time.monotonic()
            await asyncio.to_thread(self.cluster.start_node, leader)
            back_in = time.monotonic() - started
            members = await asyncio.to_thread(self.cluster.coordinator_members)
            self.log.append(
                f"killed {self._name(leader)} (leader), back in {back_in:.1f} s"
                + ("" if leader in members else " without its stream coordinator member")
            )
        await asyncio.sleep(plan.after_restart)
        # The ingress's node: the ingress moves while the archive stream's writer may be moving
        # too (docs/reliability.md, "Stuck nacks"). Unless the classic queues would go with it:
        # then the handlers' queues' leader, or a follower if it holds them too.
        gone = node_of(self.ingress, self.cluster)
        if gone == self.classic_home:
            gone = await self._leader()
        if gone == self.classic_home:
            gone = next(n.index for n in self.cluster.nodes if n.index != gone)
        # As an operator would: not while that would leave a queue without a majority (the
        # node restarted last may still be catching up).
        waited = time.monotonic()
        async with asyncio.timeout(60):
            while await asyncio.to_thread(self.cluster.quorum_critical, gone):
                await asyncio.sleep(0.5)
        waited = time.monotonic() - waited
        await asyncio.to_thread(self.cluster.stop, gone)
        self.stops += 1
        self.log.append(f"stopped {self._name(gone)} for good (quorum-safe after {waited:.1f} s)")
        await asyncio.sleep(plan.on_two)

    async def _leader(self) -> int:
        async with asyncio.timeout(30):
            while (leader := await asyncio.to_thread(self.cluster.leader, self.queue)) is None:
                await asyncio.sleep(0.5)
        return leader

    def _name(self, index: int) -> str:
        return self.cluster.nodes[index].name


async def test_cluster_loses_nodes_under_load_without_losing_an_event(
    fleet: Fleet,
    settings: Settings,
    names: Names,
    redis_client: aioredis.Redis,
    whole_cluster: RabbitCluster,
) -> None:
    cluster = whole_cluster
    ingress, port = await asyncio.to_thread(fleet.ingress, HOOKQ_PUBLISH_TIMEOUT="2")
    workers = await asyncio.to_thread(start_workers, fleet, 2)
    queues = [names.handler_queue(name) for name in RECORDER_NAMES]
    traffic = Traffic(port, PLAN.rate)
    sending = asyncio.create_task(traffic.run())
    try:
        # Asked while the traffic flows (each rabbitmqctl call takes a second or two here).
        placement = await asyncio.to_thread(cluster.quorum_queues)
        everywhere = [node.index for node in cluster.nodes]
        assert all(placement[queue][1] == everywhere for queue in queues), placement
        home = await asyncio.to_thread(cluster.home, names.unrouted_queue)
        losses = NodeLosses(cluster, queues[0], home, ingress)
        await losses.run(PLAN)
    finally:
        traffic.stop.set()
        await sending
    assert ingress.alive(), "the ingress died with a node"
    assert all(worker.alive() for worker in workers), "a worker died with a node"
    result = await settle_and_judge(fleet, workers, settings, names, redis_client, traffic.outcomes)

    verdict, outcomes = result.verdict, traffic.outcomes
    events = {request.delivery_id for request in traffic.sent}
    SUMMARY.add_cluster(verdict, len(events), losses.kills, losses.stops)
    print(
        f"cluster: {len(events)} events, {'; '.join(losses.log)}; answers "
        f"{dict(outcomes.statuses)}, {len(outcomes.ambiguous)} never acknowledged"
    )
    placement = await asyncio.to_thread(cluster.quorum_queues)
    assert all(placement[queue][0] in cluster.running() for queue in queues), placement
    assert outcomes.acked == events, why_unacknowledged(events - outcomes.acked, ingress)
    result.assert_acked_events_ran_once()
