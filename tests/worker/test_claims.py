"""Dedupe against claims held elsewhere: a duplicate in flight, and this same message redelivered
after its worker died (it must wait for the lease, never be acked as a duplicate)."""

from __future__ import annotations

import time

import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.message import Header, header_time
from hookq.settings import Settings
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names
from hookq.worker.outcomes import Outcome
from tests.support.events import (
    dedupe_key,
    eventually,
    outcome_count,
    publish_event,
    ready_count,
    standard_body,
)
from tests.worker.conftest import StartWorker


def recording_spec(name: str, runs: list[str]) -> HandlerSpec:
    async def record(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.append(ctx.delivery_id)

    return HandlerSpec(name=name, patterns=("standard.#",), func=record, timeout=0.5)


async def test_a_redelivered_message_waits_for_its_own_lease_then_runs(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    redis_client: aioredis.Redis,
) -> None:
    runs: list[str] = []
    settings = settings.model_copy(update={"claim_lease": 1.0})
    key = dedupe_key(names, "lease", "evt-1")
    # As a worker killed mid-handler leaves it: its claim on this very message, lease running.
    await redis_client.set(key, "msg-1 deadbeefdeadbeef", px=700)
    worker = await start_worker(settings, recording_spec("lease", runs))
    await publish_event(channel, names, "evt-1", standard_body(), message_id="msg-1")

    await eventually(lambda: outcome_count(worker.metrics, "lease", Outcome.PROCESSED) == 1)
    assert runs == ["evt-1"]
    assert outcome_count(worker.metrics, "lease", Outcome.DUPLICATE) == 0
    assert await redis_client.get(key) == b"done"


async def test_another_delivery_in_flight_makes_this_one_a_duplicate(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    redis_client: aioredis.Redis,
) -> None:
    runs: list[str] = []
    key = dedupe_key(names, "other", "evt-2")
    await redis_client.set(key, "msg-elsewhere 0123456789abcdef", px=60_000)
    worker = await start_worker(settings, recording_spec("other", runs))
    await publish_event(channel, names, "evt-2", standard_body(), message_id="msg-2")

    await eventually(lambda: outcome_count(worker.metrics, "other", Outcome.DUPLICATE) == 1)
    assert runs == []
    assert await ready_count(channel, names.handler_queue("other")) == 0  # acked
    assert await redis_client.get(key) == b"msg-elsewhere 0123456789abcdef"  # left alone


async def test_a_done_mark_outlives_the_lease_for_the_dedupe_ttl(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    redis_client: aioredis.Redis,
) -> None:
    runs: list[str] = []
    settings = settings.model_copy(update={"claim_lease": 1.0, "dedupe_ttl": 3600.0})
    worker = await start_worker(settings, recording_spec("ttl", runs))
    await publish_event(channel, names, "evt-3", standard_body())
    await eventually(lambda: outcome_count(worker.metrics, "ttl", Outcome.PROCESSED) == 1)

    ttl = await redis_client.pttl(dedupe_key(names, "ttl", "evt-3"))
    assert 1000 < ttl <= 3_600_000


async def test_a_replay_runs_under_its_own_key_past_a_claim_left_by_a_crash_looped_message(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    redis_client: aioredis.Redis,
) -> None:
    runs: list[str] = []
    settings = settings.model_copy(update={"claim_lease": 1.0})
    key = dedupe_key(names, "replayed", "evt-4")
    # The broker dead-lettered a message that kept killing workers; its claim is still leased.
    await redis_client.set(key, "msg-crashed 0123456789abcdef", px=700)
    worker = await start_worker(settings, recording_spec("replayed", runs))
    await publish_event(
        channel,
        names,
        "evt-4",
        standard_body(),
        message_id="msg-replay",
        extra_headers={
            Header.REPLAYED_AT: header_time(time.time()),
            Header.REPLAYS: 1,
            Header.REPLAY_ID: "r1",
        },
    )

    await eventually(lambda: outcome_count(worker.metrics, "replayed", Outcome.PROCESSED) == 1)
    assert runs == ["evt-4"]
    assert outcome_count(worker.metrics, "replayed", Outcome.DUPLICATE) == 0
    # The replay's own key is done; the crashed message's claim was left alone to lapse.
    assert await redis_client.get(dedupe_key(names, "replayed", "evt-4", generation="r1")) == (
        b"done"
    )
    assert await redis_client.get(key) in (b"msg-crashed 0123456789abcdef", None)
