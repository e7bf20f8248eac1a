"""``hookq worker`` processes with a transactional handler: two workers holding one event, a
worker killed with its transaction open, and a worker refusing to start without its schema."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sized
from pathlib import Path

import asyncpg
import pytest
from aio_pika.abc import AbstractChannel

from hookq.handlers.api import spec_of
from hookq.inbox.migrations import SchemaError, migrate
from hookq.inbox.schema import quoted
from hookq.settings import Settings
from hookq.topology import Names
from hookq.worker.runner import Worker
from tests.inbox.handlers import tx_recorder
from tests.inbox.support import effects
from tests.support.events import eventually, publish_event, ready_count, standard_body
from tests.support.workers import WorkerProcess, run_worker_command, worker_env

HANDLERS = "tests.inbox.handlers"


def env(settings: Settings, **extra: str) -> dict[str, str]:
    assert settings.postgres_url is not None
    return worker_env(
        settings,
        handler_modules=HANDLERS,
        HOOKQ_POSTGRES_URL=settings.postgres_url,
        HOOKQ_CLAIM_LEASE="10",
        **extra,
    )


async def starts(db: asyncpg.Connection, namespace: str) -> list[asyncpg.Record]:
    return await db.fetch(f"SELECT * FROM {quoted(namespace)}.starts ORDER BY at")


async def waiting_on_a_row(db: asyncpg.Connection) -> bool:
    """A hookq session is blocked on another transaction's lock (the inbox row's)."""
    waiting = await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hookq'"
        " AND wait_event_type = 'Lock'"
    )
    return bool(waiting)


async def test_two_workers_holding_one_event_run_it_once_the_second_waiting_for_the_first(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    ns = migrated.namespace
    with (
        WorkerProcess.start(env(migrated), tmp_path / "w1.log", "--prefetch", "1") as first,
        WorkerProcess.start(env(migrated), tmp_path / "w2.log", "--prefetch", "1") as second,
    ):
        first.wait_ready()
        second.wait_ready()
        # Two deliveries of one event at once (a provider's retry): one to each worker.
        for _ in range(2):
            await publish_event(channel, names, "evt-2w", standard_body(sleep=2.0))

        await eventually(lambda: waiting_on_a_row(db), timeout=15)
        await eventually(lambda: _count(effects(db, ns, "tx-recorder"), 1), timeout=15)
        await eventually(lambda: _not(waiting_on_a_row(db)), timeout=15)
        await asyncio.sleep(1.0)  # time for a wrong second run to show
        runs = await starts(db, ns)
        assert len(runs) == 1, runs  # never beside the other, and not after it either
        assert len(await effects(db, ns, "tx-recorder")) == 1
        first.terminate()
        second.terminate()
        assert first.wait() == second.wait() == 0
    # Both deliveries were acked (a SIGTERM requeues what is not).
    assert await ready_count(channel, names.handler_queue("tx-recorder")) == 0


async def test_a_worker_killed_with_its_transaction_open_leaves_no_effect_and_another_runs_it(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    ns = migrated.namespace
    with WorkerProcess.start(env(migrated), tmp_path / "victim.log") as victim:
        victim.wait_ready()
        await publish_event(channel, names, "evt-k", standard_body(sleep_first=30))
        await eventually(lambda: _count(starts(db, ns), 1), timeout=15)
        # The effect is written, the transaction open: killed now.
        victim.kill()
    assert await effects(db, ns, "tx-recorder") == []  # rolled back with the connection
    with WorkerProcess.start(env(migrated), tmp_path / "heir.log") as heir:
        heir.wait_ready()
        await eventually(lambda: _count(effects(db, ns, "tx-recorder"), 1), timeout=20)
        heir.terminate()
        assert heir.wait() == 0
    [effect] = await effects(db, ns, "tx-recorder")
    assert effect["pid"] == heir.proc.pid
    assert len(await starts(db, ns)) == 2
    assert await ready_count(channel, names.handler_queue("tx-recorder")) == 0


async def test_a_worker_without_its_inbox_schema_refuses_to_start_saying_what_to_run(
    pg_settings: Settings, db: asyncpg.Connection
) -> None:
    done = run_worker_command(env(pg_settings))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is missing in PostgreSQL: run `hookq db migrate`" in done.stderr
    assert "Traceback" not in done.stderr

    # Older than this hookq: a version table at version 0.
    await db.execute(f"CREATE SCHEMA {quoted(pg_settings.namespace)}")
    await db.execute(
        f"CREATE TABLE {quoted(pg_settings.namespace)}.schema_version"
        " (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz)"
    )
    done = run_worker_command(env(pg_settings))
    assert done.returncode == 2
    assert "is at version 0, this hookq needs version 1: run `hookq db migrate`" in done.stderr


async def test_a_newer_schema_is_refused_in_process_too(
    pg_settings: Settings, db: asyncpg.Connection
) -> None:
    await migrate(db, pg_settings.namespace)
    await db.execute(
        f"INSERT INTO {quoted(pg_settings.namespace)}.schema_version VALUES (99, 'future', now())"
    )
    spec = spec_of(tx_recorder)
    assert spec is not None
    worker = Worker(pg_settings, {spec.name: spec})
    try:
        with pytest.raises(SchemaError, match=r"newer than this hookq knows \(version 1\)"):
            await worker.start()
    finally:
        await worker.close()


async def _count(rows: Awaitable[Sized], n: int) -> bool:
    return len(await rows) >= n


async def _not(check: Awaitable[bool]) -> bool:
    return not await check


def test_transactional_handlers_without_a_postgres_url_refuse_to_start(settings: Settings) -> None:
    done = run_worker_command(worker_env(settings, handler_modules=HANDLERS))
    assert done.returncode == 2
    assert "HOOKQ_POSTGRES_URL is not set: transactional handlers need PostgreSQL" in done.stderr
    assert "tx-recorder" in done.stderr
