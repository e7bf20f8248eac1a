"""The pipeline's outcomes, with an in-process worker on the real broker and Redis."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel
from structlog.testing import capture_logs

from hookq.handlers.api import Backoff, HandlerContext, HandlerSpec, Reject, Retry
from hookq.ingress.publisher import Publisher
from hookq.log_context import merge_context
from hookq.message import Header
from hookq.settings import Settings
from hookq.sources.base import Accepted
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names
from hookq.worker.outcomes import Outcome
from tests.support.events import (
    dedupe_key,
    eventually,
    outcome_count,
    publish_event,
    standard_body,
    take_all,
)
from tests.worker.conftest import StartWorker

FAST = Backoff(base=0.2, factor=2.0, jitter=False)


@dataclass
class Runs:
    """What a test handler saw: one entry per run."""

    attempts: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    delivery_ids: list[str] = field(default_factory=list)
    events: list[StandardEvent] = field(default_factory=list)

    def note(self, event: StandardEvent, ctx: HandlerContext) -> None:
        self.attempts.append(ctx.attempt)
        self.times.append(time.monotonic())
        self.delivery_ids.append(ctx.delivery_id)
        self.events.append(event)

    async def count(self, n: int) -> None:
        await eventually(lambda: len(self.attempts) >= n)


def spec(name: str, func: object, **kwargs: object) -> HandlerSpec:
    options: dict[str, object] = {"max_attempts": 3, "backoff": FAST, "timeout": 5.0} | kwargs
    return HandlerSpec(name=name, patterns=("standard.#",), func=func, **options)  # type: ignore[arg-type]


async def test_an_event_delivered_five_times_runs_once(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    runs = Runs()

    async def slow(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.note(event, ctx)
        await asyncio.sleep(0.2)  # the copies arrive while the first run holds the claim

    worker = await start_worker(settings, spec("once", slow))
    for _ in range(5):
        await publish_event(channel, names, "evt-1", standard_body())

    async def all_settled() -> bool:
        done = outcome_count(worker.metrics, "once", Outcome.PROCESSED)
        return done + outcome_count(worker.metrics, "once", Outcome.DUPLICATE) == 5

    await eventually(all_settled)
    # And a copy arriving after it is done is a duplicate too.
    await publish_event(channel, names, "evt-1", standard_body())

    await eventually(lambda: outcome_count(worker.metrics, "once", Outcome.DUPLICATE) == 5)
    assert runs.delivery_ids == ["evt-1"]
    assert outcome_count(worker.metrics, "once", Outcome.PROCESSED) == 1


async def test_a_handler_failing_twice_runs_three_times_with_growing_delays(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    runs = Runs()

    async def flaky(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.note(event, ctx)
        if ctx.attempt < 3:
            raise ConnectionError(f"downstream unavailable (attempt {ctx.attempt})")

    worker = await start_worker(settings, spec("flaky", flaky))
    await publish_event(channel, names, "evt-2", standard_body())
    await runs.count(3)
    await eventually(lambda: outcome_count(worker.metrics, "flaky", Outcome.PROCESSED) == 1)

    assert runs.attempts == [1, 2, 3]
    first_wait, second_wait = runs.times[1] - runs.times[0], runs.times[2] - runs.times[1]
    # The tiers are 0.2 s then 0.4 s: each retry waits at least its tier, the second longer.
    assert first_wait >= 0.2
    assert second_wait >= 0.4
    assert outcome_count(worker.metrics, "flaky", Outcome.RETRIED) == 2
    assert await take_all(channel, names.dead_queue("flaky")) == []


async def test_a_handler_that_always_fails_is_dead_lettered_with_its_error(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    redis_client: aioredis.Redis,
) -> None:
    runs = Runs()

    async def broken(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.note(event, ctx)
        raise ValueError(f"cannot sync thread (attempt {ctx.attempt})")

    worker = await start_worker(settings, spec("broken", broken))
    body = standard_body(data={"thread": "th_1"})
    await publish_event(channel, names, "evt-3", body)

    await eventually(lambda: outcome_count(worker.metrics, "broken", Outcome.DEAD) == 1)
    [letter] = await take_all(channel, names.dead_queue("broken"))
    headers = letter.headers
    assert runs.attempts == [1, 2, 3]
    assert letter.body == body
    assert headers[Header.DELIVERY_ID] == "evt-3"
    assert headers[Header.SOURCE] == "standard"
    assert headers[Header.HANDLER] == "broken"
    assert headers[Header.ATTEMPT] == 3
    assert headers[Header.ERROR_TYPE] == "ValueError"
    assert headers[Header.ERROR_MESSAGE] == "cannot sync thread (attempt 3)"
    traceback = str(headers[Header.TRACEBACK])
    assert "ValueError: cannot sync thread (attempt 3)" in traceback
    assert "in broken" in traceback
    first, last = headers[Header.FIRST_FAILED_AT], headers[Header.LAST_FAILED_AT]
    assert isinstance(first, int)
    assert isinstance(last, int)
    assert abs(time.time() - first) < 60  # whole Unix seconds, not a 32-bit float's guess
    assert first <= last <= headers[Header.DEAD_AT]  # type: ignore[operator]
    assert not any(str(k).startswith("x-") for k in headers)
    # Marked dead: the provider's next retry of it is a duplicate, not another dead letter (a
    # replay runs under its own key).
    assert await redis_client.get(dedupe_key(names, "broken", "evt-3")) == b"dead"


async def test_an_invalid_payload_is_dead_lettered_at_once_and_the_handler_never_runs(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    runs = Runs()

    async def never(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.note(event, ctx)

    worker = await start_worker(settings, spec("strict", never))
    await publish_event(channel, names, "evt-4", b'{"type": 42, "data": {}}')
    await publish_event(channel, names, "evt-5", b"not json at all")

    await eventually(lambda: outcome_count(worker.metrics, "strict", Outcome.INVALID) == 2)
    letters = {
        m.headers[Header.DELIVERY_ID]: m
        for m in await take_all(channel, names.dead_queue("strict"))
    }
    assert runs.attempts == []
    wrong_type = letters["evt-4"].headers
    assert wrong_type[Header.ERROR_TYPE] == "ValidationError"
    assert "type: Input should be a valid string" in str(wrong_type[Header.ERROR_MESSAGE])
    assert "42" not in str(wrong_type[Header.ERROR_MESSAGE])  # reasons, never input values
    assert wrong_type[Header.ATTEMPT] == 1
    assert letters["evt-4"].body == b'{"type": 42, "data": {}}'
    assert "Invalid JSON" in str(letters["evt-5"].headers[Header.ERROR_MESSAGE])


async def test_a_failing_handler_never_reruns_another_bound_to_the_same_event(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    good, bad = Runs(), Runs()

    async def succeeds(event: StandardEvent, ctx: HandlerContext) -> None:
        good.note(event, ctx)

    async def fails(event: StandardEvent, ctx: HandlerContext) -> None:
        bad.note(event, ctx)
        raise RuntimeError("always")

    worker = await start_worker(
        settings, spec("good", succeeds), spec("bad", fails, max_attempts=4)
    )
    await publish_event(channel, names, "evt-6", standard_body())
    await publish_event(channel, names, "evt-6", standard_body())  # and a duplicate delivery

    await eventually(lambda: outcome_count(worker.metrics, "bad", Outcome.DEAD) >= 1)
    assert bad.attempts.count(4) >= 1
    assert good.attempts == [1]
    assert good.delivery_ids == ["evt-6"]


async def test_reject_dead_letters_at_once(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    runs = Runs()

    async def refuses(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.note(event, ctx)
        raise Reject("customer unknown")

    worker = await start_worker(settings, spec("refuses", refuses, max_attempts=5))
    await publish_event(channel, names, "evt-7", standard_body())

    await eventually(lambda: outcome_count(worker.metrics, "refuses", Outcome.DEAD) == 1)
    [letter] = await take_all(channel, names.dead_queue("refuses"))
    assert runs.attempts == [1]
    assert letter.headers[Header.ERROR_TYPE] == "Reject"
    assert letter.headers[Header.ERROR_MESSAGE] == "customer unknown"


async def test_a_handler_over_its_timeout_is_retried_then_dead_lettered(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    runs = Runs()

    async def hangs(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.note(event, ctx)
        await asyncio.sleep(30)

    worker = await start_worker(settings, spec("hangs", hangs, timeout=0.3, max_attempts=2))
    await publish_event(channel, names, "evt-8", standard_body())

    await eventually(lambda: outcome_count(worker.metrics, "hangs", Outcome.DEAD) == 1)
    [letter] = await take_all(channel, names.dead_queue("hangs"))
    assert runs.attempts == [1, 2]
    assert outcome_count(worker.metrics, "hangs", Outcome.RETRIED) == 1
    assert letter.headers[Header.ERROR_TYPE] == "HandlerTimeout"
    assert letter.headers[Header.ERROR_MESSAGE] == "handler ran over its 0.3s timeout"


async def test_retry_with_a_delay_waits_in_the_tier_that_covers_it(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    runs = Runs()

    async def later(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.note(event, ctx)
        if ctx.attempt == 1:
            raise Retry("rate limited", delay=0.3)

    worker = await start_worker(settings, spec("later", later))
    await publish_event(channel, names, "evt-9", standard_body())
    await runs.count(2)
    await eventually(lambda: outcome_count(worker.metrics, "later", Outcome.PROCESSED) == 1)
    assert runs.attempts == [1, 2]
    assert runs.times[1] - runs.times[0] >= 0.4  # 0.3 s rounds up to the 0.4 s tier


async def test_failure_logs_are_bound_to_the_message_and_never_quote_the_payload(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    async def leaky(event: StandardEvent, ctx: HandlerContext) -> None:
        ctx.log.info("handler says hi")
        raise ValueError(f"bad customer {(event.model_extra or {})['email']}")

    with capture_logs(processors=[merge_context]) as logs:
        worker = await start_worker(settings, spec("leaky", leaky, max_attempts=2))
        await publish_event(channel, names, "evt-l", standard_body(email="ana@example.com"))
        await eventually(lambda: outcome_count(worker.metrics, "leaky", Outcome.DEAD) == 1)

    assert "ana@example.com" not in repr(logs)
    by_event = {entry["event"]: entry for entry in logs}
    for name in ("handler says hi", "handler failed: retrying", "dead-lettered"):
        entry = by_event[name]
        assert entry["delivery_id"] == "evt-l"
        assert entry["handler"] == "leaky"
        assert entry["source"] == "standard"
        assert entry["event_type"] == "test.event"
    assert by_event["dead-lettered"]["attempt"] == 2
    assert by_event["handler failed: retrying"]["error_type"] == "ValueError"


async def test_an_event_published_by_the_ingress_reaches_the_handler_typed_with_its_context(
    settings: Settings, names: Names, start_worker: StartWorker
) -> None:
    seen: list[tuple[StandardEvent, HandlerContext]] = []

    async def look(event: StandardEvent, ctx: HandlerContext) -> None:
        seen.append((event, ctx))

    await start_worker(settings, spec("look", look))
    publisher = Publisher(settings, names, connection_name="test:ingress-publisher")
    await publisher.start()
    try:
        await publisher.wait_connected()
        accepted = Accepted(
            event_type="test.event",
            delivery_id="msg_2Kx",
            body=standard_body(data={"thread": "th_9"}),
            provider_headers={"webhook-id": "msg_2Kx", "webhook-timestamp": "1795240000"},
        )
        await publisher.publish("standard", accepted, received_at=time.time())
        await eventually(lambda: len(seen) == 1)
    finally:
        await publisher.close()

    [(event, ctx)] = seen
    assert isinstance(event, StandardEvent)
    assert event.type == "test.event"
    assert event.data == {"thread": "th_9"}
    assert (ctx.handler, ctx.source, ctx.event_type) == ("look", "standard", "test.event")
    assert (ctx.delivery_id, ctx.attempt, ctx.max_attempts) == ("msg_2Kx", 1, 3)
    assert dict(ctx.headers) == {"webhook-id": "msg_2Kx", "webhook-timestamp": "1795240000"}
    # Within pamqp's 32-bit float precision for a float header (about a minute today).
    assert abs(ctx.received_at.timestamp() - time.time()) < 120
