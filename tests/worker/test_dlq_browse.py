"""Browsing never drops, duplicates or reorders dead messages: alone, with two operators at
once, with messages arriving, and while a replay takes messages out of the same queue."""

from __future__ import annotations

import asyncio
import time

from aio_pika.abc import AbstractRobustConnection

from hookq.dlq.browse import WHOLE, Reading, Snapshot, browse
from hookq.dlq.move import MoveOptions
from hookq.dlq.queues import connect
from hookq.dlq.records import DeadQueue, DeadRecord, Selection
from hookq.dlq.replay import new_run_id, replay_queue
from hookq.message import DELIVERY_LIMIT, Header
from hookq.settings import Settings
from hookq.topology import Names
from tests.worker.test_dlq_records import (
    HANDLER,
    dead_message,
    declare,
    publish_dead,
    take_ids,
)


def queue_of(names: Names, handler: str = HANDLER) -> DeadQueue:
    return DeadQueue(handler, names.dead_queue(handler))


def ids_of(snapshot: Snapshot) -> list[str]:
    return [r.delivery_id for r in snapshot.records]


def assert_in_order_without_duplicates(seen: list[str], order: dict[str, int]) -> None:
    positions = [order[i] for i in seen]
    assert positions == sorted(set(positions)), "a browse saw a message twice or out of order"


