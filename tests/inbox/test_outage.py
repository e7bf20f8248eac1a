"""PostgreSQL restarted under a worker's transactional handlers: they pause (``/readyz`` says
why), resume by themselves, and every event has its effect once. And a worker whose handlers
are all transactional runs without Redis."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import pytest
from aio_pika.abc import AbstractChannel
from structlog.testing import capture_logs

from hookq.handlers.api import HandlerContext
from hookq.inbox.migrations import migrate
from hookq.settings import Settings
from hookq.topology import Names
from hookq.worker.outcomes import Outcome
from hookq.worker.runner import Worker
from tests.inbox.conftest import create_effects
from tests.inbox.private_postgres import PrivatePostgres
from tests.inbox.support import effect_spec, effects
from tests.support.events import eventually, outcome_count, publish_event, standard_body
from tests.support.redis_server import free_port
from tests.worker.conftest import StartWorker

EVENTS = 60


async def _pause(_ctx: HandlerContext) -> None:
    await asyncio.sleep(0.05)  # a backlog is in flight when PostgreSQL goes


@pytest.mark.parametrize("hard", [False, True], ids=["fast-shutdown", "immediate-crash"])
async def test_a_postgres_restart_pauses_transactional_handlers_which_resume_by_themselves(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    hard: bool,
) -> None:
    with PrivatePostgres() as server, capture_logs() as logs:
        own = settings.model_copy(update={"postgres_url": server.url})
        db = await asyncpg.connect(server.url)
        await migrate(db, own.namespace)
        await create_effects(db, own.namespace)
        await db.close()
        spec = effect_spec("tx-outage", own.namespace, then=_pause, timeout=5.0, max_attempts=2)
        worker = await start_worker(own, spec, prefetch=8)
        for n in range(EVENTS):
            await publish_event(channel, names, f"evt-{n}", standard_body())

        await eventually(lambda: _effects_at_least(server.url, own.namespace, EVENTS // 4))
        await asyncio.to_thread(server.stop, hard)
        await eventually(lambda: "postgresql unavailable" in worker.not_ready(), timeout=15)
        await asyncio.sleep(1.0)  # paused, not failing: nothing is retried or dead-lettered
        assert outcome_count(worker.metrics, "tx-outage", Outcome.DEAD) == 0
        await asyncio.to_thread(server.start)

        await eventually(lambda: _effects_at_least(server.url, own.namespace, EVENTS), 60)
        await eventually(lambda: worker.not_ready() == [], timeout=15)
        db = await asyncpg.connect(server.url)
        try:
            found = Counter(r["delivery_id"] for r in await effects(db, own.namespace, "tx-outage"))
        finally:
            await db.close()
    assert found == Counter({f"evt-{n}": 1 for n in range(EVENTS)})
    assert outcome_count(worker.metrics, "tx-outage", Outcome.RETRIED) == 0  # none counted
    assert outcome_count(worker.metrics, "tx-outage", Outcome.DEAD) == 0
    events = [entry["event"] for entry in logs]
    assert any(e.startswith("postgresql unavailable: pausing") for e in events)
    assert any(e.startswith("postgresql available again") for e in events)


async def _effects_at_least(url: str, namespace: str, n: int) -> bool:
    try:
        db = await asyncpg.connect(url, timeout=2)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        return len(await effects(db, namespace, "tx-outage")) >= n
    finally:
        await db.close()


async def test_a_worker_of_transactional_handlers_only_needs_no_redis(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    no_redis = migrated.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    worker = await start_worker(no_redis, effect_spec("tx-alone", migrated.namespace))
    await publish_event(channel, names, "evt-a", standard_body())

    await eventually(lambda: outcome_count(worker.metrics, "tx-alone", Outcome.PROCESSED) == 1)
    assert worker.not_ready() == []
    assert len(await effects(db, migrated.namespace, "tx-alone")) == 1


async def test_a_worker_waiting_for_postgres_says_so(settings: Settings) -> None:
    down = settings.model_copy(
        update={"postgres_url": f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"}
    )
    spec = effect_spec("tx-wait", settings.namespace)
    worker = Worker(down, {spec.name: spec})
    starting = asyncio.create_task(worker.start())
    try:
        await asyncio.sleep(0.5)
        assert worker.not_ready() == ["starting: waiting for PostgreSQL and the broker"]
        assert not starting.done()
    finally:
        starting.cancel()
        await worker.close()
