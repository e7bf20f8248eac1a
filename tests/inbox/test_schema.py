"""The inbox's schema: versioned migrations, ``hookq db``, and pruning old rows cheaply."""

from __future__ import annotations

import asyncio
import subprocess

import asyncpg
import pytest

from hookq.inbox.migrations import MIGRATIONS, Migration, SchemaError, check, migrate
from hookq.inbox.schema import InboxSql, inbox_key, quoted, schema_name
from hookq.inbox.store import Inbox
from hookq.settings import Settings, SettingsError
from hookq.worker.inflight import InFlight
from tests.support.redis_server import free_port
from tests.support.workers import run_hookq

EXTRA = Migration(2, "extra", "CREATE TABLE {schema}.extra (id integer)")


def hookq_db(
    settings: Settings, *args: str, url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "HOOKQ_NAMESPACE": settings.namespace,
        "PATH": "/usr/bin:/bin",
        **({"HOOKQ_POSTGRES_URL": url} if url else {}),
    }
    return run_hookq(env, "db", *args)


async def test_migrate_creates_the_schema_then_finds_it_current(
    pg_settings: Settings, db: asyncpg.Connection
) -> None:
    ns = pg_settings.namespace
    assert [m.version for m in await migrate(db, ns)] == [1]
    assert await migrate(db, ns) == []
    assert await check(db, ns) == 1
    columns = await db.fetch(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = $1 AND table_name = 'inbox' ORDER BY ordinal_position",
        ns,
    )
    assert [c["column_name"] for c in columns] == [
        *("key", "handler", "source", "event_type", "generation", "delivery_id", "state"),
        "created_at",
    ]


async def test_migrate_upgrades_by_the_migrations_it_lacks_only(
    pg_settings: Settings, db: asyncpg.Connection
) -> None:
    ns = pg_settings.namespace
    await migrate(db, ns)
    with pytest.raises(SchemaError, match="is at version 1, this hookq needs version 2"):
        await check(db, ns, (*MIGRATIONS, EXTRA))
    assert [m.version for m in await migrate(db, ns, (*MIGRATIONS, EXTRA))] == [2]
    assert await check(db, ns, (*MIGRATIONS, EXTRA)) == 2
    with pytest.raises(SchemaError, match="newer than this hookq knows"):
        await migrate(db, ns)  # an older hookq must not touch it


async def test_concurrent_migrations_take_turns(pg_settings: Settings, postgres_url: str) -> None:
    connections = [await asyncpg.connect(postgres_url) for _ in range(3)]
    try:
        applied = await asyncio.gather(*(migrate(c, pg_settings.namespace) for c in connections))
    finally:
        for connection in connections:
            await connection.close()
    assert sorted(len(a) for a in applied) == [0, 0, 1]


async def test_a_failed_migration_leaves_the_schema_as_it_was(
    pg_settings: Settings, db: asyncpg.Connection
) -> None:
    ns = pg_settings.namespace
    await migrate(db, ns)
    broken = Migration(2, "broken", "CREATE TABLE {schema}.half (id integer); SELECT 1 / 0")
    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate(db, ns, (*MIGRATIONS, broken))
    assert await check(db, ns) == 1
    assert await db.fetchval("SELECT to_regclass($1)", f"{quoted(ns)}.half") is None


def test_a_namespace_postgres_cannot_name_is_refused() -> None:
    with pytest.raises(SettingsError, match="HOOKQ_NAMESPACE: at most 63"):
        schema_name("a" * 64)
    assert schema_name("a" * 63) == "a" * 63


def test_hookq_db_migrate_then_status(pg_settings: Settings, postgres_url: str) -> None:
    status = hookq_db(pg_settings, "status", url=postgres_url)
    assert status.returncode == 1, status.stderr
    assert "version none (never migrated); this hookq needs 1" in status.stdout
    assert "run `hookq db migrate`" in status.stderr

    first = hookq_db(pg_settings, "migrate", url=postgres_url)
    assert first.returncode == 0, first.stderr
    assert "applied 1 migration(s) (1 inbox); now at version 1" in first.stdout
    again = hookq_db(pg_settings, "migrate", url=postgres_url)
    assert (again.returncode, again.stdout.strip()) == (
        0,
        f"schema {pg_settings.namespace!r}: up to date (version 1)",
    )
    assert hookq_db(pg_settings, "status", url=postgres_url).returncode == 0