async def test_browse_reads_every_field_and_leaves_the_queue_as_it_was(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    now = time.time()
    await publish_dead(
        amqp,
        names,
        [
            dead_message(f"d{i}", dead_at=now - 100 + i, error_type=f"E{i % 2}", attempts=i + 1)
            for i in range(5)
        ],
    )
    async with await connect(settings, "test") as connection:
        first = await browse(connection, queue_of(names), settings.namespace, reading=WHOLE)
        second = await browse(connection, queue_of(names), settings.namespace)

    assert ids_of(first) == ids_of(second) == [f"d{i}" for i in range(5)]
    assert first.complete
    assert first.ready == 5
    record = first.records[3]
    assert (record.handler, record.source, record.event_type) == (
        HANDLER,
        "plain",
        "thread.chat_sent",
    )
    assert (record.attempts, record.error_type, record.position) == (4, "E1", 3)
    # pamqp encodes a float header as a 32-bit float: Unix times are good to ~2 minutes.
    assert record.failed_at is not None
    assert abs(record.failed_at - (now - 97)) <= 128
    assert record.traceback.startswith("Traceback")
    assert record.body
    # By default a browse keeps what lists use, not the body, header table and traceback.
    lean = second.records[3]
    assert (lean.body, lean.headers, lean.traceback) == (b"", {}, "")
    assert (lean.error_type, lean.attempts, lean.failed_at) == ("E1", 4, record.failed_at)
    assert await take_ids(amqp, names.dead_queue(HANDLER)) == [f"d{i}" for i in range(5)]


async def test_a_reading_keeps_bodies_only_where_asked_and_stops_once_it_has_enough(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    ids = [f"b{i}" for i in range(10)]
    starya = {"b5", "b7", "b8"}
    await publish_dead(
        amqp,
        names,
        [dead_message(i, source="starya" if i in starya else "plain") for i in ids],
    )

    def is_starya(record: DeadRecord) -> bool:
        return record.source == "starya"

    async with await connect(settings, "test") as connection:
        shown = await browse(
            connection, queue_of(names), settings.namespace,
            reading=Reading(whole=lambda r: r.delivery_id == "b3"),
        )  # fmt: skip
        first_three = await browse(
            connection, queue_of(names), settings.namespace, reading=Reading(enough=3)
        )
        # The window holds 2, the next matches are fetched one at a time, until the 2nd match.
        two_starya = await browse(
            connection, queue_of(names), settings.namespace,
            reading=Reading(counts=is_starya, enough=2),
        )  # fmt: skip

    assert ids_of(shown) == ids
    assert [bool(r.body) for r in shown.records] == [i == "b3" for i in ids]
    assert shown.records[3].traceback.startswith("Traceback")
    assert not shown.stopped_early
    assert ids_of(first_three) == ids[:3]
    assert (first_three.stopped_early, first_three.unread) == (True, 7)
    assert ids_of(two_starya) == ids[:8]
    assert [r.position for r in two_starya.records] == list(range(8))
    assert (two_starya.stopped_early, two_starya.unread) == (True, 2)
    assert two_starya.complete
    # Read in three ways, returned in place every time.
    assert await take_ids(amqp, names.dead_queue(HANDLER)) == ids


async def test_a_message_the_broker_dead_lettered_shows_delivery_limit(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names, delivery_limit=1)
    channel = await amqp.channel()
    message = dead_message("crash-1")
    message.headers = {  # an event as the ingress published it: no failure record
        k: v
        for k, v in message.headers.items()
        if k in (Header.SOURCE, Header.EVENT_TYPE, Header.DELIVERY_ID)
    }
    await channel.default_exchange.publish(message, routing_key=names.handler_queue(HANDLER))
    queue = await channel.get_queue(names.handler_queue(HANDLER))
    # A worker crashing on it: delivered, never acked, twice -> over the delivery limit.
    for _ in range(2):
        async with asyncio.timeout(10):
            while (got := await queue.get(fail=False)) is None:
                await asyncio.sleep(0.05)
        await got.nack(requeue=True)

    async with await connect(settings, "test") as connection:
        async with asyncio.timeout(10):
            while not (
                snapshot := await browse(connection, queue_of(names), settings.namespace)
            ).records:
                await asyncio.sleep(0.05)
    [record] = snapshot.records
    assert (record.delivery_id, record.error_type, record.handler) == (
        "crash-1",
        DELIVERY_LIMIT,
        HANDLER,
    )
    assert record.failed_at is not None
    assert abs(record.failed_at - time.time()) < 60


async def test_browsing_1000_while_dead_letters_arrive_two_operators_browse_and_a_replay_runs(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    original = [f"m{i:04d}" for i in range(1000)]
    # Every 10th is a starya event: the replay running alongside takes those out.
    await publish_dead(
        amqp,
        names,
        [
            dead_message(i, source="starya" if n % 10 == 0 else "plain")
            for n, i in enumerate(original)
        ],
    )
    replayed_ids = {i for n, i in enumerate(original) if n % 10 == 0}
    arriving = [f"new{i:03d}" for i in range(100)]
    order = {i: n for n, i in enumerate(original + arriving)}
    handler_queue_ids: list[str] = []
    browses: list[Snapshot] = []
    replay_done = asyncio.Event()

    async def workers_dead_lettering() -> None:
        # Workers keep dead-lettering at the tail, in small bursts.
        for start in range(0, len(arriving), 10):
            await publish_dead(amqp, names, [dead_message(i) for i in arriving[start : start + 10]])
            await asyncio.sleep(0.03)

    async def worker_consuming_the_handler_queue() -> None:
        channel = await amqp.channel()
        queue = await channel.get_queue(names.handler_queue(HANDLER))
        async with queue.iterator() as messages:
            async for message in messages:
                handler_queue_ids.append(str(message.headers[Header.DELIVERY_ID]))
                await message.ack()
                if len(handler_queue_ids) == len(replayed_ids):
                    break

    async def operator(connection_name: str) -> None:
        async with await connect(settings, connection_name) as connection:
            while True:
                browses.append(
                    await browse(connection, queue_of(names), settings.namespace, wait=0.5)
                )
                if replay_done.is_set():
                    return
                await asyncio.sleep(0.05)  # an operator reads what they saw

    async def replay() -> None:
        async with await connect(settings, "replay") as connection:
            await replay_queue(
                connection,
                queue_of(names),
                names,
                lambda r: Selection(sources=frozenset({"starya"})).matches(r, time.time()),
                MoveOptions(run_id=new_run_id(), rate=150, wait=10),
            )
        replay_done.set()

    async with asyncio.timeout(60):
        await asyncio.gather(
            workers_dead_lettering(),
            worker_consuming_the_handler_queue(),
            operator("alice"),
            operator("bob"),
            replay(),
        )

    assert browses
    for snapshot in browses:
        assert_in_order_without_duplicates(ids_of(snapshot), order)
    # At least one browse saw the whole queue at some point (serialised, not interleaved).
    assert any(len(s.records) >= 900 and s.complete for s in browses)
    assert sorted(handler_queue_ids) == sorted(replayed_ids)
    left = await take_ids(amqp, names.dead_queue(HANDLER))
    assert left == [i for i in original if i not in replayed_ids] + arriving


async def test_a_session_holding_messages_makes_a_browse_partial_and_a_replay_wait(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    ids = [f"h{i}" for i in range(10)]
    await publish_dead(amqp, names, [dead_message(i) for i in ids])
    # Another session (a slow replay, say) holds the first three, unacked.
    holder = await amqp.channel()
    await holder.set_qos(prefetch_count=3)
    held: asyncio.Queue[object] = asyncio.Queue()
    await (await holder.get_queue(names.dead_queue(HANDLER))).consume(held.put)
    async with asyncio.timeout(10):
        while held.qsize() < 3:
            await asyncio.sleep(0.02)

    async with await connect(settings, "test") as connection:
        partial = await browse(connection, queue_of(names), settings.namespace, wait=0.2)
        assert ids_of(partial) == ids[3:]
        assert not partial.complete
        assert partial.other_consumers == 1

        async def release_soon() -> None:
            await asyncio.sleep(0.5)
            await holder.close()  # its three go back to the head of the queue

        release = asyncio.create_task(release_soon())
        result = await replay_queue(
            connection,
            queue_of(names),
            names,
            lambda _record: True,
            MoveOptions(run_id=new_run_id(), window=100, wait=10),
        )
        await release
    assert result.complete
    assert sorted(r.delivery_id for r in result.done) == ids
    assert sorted(await take_ids(amqp, names.handler_queue(HANDLER))) == ids


async def test_dead_and_unrouted_queues_never_drop_messages_by_themselves(
    names: Names, amqp: AbstractRobustConnection
) -> None:
    await declare(amqp, names)
    # What the broker itself says about the queues: no TTL, length limit, expiry or delivery
    # limit in their arguments, and no policy that could add one.
    listing = await asyncio.create_subprocess_exec(
        "rabbitmqctl", "-q", "list_queues", "name", "arguments", "policy",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await listing.communicate()
    rows = {
        fields[0]: fields[1:]
        for fields in (line.split("\t") for line in out.decode().splitlines())
        if fields
    }
    for queue in (names.dead_queue(HANDLER), names.unrouted_queue):
        arguments, policy = rows[queue]
        assert arguments == '[{"x-queue-type","classic"}]'
        assert policy == ""
