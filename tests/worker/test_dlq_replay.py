"""Replay: copies land once in the handler's queue with a fresh attempt count and a record of
the replay, and a replay killed half-way then run again ends with every message moved once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from aio_pika.abc import AbstractRobustConnection
from structlog.testing import capture_logs

from hookq.dlq.browse import browse
from hookq.dlq.move import MoveOptions, MoveResult
from hookq.dlq.queues import connect
from hookq.dlq.records import UNROUTED, DeadQueue, Selection
from hookq.dlq.replay import HandlerQueueMissing, new_run_id, replay_queue
from hookq.handlers.api import HandlerContext, HandlerSpec, Reject
from hookq.message import Header
from hookq.settings import Settings
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names
from tests.support.events import eventually, publish_event, standard_body
from tests.worker.conftest import StartWorker
from tests.worker.test_dlq_records import (
    HANDLER,
    dead_message,
    declare,
    eventually_ready,
    publish_dead,
    publish_unrouted,
    ready,
    take_ids,
    unrouted_message,
)


def dead_queue(names: Names, handler: str = HANDLER) -> DeadQueue:
    return DeadQueue(handler, names.dead_queue(handler))


async def run_replay(
    settings: Settings, queue: DeadQueue, selection: Selection | None = None, **options: object
) -> MoveResult:
    selection = selection or Selection()
    async with await connect(settings, "test-replay") as connection:
        return await replay_queue(
            connection,
            queue,
            Names(settings.namespace),
            lambda record: selection.matches(record, time.time()),
            MoveOptions(run_id=new_run_id(), wait=5, **options),  # type: ignore[arg-type]
        )


def cli_env(settings: Settings) -> dict[str, str]:
    return os.environ | {
        "HOOKQ_AMQP_URL": settings.amqp_url,
        "HOOKQ_REDIS_URL": settings.redis_url,
        "HOOKQ_NAMESPACE": settings.namespace,
        "HOOKQ_LOG_FORMAT": "json",
    }


def hookq(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from hookq.cli import main; sys.exit(main())", *args]


async def test_replay_sends_a_fresh_copy_once_and_records_the_replay(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    await publish_dead(amqp, names, [dead_message(f"r{i}", body={"n": i}) for i in range(20)])

    with capture_logs() as logs:
        result = await run_replay(settings, dead_queue(names))

    assert [r.delivery_id for r in result.done] == [f"r{i}" for i in range(20)]
    [summary] = [e for e in logs if e["event"] == "dlq queue done"]
    assert (summary["moved"], summary["handler"], summary["stopped"]) == (20, HANDLER, None)
    assert result.complete
    assert not result.came_back
    assert await ready(amqp, names.dead_queue(HANDLER)) == 0
    channel = await amqp.channel()
    queue = await channel.get_queue(names.handler_queue(HANDLER))
    copies = [await queue.get(no_ack=True) for _ in range(20)]
    assert await queue.get(no_ack=True, fail=False) is None
    assert [c.headers[Header.DELIVERY_ID] for c in copies] == [f"r{i}" for i in range(20)]
    copy = copies[7]
    assert copy.body == b'{"n":7}'
    assert copy.headers[Header.ATTEMPT] == 1
    assert copy.headers[Header.REPLAYS] == 1
    assert abs(float(copy.headers[Header.REPLAYED_AT]) - time.time()) < 60  # type: ignore[arg-type]
    assert copy.headers[Header.SOURCE] == "plain"
    history = copy.headers[Header.PREVIOUS_FAILURE]
    assert isinstance(history, dict)
    assert (history["error-type"], history["handler"], history["attempts"]) == (
        "RuntimeError",
        HANDLER,
        5,
    )
    for gone in (Header.ERROR_TYPE, Header.TRACEBACK, Header.DEAD_AT, Header.FIRST_FAILED_AT):
        assert gone not in copy.headers


async def test_replaying_some_ids_leaves_the_others_in_place(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    ids = [f"s{i}" for i in range(30)]
    await publish_dead(amqp, names, [dead_message(i) for i in ids])
    chosen = {"s3", "s17", "s29"}

    result = await run_replay(settings, dead_queue(names), Selection(ids=frozenset(chosen)))

    assert {r.delivery_id for r in result.done} == chosen
    assert await take_ids(amqp, names.handler_queue(HANDLER)) == ["s3", "s17", "s29"]
    assert await take_ids(amqp, names.dead_queue(HANDLER)) == [i for i in ids if i not in chosen]


async def test_unrouted_events_come_back_until_a_handler_binds_them(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await publish_unrouted(
        amqp, names, [unrouted_message(f"u{i}", event_type="thread.new") for i in range(3)]
    )
    unrouted = DeadQueue(UNROUTED, names.unrouted_queue)
    await eventually_ready(amqp, names.unrouted_queue, 3)

    nobody = await run_replay(settings, unrouted)
    assert [r.delivery_id for r in nobody.came_back] == ["u0", "u1", "u2"]
    async with await connect(settings, "test") as connection:
        back = await browse(connection, unrouted, settings.namespace)
    assert [r.replays for r in back.records] == [1, 1, 1]

    await declare(amqp, names, patterns=["plain.thread.*"])
    bound = await run_replay(settings, unrouted)
    assert [r.delivery_id for r in bound.done] == ["u0", "u1", "u2"]
    assert not bound.came_back
    assert await ready(amqp, names.unrouted_queue) == 0
    assert await take_ids(amqp, names.handler_queue(HANDLER)) == ["u0", "u1", "u2"]


async def test_replay_refuses_when_the_handler_queue_is_gone(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    await publish_dead(amqp, names, [dead_message("g1")])
    channel = await amqp.channel()
    await channel.queue_delete(names.handler_queue(HANDLER))

    with pytest.raises(HandlerQueueMissing, match="start a worker"):
        await run_replay(settings, dead_queue(names))
    assert await take_ids(amqp, names.dead_queue(HANDLER)) == ["g1"]


@pytest.mark.parametrize(
    ("stop", "rate", "count", "kill_after"),
    [
        # Paced: one message per transaction, killed between or inside commits.
        (signal.SIGKILL, "100", 300, 40),
        (signal.SIGINT, "100", 300, 40),
        # Flat out: 50 messages per transaction, killed while a batch is open.
        (signal.SIGKILL, None, 1500, 150),
    ],
    ids=["kill-9-paced", "ctrl-c-paced", "kill-9-batches"],
)
async def test_a_replay_killed_half_way_then_run_again_moves_every_message_exactly_once(
    settings: Settings,
    names: Names,
    amqp: AbstractRobustConnection,
    stop: signal.Signals,
    rate: str | None,
    count: int,
    kill_after: int,
) -> None:
    await declare(amqp, names)
    ids = [f"k{i:04d}" for i in range(count)]
    await publish_dead(amqp, names, [dead_message(i) for i in ids])
    env = cli_env(settings)
    args = ("dlq", "replay", "--handler", HANDLER, "--all", "--json")

    pace = ("--rate", rate) if rate else ()
    first = subprocess.Popen(hookq(*args, *pace), env=env, stdout=subprocess.DEVNULL)
    try:
        async with asyncio.timeout(30):
            while await ready(amqp, names.handler_queue(HANDLER)) < kill_after:
                await asyncio.sleep(0.01)
    finally:
        first.send_signal(stop)
        code = first.wait()
    assert code == (130 if stop == signal.SIGINT else -signal.SIGKILL)

    # Once the broker has seen the connection go, every message is in exactly one queue.
    async def total() -> int:
        return await ready(amqp, names.dead_queue(HANDLER)) + await ready(
            amqp, names.handler_queue(HANDLER)
        )

    async with asyncio.timeout(15):
        while await total() != len(ids):
            await asyncio.sleep(0.05)
    moved_first = await take_ids(amqp, names.handler_queue(HANDLER))
    assert kill_after <= len(moved_first) < len(ids)
    if rate is None:
        assert len(moved_first) % 50 == 0  # whole transactions only: the open one rolled back

    # Run again (in-process, to keep the test quick: the CLI path is the same code).
    again = await run_replay(settings, dead_queue(names))
    assert again.complete
    assert len(again.done) == len(ids) - len(moved_first)

    moved_then = await take_ids(amqp, names.handler_queue(HANDLER))
    assert sorted(moved_first + moved_then) == ids
    assert await ready(amqp, names.dead_queue(HANDLER)) == 0


async def test_events_the_real_worker_dead_lettered_run_once_more_after_a_replay(
    settings: Settings, names: Names, amqp: AbstractRobustConnection, start_worker: StartWorker
) -> None:
    runs: Counter[str] = Counter()
    broken = True

    async def flaky(_event: StandardEvent, ctx: HandlerContext) -> None:
        runs[ctx.delivery_id] += 1
        if broken:
            raise Reject("backend down")

    spec = HandlerSpec(name=HANDLER, patterns=("standard.#",), func=flaky, timeout=5.0)
    await start_worker(settings, spec)
    channel = await amqp.channel(publisher_confirms=True)
    ids = [f"e{i:02d}" for i in range(20)]
    for delivery_id in ids:
        await publish_event(channel, names, delivery_id, standard_body())
    await eventually_ready(amqp, names.dead_queue(HANDLER), len(ids))
    async with await connect(settings, "test") as connection:
        snapshot = await browse(connection, dead_queue(names), settings.namespace)
    assert sorted(r.delivery_id for r in snapshot.records) == ids
    assert all("backend down" in r.error_message and r.attempts == 1 for r in snapshot.records)

    # Replayed too early, they fail again: each runs once more and dies again, and the replay
    # does not loop on them (the copies that die while it runs carry its id).
    # Paced so that early copies die again while it still runs.
    early = await run_replay(settings, dead_queue(names), window=100, rate=40)
    assert len(early.done) == len(ids)
    await eventually_ready(amqp, names.dead_queue(HANDLER), len(ids))
    assert runs == Counter({i: 2 for i in ids})
    assert early.came_back
    assert {r.delivery_id for r in early.came_back} <= set(ids)

    broken = False  # the cause is fixed: put them back
    replay = await asyncio.create_subprocess_exec(
        *hookq("dlq", "replay", "--handler", HANDLER, "--all"), env=cli_env(settings)
    )
    assert await replay.wait() == 0

    await eventually(lambda: all(runs[i] == 3 for i in ids))
    await asyncio.sleep(0.3)  # nothing runs a fourth time
    assert runs == Counter({i: 3 for i in ids})
    assert await ready(amqp, names.dead_queue(HANDLER)) == 0
    assert await ready(amqp, names.handler_queue(HANDLER)) == 0


async def test_a_purge_killed_half_way_keeps_everything_it_did_not_commit_in_order(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    now = time.time()
    ids = [f"p{i:04d}" for i in range(1500)]
    old = {i for n, i in enumerate(ids) if n % 2 == 0}
    await publish_dead(
        amqp, names, [dead_message(i, dead_at=now - (2 * 86400 if i in old else 0)) for i in ids]
    )
    purge = await asyncio.create_subprocess_exec(
        *hookq("dlq", "purge", "--handler", HANDLER, "--older-than", "1d", "--yes", "--json"),
        env=cli_env(settings) | {"HOOKQ_LOG_LEVEL": "DEBUG"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert purge.stderr is not None
    purged_lines = 0
    async with asyncio.timeout(30):
        while purged_lines < 100:  # one log line per committed purge
            line = await purge.stderr.readline()
            assert line, "the purge ended before it could be killed"
            purged_lines += b"dlq message purged" in line
    purge.kill()
    await purge.wait()

    # The broker returns what the purge held: old messages not yet purged and every new one.
    async with asyncio.timeout(15):
        while (left := await ready(amqp, names.dead_queue(HANDLER))) < len(ids) - len(old):
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    remaining = await take_ids(amqp, names.dead_queue(HANDLER))
    assert len(remaining) == left
    assert remaining == [i for i in ids if i in set(remaining)]  # original order
    assert set(ids) - set(remaining) <= old  # only old ones were purged
    assert (len(ids) - len(remaining)) % 50 == 0  # in whole transactions
    assert len(ids) - len(remaining) >= 100


async def test_a_handler_queue_deleted_mid_replay_loses_no_dead_message(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    ids = [f"v{i:02d}" for i in range(30)]
    await publish_dead(amqp, names, [dead_message(i) for i in ids])
    replay = asyncio.create_task(run_replay(settings, dead_queue(names), rate=30))
    async with asyncio.timeout(10):
        while await ready(amqp, names.handler_queue(HANDLER)) < 5:
            await asyncio.sleep(0.01)
    channel = await amqp.channel()
    # Someone removes the handler: the copies already in its queue go with it (counted).
    deleted = await channel.queue_delete(names.handler_queue(HANDLER))

    result = await replay
    # It stopped instead of sending the rest into the void: each message was replayed (before
    # or as the queue went: those copies went with it) or is still dead, never both.
    assert "vanished" in result.stopped
    replayed = [r.delivery_id for r in result.done]
    left = await take_ids(amqp, names.dead_queue(HANDLER))
    assert sorted(replayed + left) == ids
    assert len(replayed) + len(result.orphans) >= (deleted.message_count or 0) >= 5