async def test_hookq_db_refuses_a_newer_schema_with_exit_2(
    pg_settings: Settings, postgres_url: str, db: asyncpg.Connection
) -> None:
    await migrate(db, pg_settings.namespace, (*MIGRATIONS, EXTRA))
    done = hookq_db(pg_settings, "migrate", url=postgres_url)
    assert done.returncode == 2
    assert "newer than this hookq knows (version 1): run a newer hookq" in done.stderr


def test_hookq_db_without_a_url_or_a_server_says_so(pg_settings: Settings) -> None:
    unset = hookq_db(pg_settings, "migrate")
    assert unset.returncode == 2
    assert "HOOKQ_POSTGRES_URL is not set" in unset.stderr
    nowhere = f"postgresql://hookq:s3cret@127.0.0.1:{free_port()}/hookq"
    down = hookq_db(pg_settings, "migrate", url=nowhere)
    assert down.returncode == 1
    assert "cannot connect to postgresql://hookq@127.0.0.1:" in down.stderr
    assert "connection refused" in down.stderr
    assert "s3cret" not in down.stderr + down.stdout
    bad = hookq_db(pg_settings, "migrate", url="mysql://somewhere/db")
    assert bad.returncode == 2
    assert "HOOKQ_POSTGRES_URL: Value error, must start with postgresql://" in bad.stderr


async def test_pruning_deletes_rows_past_the_ttl_in_batches(
    pg_settings: Settings, db: asyncpg.Connection
) -> None:
    ns = pg_settings.namespace
    await migrate(db, ns)
    sql = InboxSql(ns)
    await db.execute(
        f"INSERT INTO {sql.table} (key, handler, source, event_type, generation, delivery_id,"
        " created_at) SELECT sha256(n::text::bytea), 'h', 's', 't', '0', n::text,"
        " now() - make_interval(days => CASE WHEN n <= 2500 THEN 8 ELSE 1 END)"
        " FROM generate_series(1, 2510) AS n"
    )
    inbox = Inbox(pg_settings.model_copy(update={"dedupe_ttl": 7 * 24 * 3600.0}), InFlight())
    await inbox.start()
    try:
        # Start-up pruned already (the worker's first pruning runs at once).
        await _eventually_count(db, sql, 10)
        assert await inbox.prune(batch=1000) == 0
    finally:
        await inbox.close()
    remaining = await db.fetch(f"SELECT delivery_id FROM {sql.table} ORDER BY delivery_id")
    assert [r["delivery_id"] for r in remaining] == [str(n) for n in range(2501, 2511)]


async def _eventually_count(db: asyncpg.Connection, sql: InboxSql, n: int) -> None:
    async with asyncio.timeout(15):
        while await db.fetchval(f"SELECT count(*) FROM {sql.table}") != n:
            await asyncio.sleep(0.05)


async def test_a_pruning_batch_is_an_index_scan(
    pg_settings: Settings, db: asyncpg.Connection
) -> None:
    ns = pg_settings.namespace
    await migrate(db, ns)
    sql = InboxSql(ns)
    async with db.transaction():
        # Whatever the planner would pick on a table this small: the index must serve it.
        await db.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in await db.fetch(f"EXPLAIN {sql.prune}", 604800.0, 1000))
    assert "inbox_created_at" in plan, plan


def test_the_key_tells_every_part_apart() -> None:
    assert inbox_key("h", "s", "t", "0", "a.b") != inbox_key("h", "s", "t", "0.a", "b")
    assert len(inbox_key("h", "s", "t", "0", "x" * 100_000)) == 32
