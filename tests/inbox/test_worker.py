"""Transactional handlers in an in-process worker, on the real broker and PostgreSQL: what they
write through ``ctx.db`` commits with their inbox row, once, or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import asyncpg
from aio_pika.abc import AbstractChannel, FieldValue

from hookq.handlers.api import HandlerContext, Reject
from hookq.inbox.schema import inbox_key, quoted
from hookq.message import Header, header_time, read_failure
from hookq.settings import Settings
from hookq.topology import Names
from hookq.worker.outcomes import Outcome
from hookq.worker.runner import Worker
from tests.inbox.support import effect_count, effect_spec, effects, inbox_rows
from tests.support.events import (
    TEST_EVENT,
    eventually,
    outcome_count,
    publish_event,
    ready_count,
    standard_body,
    take_all,
)
from tests.worker.conftest import StartWorker


def settled(worker: Worker, handler: str, outcome: Outcome, count: int) -> Callable[[], bool]:
    return lambda: outcome_count(worker.metrics, handler, outcome) == count


async def test_a_run_commits_its_writes_with_its_inbox_row_then_acks(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    seen: list[bool] = []

    async def in_transaction(ctx: HandlerContext) -> None:
        assert ctx.db is not None
        seen.append(ctx.db.is_in_transaction())

    ns = migrated.namespace
    worker = await start_worker(migrated, effect_spec("tx-once", ns, then=in_transaction))
    await publish_event(channel, names, "evt-1", standard_body())

    await eventually(settled(worker, "tx-once", Outcome.PROCESSED, 1))
    assert seen == [True]
    assert await effect_count(db, ns, "tx-once") == 1
    [row] = await inbox_rows(db, ns)
    assert (row["handler"], row["source"], row["event_type"]) == ("tx-once", "standard", TEST_EVENT)
    assert (row["generation"], row["delivery_id"], row["state"]) == ("0", "evt-1", "done")
    assert row["key"] == inbox_key("tx-once", "standard", TEST_EVENT, "0", "evt-1")
    assert await ready_count(channel, names.handler_queue("tx-once")) == 0
    assert not worker.needs_redis


async def test_duplicate_deliveries_have_one_effect(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    ns = migrated.namespace

    async def slow(_ctx: HandlerContext) -> None:
        await asyncio.sleep(0.3)  # the copies arrive while the first run holds the row

    worker = await start_worker(migrated, effect_spec("tx-dup", ns, then=slow), prefetch=8)
    for _ in range(4):
        await publish_event(channel, names, "evt-d", standard_body())
    await eventually(settled(worker, "tx-dup", Outcome.DUPLICATE, 3))
    await publish_event(channel, names, "evt-d", standard_body())  # a resend, after it is done

    await eventually(settled(worker, "tx-dup", Outcome.DUPLICATE, 4))
    assert outcome_count(worker.metrics, "tx-dup", Outcome.PROCESSED) == 1
    assert outcome_count(worker.metrics, "tx-dup", Outcome.RETRIED) == 0  # waited, not busy
    assert await effect_count(db, ns, "tx-dup") == 1


async def test_a_replay_runs_once_more_under_its_own_generation(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    ns = migrated.namespace
    worker = await start_worker(migrated, effect_spec("tx-replay", ns))
    await publish_event(channel, names, "evt-r", standard_body())
    await eventually(settled(worker, "tx-replay", Outcome.PROCESSED, 1))
    replay: dict[str, FieldValue] = {
        Header.REPLAY_ID: "r1",
        Header.REPLAYS: 1,
        Header.REPLAYED_AT: header_time(time.time()),
    }
    for _ in range(2):
        await publish_event(channel, names, "evt-r", standard_body(), extra_headers=replay)

    await eventually(settled(worker, "tx-replay", Outcome.DUPLICATE, 1))
    assert outcome_count(worker.metrics, "tx-replay", Outcome.PROCESSED) == 2
    assert await effect_count(db, ns, "tx-replay") == 2
    assert sorted(r["generation"] for r in await inbox_rows(db, ns)) == ["0", "r1"]


async def test_a_failed_run_rolls_back_what_it_wrote_then_runs_again(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    ns = migrated.namespace

    async def fail_first(ctx: HandlerContext) -> None:
        if ctx.attempt == 1:
            raise RuntimeError("downstream said no")

    worker = await start_worker(migrated, effect_spec("tx-fail", ns, then=fail_first))
    await publish_event(channel, names, "evt-f", standard_body())

    await eventually(settled(worker, "tx-fail", Outcome.PROCESSED, 1))
    assert outcome_count(worker.metrics, "tx-fail", Outcome.RETRIED) == 1
    # The first run's row was written, then rolled back with its failure.
    assert [r["attempt"] for r in await effects(db, ns, "tx-fail")] == [2]
    assert [r["state"] for r in await inbox_rows(db, ns)] == ["done"]


async def test_a_run_past_its_timeout_rolls_back_what_it_wrote(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    ns = migrated.namespace

    async def hang_first(ctx: HandlerContext) -> None:
        if ctx.attempt == 1:
            assert ctx.db is not None
            await ctx.db.execute("SELECT pg_sleep(30)")  # cancelled in PostgreSQL too

    spec = effect_spec("tx-slow", ns, then=hang_first, timeout=0.5, max_attempts=1)
    worker = await start_worker(migrated, spec)
    await publish_event(channel, names, "evt-t", standard_body())

    await eventually(settled(worker, "tx-slow", Outcome.DEAD, 1))
    [letter] = await take_all(channel, names.dead_queue("tx-slow"))
    assert read_failure(letter.headers).error_type == "HandlerTimeout"
    assert await effect_count(db, ns, "tx-slow") == 0
    # Dead: marked so, in the same transaction that dropped the handler's writes.
    assert [r["state"] for r in await inbox_rows(db, ns)] == ["dead"]


async def test_a_dead_event_keeps_no_writes_and_its_resend_is_a_duplicate(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    ns = migrated.namespace

    async def reject(_ctx: HandlerContext) -> None:
        raise Reject("not for us")

    worker = await start_worker(migrated, effect_spec("tx-dead", ns, then=reject))
    await publish_event(channel, names, "evt-x", standard_body())
    await eventually(settled(worker, "tx-dead", Outcome.DEAD, 1))
    await publish_event(channel, names, "evt-x", standard_body())  # the provider sends it again

    await eventually(settled(worker, "tx-dead", Outcome.DUPLICATE, 1))
    assert await ready_count(channel, names.dead_queue("tx-dead")) == 1
    assert await effect_count(db, ns, "tx-dead") == 0
    assert [r["state"] for r in await inbox_rows(db, ns)] == ["dead"]


async def test_an_invalid_payload_is_dead_lettered_and_marked_dead(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    ns = migrated.namespace
    worker = await start_worker(migrated, effect_spec("tx-invalid", ns))
    await publish_event(channel, names, "evt-i", b'{"type": 42, "data": {}}')

    await eventually(settled(worker, "tx-invalid", Outcome.INVALID, 1))
    assert [r["state"] for r in await inbox_rows(db, ns)] == ["dead"]
    assert await effect_count(db, ns, "tx-invalid") == 0


async def test_a_handler_that_swallowed_a_database_error_has_not_succeeded(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    ns = migrated.namespace

    async def swallow_first(ctx: HandlerContext) -> None:
        assert ctx.db is not None
        if ctx.attempt == 1:
            # Caught, and the handler returns: COMMIT would roll back without a word.
            with contextlib.suppress(asyncpg.DivisionByZeroError):
                await ctx.db.execute("SELECT 1 / 0")

    worker = await start_worker(migrated, effect_spec("tx-swallow", ns, then=swallow_first))
    await publish_event(channel, names, "evt-s", standard_body())

    await eventually(settled(worker, "tx-swallow", Outcome.PROCESSED, 1))
    assert outcome_count(worker.metrics, "tx-swallow", Outcome.RETRIED) == 1
    assert [r["attempt"] for r in await effects(db, ns, "tx-swallow")] == [2]


async def test_a_commit_refused_by_a_deferred_constraint_is_a_failed_run(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    ns = quoted(migrated.namespace)
    await db.execute(
        f"CREATE TABLE {ns}.parents (id text PRIMARY KEY);"
        f"CREATE TABLE {ns}.children (parent text REFERENCES {ns}.parents"
        " DEFERRABLE INITIALLY DEFERRED)"
    )

    async def orphan_first(ctx: HandlerContext) -> None:
        assert ctx.db is not None
        if ctx.attempt > 1:
            await ctx.db.execute(f"INSERT INTO {ns}.parents VALUES ('p')")
        await ctx.db.execute(f"INSERT INTO {ns}.children VALUES ('p')")  # checked at COMMIT

    spec = effect_spec("tx-deferred", migrated.namespace, then=orphan_first)
    worker = await start_worker(migrated, spec)
    await publish_event(channel, names, "evt-c", standard_body())

    await eventually(settled(worker, "tx-deferred", Outcome.PROCESSED, 1))
    assert outcome_count(worker.metrics, "tx-deferred", Outcome.RETRIED) == 1
    assert await db.fetchval(f"SELECT count(*) FROM {ns}.children") == 1
    assert [r["attempt"] for r in await effects(db, migrated.namespace, "tx-deferred")] == [2]


async def test_a_row_held_past_the_handler_timeout_is_retried_later_for_the_same_attempt(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
    postgres_url: str,
) -> None:
    ns = migrated.namespace
    holder = await asyncpg.connect(postgres_url)
    try:
        # Another delivery's transaction, still open: it holds the event's row uncommitted.
        holding = holder.transaction()
        await holding.start()
        await holder.execute(
            f"INSERT INTO {quoted(ns)}.inbox (key, handler, source, event_type, generation,"
            " delivery_id) VALUES ($1, 'tx-busy', 'standard', $2, '0', 'evt-b')",
            inbox_key("tx-busy", "standard", TEST_EVENT, "0", "evt-b"),
            TEST_EVENT,
        )
        worker = await start_worker(migrated, effect_spec("tx-busy", ns, timeout=0.5))
        await publish_event(channel, names, "evt-b", standard_body())
        await eventually(settled(worker, "tx-busy", Outcome.RETRIED, 1))
        assert await effect_count(db, ns, "tx-busy") == 0
        await holding.rollback()  # the other delivery failed: its row is gone

        await eventually(settled(worker, "tx-busy", Outcome.PROCESSED, 1))
    finally:
        await holder.close()
    # Waiting for the row was not a run: the copy came back for the same attempt.
    assert [r["attempt"] for r in await effects(db, ns, "tx-busy")] == [1]


async def test_a_handler_may_nest_a_savepoint_and_recover_inside_it(
    migrated: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    db: asyncpg.Connection,
) -> None:
    ns = migrated.namespace

    async def nested(ctx: HandlerContext) -> None:
        assert ctx.db is not None
        # As the docs say: a nested block is a savepoint; its error, caught, undoes it alone.
        with contextlib.suppress(asyncpg.DivisionByZeroError):
            async with ctx.db.transaction():
                await ctx.db.execute(
                    f"INSERT INTO {quoted(ns)}.effects (handler, delivery_id, attempt, pid, note)"
                    " VALUES ('tx-nested', $1, 0, 0, 'undone')",
                    ctx.delivery_id,
                )
                await ctx.db.execute("SELECT 1 / 0")

    worker = await start_worker(migrated, effect_spec("tx-nested", ns, then=nested))
    await publish_event(channel, names, "evt-n", standard_body())

    await eventually(settled(worker, "tx-nested", Outcome.PROCESSED, 1))
    assert outcome_count(worker.metrics, "tx-nested", Outcome.RETRIED) == 0
    assert [(r["attempt"], r["note"]) for r in await effects(db, ns, "tx-nested")] == [(1, "")]
