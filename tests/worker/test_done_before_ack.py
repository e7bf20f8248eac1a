"""A message is acked only after its done mark is written (issue 12, item 18).

Acked first, a worker that died (or lost Redis for good) between the ack and the mark would
leave an event that ran and has no mark: a provider's retry of it would run it again. The test
makes the mark impossible to write at exactly that moment: the handler itself stops Redis, so
the run is over and the mark is next. While Redis is down the message must stay delivered and
unacked (the broker still holds it); once Redis is back the mark is written, then the ack goes,
and the handler never runs a second time. Moving the ack above ``mark_done`` in
``hookq.worker.outcomes.Settler._done`` makes it fail (the queue shows no unacked message while
Redis is down).
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.settings import Settings
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names
from hookq.worker.outcomes import Outcome
from tests.support.events import (
    dedupe_key,
    eventually,
    outcome_count,
    publish_event,
    standard_body,
)
from tests.support.redis_server import PrivateRedis
from tests.worker.conftest import StartWorker

# RabbitMQ refreshes a queue's counts for rabbitmqctl every collect_statistics_interval (5 s by
# default): a count read once may be older than the ack it should show.
STATISTICS_INTERVAL = 5.0


def queue_counts(queue: str) -> tuple[int, int]:
    """(ready, unacked) of ``queue``, as the broker last counted them (rabbitmqctl: a client's
    passive declare counts only the ready ones)."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "name", "messages_ready", "messages_unacknowledged"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for line in listed.splitlines():
        name, *counts = line.split("\t")
        if name == queue:
            return int(counts[0]), int(counts[1])
    raise AssertionError(f"no queue {queue} in rabbitmqctl list_queues")


async def counts(queue: str) -> tuple[int, int]:
    return await asyncio.to_thread(queue_counts, queue)


async def test_a_run_whose_done_mark_cannot_be_written_stays_unacked_until_it_is(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    runs: list[str] = []

    async def runs_then_loses_redis(_event: StandardEvent, ctx: HandlerContext) -> None:
        runs.append(ctx.delivery_id)
        if len(runs) == 1:
            redis_server.stop()  # the run is over: the done mark is what comes next

    spec = HandlerSpec(
        name="marked", patterns=("standard.#",), func=runs_then_loses_redis, timeout=5.0
    )
    own_redis = settings.model_copy(update={"redis_url": redis_server.url})
    queue = names.handler_queue("marked")
    try:
        worker = await start_worker(own_redis, spec)
        await publish_event(channel, names, "evt-1", standard_body())
        await eventually(lambda: not worker.gate.available)  # the mark found Redis down
        assert runs == ["evt-1"]

        # Redis stays down: the message is still the broker's, delivered and not acked, and
        # still so after a refresh of the counts later than any ack sent right after the run.
        async def unacked() -> bool:
            return await counts(queue) == (0, 1)

        await eventually(unacked, timeout=3 * STATISTICS_INTERVAL)
        await asyncio.sleep(STATISTICS_INTERVAL + 1.0)
        assert await counts(queue) == (0, 1)
        assert outcome_count(worker.metrics, "marked", Outcome.PROCESSED) == 0
        assert len(worker.in_flight) == 1

        redis_server.start()  # back, empty: the mark is written, then the ack goes
        await eventually(lambda: outcome_count(worker.metrics, "marked", Outcome.PROCESSED) == 1)

        async def settled() -> bool:
            return await counts(queue) == (0, 0)

        await eventually(settled, timeout=20)
        async with aioredis.from_url(redis_server.url) as client:
            assert await client.get(dedupe_key(names, "marked", "evt-1")) == b"done"
        await asyncio.sleep(0.5)
        assert runs == ["evt-1"]  # never a second run
    finally:
        redis_server.stop()
