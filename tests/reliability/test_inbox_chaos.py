"""Transactional handlers under SIGKILL: every effect exactly once, with no exception for kills.

The real processes: one ingress, two or three workers running only the transactional recording
handler (``tests.reliability.inbox_effects``: each effect a row written through ``ctx.db``), the
shared RabbitMQ and PostgreSQL; the workers' Redis URL points at nothing (an all-transactional
worker needs none). A tenth of the events is delivered twice, as providers retry. Workers are
SIGKILLed, each time replaced by a new one:

- while a transaction is open: marked events hold theirs open after writing the effect, and the
  worker that announces it is killed then (its effect must vanish, another worker's remain);
- between commit and ack: marked events pause in a worker hook after their commit, and the
  worker is killed then (its effect must remain, and the redelivery must not run it again);
- at evenly spaced marks of the effects, wherever the worker is.

Then every acknowledged event must have exactly one effect row: ``judge`` with no kills to
explain anything away.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import orjson
import redis.asyncio as aioredis

from hookq.handlers.api import HandlerSpec, spec_of
from hookq.inbox.migrations import migrate
from hookq.inbox.schema import quoted
from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import inbox_effects, senders
from tests.reliability.conftest import Scale
from tests.reliability.ledger import Effect, judge
from tests.reliability.load import Outcomes, leftover_messages, with_retries_of
from tests.reliability.procs import Fleet, Spawned, free_port
from tests.reliability.scenario import traffic_while
from tests.reliability.summary import SUMMARY

SPECS: Sequence[HandlerSpec] = tuple(
    spec for spec in (spec_of(inbox_effects.record_tx),) if spec is not None
)


@dataclass
class Plan:
    """Which events are marked, and the kills made so far, by kind."""

    holds: set[str]
    pauses: set[str]
    random_marks: list[float]  # shares of the effects at which a random worker is killed
    killed: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # kind -> (id, pid)

    def kills(self, kind: str) -> int:
        return len(self.killed.get(kind, []))


def traffic(scale: Scale) -> tuple[list[senders.Request], Plan]:
    per_kind = 3 if scale.full else 2
    events = scale.events * 2 if scale.full else 2000
    # Marked events spread over the run, so that kills land while the backlog is processed.
    holds = {int(events * (k + 1) / (per_kind + 2)) for k in range(per_kind)}
    pauses = {i + events // 10 for i in holds}
    requests = [
        senders.standard("rel.tx", {"n": n, "hold": n in holds, "pause_after_commit": n in pauses})
        for n in range(events)
    ]
    plan = Plan(
        holds={requests[i].delivery_id for i in holds},
        pauses={requests[i].delivery_id for i in pauses},
        random_marks=[(k + 0.5) / (per_kind + 1) for k in range(per_kind)],
    )
    return requests, plan


class Killer:
    def __init__(
        self, fleet: Fleet, workers: list[Spawned], env: dict[str, str], plan: Plan
    ) -> None:
        self.fleet, self.workers, self.env, self.plan = fleet, workers, env, plan
        self.rng = random.Random(11)

    def kill(self, victim: Spawned, kind: str, delivery_id: str) -> None:
        self.fleet.kill(victim)
        self.plan.killed.setdefault(kind, []).append((delivery_id, victim.pid))
        self.workers.remove(victim)
        self.workers.append(self.fleet.worker(self.env, wait=False))
        self.fleet.restarts += 1

    async def run(
        self, redis: aioredis.Redis, markers: str, db: asyncpg.Connection, schema: str, total: int
    ) -> None:
        seen = 0
        marks = list(self.plan.random_marks)
        wanted = len(self.plan.holds) + len(self.plan.pauses) + len(marks)
        async with asyncio.timeout(240):  # the workers are stuck: fail, do not hang
            while sum(len(k) for k in self.plan.killed.values()) < wanted:
                for raw in await redis.lrange(markers, seen, -1):
                    seen += 1
                    marker = orjson.loads(raw)
                    victim = next((w for w in self.workers if w.pid == marker["pid"]), None)
                    if victim is not None:
                        self.kill(victim, marker["k"], marker["d"])
                    else:
                        # A random kill took it between its announcement and our reading of
                        # it: in that very moment all the same.
                        assert any(k.pid == marker["pid"] for k in self.fleet.kills), marker
                        self.plan.killed.setdefault(marker["k"], []).append(
                            (marker["d"], marker["pid"])
                        )
                if marks and await _count(db, schema) >= marks[0] * total:
                    marks.pop(0)
                    ready = [w for w in self.workers if w.alive() and consuming(w)]
                    if ready:
                        self.kill(self.rng.choice(ready), "random", "")
                await asyncio.sleep(0.02)


def consuming(worker: Spawned) -> bool:
    return '"worker consuming"' in worker.log_path.read_text(errors="replace")


async def _count(db: asyncpg.Connection, schema: str) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {quoted(schema)}.rel_effects"))


async def read_effects(db: asyncpg.Connection, schema: str) -> list[Effect]:
    rows = await db.fetch(f"SELECT * FROM {quoted(schema)}.rel_effects ORDER BY at")
    return [Effect(r["handler"], r["delivery_id"], r["pid"], r["at"], r["attempt"]) for r in rows]


async def test_transactional_effects_are_exactly_once_across_sigkills(
    fleet: Fleet,
    settings: Settings,
    names: Names,
    scale: Scale,
    redis_client: aioredis.Redis,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    schema = settings.namespace
    db = await asyncpg.connect(postgres_url)
    try:
        await migrate(db, schema)
        await db.execute(
            f"CREATE TABLE {quoted(schema)}.rel_effects (handler text NOT NULL,"
            " delivery_id text NOT NULL, pid integer NOT NULL, attempt integer NOT NULL,"
            " at double precision NOT NULL)"
        )
        markers = names.redis_key("tx-markers")
        env = {
            "HOOKQ_HANDLER_MODULES": "tests.reliability.inbox_effects",
            "HOOKQ_BUILTIN_HANDLERS": "",
            "HOOKQ_HOOKS": "tests.reliability.inbox_effects:PauseAfterCommit",
            "HOOKQ_POSTGRES_URL": postgres_url,
            "HOOKQ_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing there
            "HOOKQ_CLAIM_LEASE": "10",
            "HOOKQ_PREFETCH": "4",
            inbox_effects.MARKERS: markers,
            inbox_effects.EFFECT_DELAY: "0.01",
        }
        _ingress, port = fleet.ingress()
        workers = [fleet.worker(env, wait=False) for _ in range(3 if scale.full else 2)]
        for worker in workers:
            fleet.wait_consuming(worker)
        requests, plan = traffic(scale)
        sent = with_retries_of(requests, every=10, rng=random.Random(5))
        killer = Killer(fleet, workers, env, plan)

        async def kill_workers(_outcomes: Outcomes) -> None:
            await killer.run(redis_client, markers, db, schema, len(requests))

        outcomes = await traffic_while(port, sent, kill_workers)
        effects = await _settle(db, schema, outcomes.acked, timeout=180)
        for worker in workers:
            code = await asyncio.to_thread(fleet.stop, worker)
            assert code == 0, f"worker did not stop cleanly: {worker.log_tail()}"
        left = await leftover_messages(settings.amqp_url, names, SPECS)
        effects = await read_effects(db, schema)
    finally:
        await db.close()

    # No kill explains anything away: exactly once.
    verdict = judge(outcomes.acked, [inbox_effects.NAME], effects, (), outcomes.ambiguous)
    SUMMARY.add_transactional(verdict, events=len(requests), kills=len(fleet.kills))
    print(
        f"transactional: {len(requests)} events, {len(fleet.kills)} kills "
        f"{ {kind: len(k) for kind, k in plan.killed.items()} }, "
        f"{len(verdict.lost)} lost, {verdict.duplicated} duplicated"
    )
    assert not outcomes.refused, f"events refused: {list(outcomes.refused.items())[:3]}"
    assert outcomes.acked == {r.delivery_id for r in requests}
    assert len(fleet.kills) >= 5
    assert plan.kills("holding") == len(plan.holds)
    assert plan.kills("committed") == len(plan.pauses)
    assert not left, f"messages left over (dead-lettered or stuck): {left}"
    assert not verdict.lost, verdict.problems()
    assert verdict.duplicated == 0, verdict.problems()
    assert not verdict.unexpected, verdict.problems()
    by_id = {e.delivery_id: e for e in effects}
    for delivery_id, pid in plan.killed["holding"]:
        # Killed with its transaction open: its effect vanished, another worker's stands.
        assert by_id[delivery_id].pid != pid
    for delivery_id, pid in plan.killed["committed"]:
        # Killed after its commit, before its ack: its effect stands, and was not made again.
        assert by_id[delivery_id].pid == pid


async def _settle(
    db: asyncpg.Connection, schema: str, acked: set[str], timeout: float
) -> list[Effect]:
    """Until every acked event has an effect, then a few seconds for a late duplicate."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        found = await read_effects(db, schema)
        if acked <= {e.delivery_id for e in found}:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(3.0)
    return await read_effects(db, schema)
