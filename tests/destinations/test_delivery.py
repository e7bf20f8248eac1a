"""Deliveries to a real local receiver that checks every request with the official
``standardwebhooks`` library, and the response policy: 2xx done; 408/429/5xx, timeouts and
refused connections retried (after Retry-After when given); 410 dead and disabled; another 4xx
dead with its status and body in the failure record."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path

import orjson
from aio_pika.abc import AbstractChannel

from hookq.destinations.state import Circuit, DestinationState
from hookq.dlq.move import MoveOptions
from hookq.dlq.queues import connect
from hookq.dlq.records import DeadQueue
from hookq.dlq.replay import new_run_id, replay_queue
from hookq.message import read_failure
from hookq.settings import Settings
from hookq.testing.signing import SECRETS
from hookq.topology import Names
from hookq.worker.outcomes import Outcome
from tests.destinations.conftest import NAME, Start, WriteFile, destination_toml
from tests.support.events import (
    eventually,
    outcome_count,
    publish_event,
    ready_count,
    standard_body,
    take_all,
)
from tests.support.receiver import HANG, Answer, Receiver


def new_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


async def test_delivered_once_signed_with_every_secret(
    start: Start, write_file: WriteFile, receiver: Receiver, channel: AbstractChannel, names: Names
) -> None:
    rotated = "whsec_" + base64.b64encode(b"the-next-secret-of-the-crm").decode()
    worker = await start(
        write_file(
            receiver.url,
            secrets=[rotated, SECRETS["standard"]],
            headers={"Authorization": "Bearer crm-token-123456"},
        )
    )
    delivery_id = new_id()
    body = standard_body(note="hello")
    await publish_event(channel, names, delivery_id, body)
    await eventually(lambda: outcome_count(worker.metrics, NAME, Outcome.PROCESSED) == 1)
    (got,) = receiver.received
    assert receiver.refused == []
    assert got.body == body
    assert got.payload == orjson.loads(body)
    assert got.delivery_id == delivery_id
    assert got.headers["hookq-source"] == "standard"
    assert got.headers["hookq-event-type"] == "test.event"
    assert got.headers["hookq-attempt"] == "1"
    assert got.headers["Authorization"] == "Bearer crm-token-123456"
    assert got.headers["webhook-signature"].count("v1,") == 2  # one per secret
    assert receiver.deliveries == {delivery_id: 1}


async def test_500_500_200_is_delivered_on_the_third_attempt(
    start: Start, write_file: WriteFile, receiver: Receiver, channel: AbstractChannel, names: Names
) -> None:
    receiver.script = [500, 503, 200]
    worker = await start(write_file(receiver.url))
    delivery_id = new_id()
    await publish_event(channel, names, delivery_id, standard_body())
    await eventually(lambda: outcome_count(worker.metrics, NAME, Outcome.PROCESSED) == 1, 20)
    assert [r.headers["hookq-attempt"] for r in receiver.received] == ["1", "2", "3"]
    assert outcome_count(worker.metrics, NAME, Outcome.RETRIED) == 2
    assert await take_all(channel, names.dead_queue(NAME)) == []


async def test_429_with_retry_after_is_not_retried_sooner(
    start: Start, write_file: WriteFile, receiver: Receiver, channel: AbstractChannel, names: Names
) -> None:
    receiver.script = [Answer(429, {"Retry-After": "2"})]
    worker = await start(write_file(receiver.url))
    delivery_id = new_id()
    await publish_event(channel, names, delivery_id, standard_body())
    await eventually(lambda: outcome_count(worker.metrics, NAME, Outcome.PROCESSED) == 1, 20)
    first, second = receiver.times(delivery_id)
    assert second - first >= 2.0


async def test_a_receiver_that_hangs_times_out_and_is_retried(
    start: Start, write_file: WriteFile, receiver: Receiver, channel: AbstractChannel, names: Names
) -> None:
    receiver.script = [HANG]
    worker = await start(write_file(receiver.url, timeout=1))
    delivery_id = new_id()
    await publish_event(channel, names, delivery_id, standard_body())
    await eventually(lambda: outcome_count(worker.metrics, NAME, Outcome.PROCESSED) == 1, 20)
    first, second = receiver.times(delivery_id)
    assert second - first >= 1.0  # the timeout, then the first backoff tier
    assert outcome_count(worker.metrics, NAME, Outcome.RETRIED) == 1


async def test_a_400_is_dead_with_its_status_and_masked_body(
    start: Start, write_file: WriteFile, receiver: Receiver, channel: AbstractChannel, names: Names
) -> None:
    token = "Bearer crm-token-0123456789"
    answer = f'{{"error": "unknown customer", "email": "ana@example.com", "echo": "{token}"}}'
    receiver.script = [Answer(400, body=answer)]
    worker = await start(write_file(receiver.url, headers={"Authorization": token}))
    await publish_event(channel, names, new_id(), standard_body())
    await eventually(lambda: outcome_count(worker.metrics, NAME, Outcome.DEAD) == 1)
    (dead,) = await take_all(channel, names.dead_queue(NAME))
    failure = read_failure(dead.headers)
    assert failure.error_type == "DestinationRefused"
    assert "HTTP 400" in failure.error_message
    assert "unknown customer" in failure.error_message
    assert "ana@example.com" not in failure.error_message  # masked (hookq.privacy)
    assert "crm-token" not in failure.error_message  # the destination's own header value
    assert failure.attempts == 1
    assert len(receiver.received) == 1


async def test_410_is_dead_and_disables_the_destination_until_enabled(
    start: Start,
    write_file: WriteFile,
    receiver: Receiver,
    channel: AbstractChannel,
    names: Names,
    redis_client: object,
) -> None:
    receiver.script = [Answer(410, body="gone")]
    worker = await start(write_file(receiver.url))
    await publish_event(channel, names, new_id(), standard_body())
    await eventually(lambda: outcome_count(worker.metrics, NAME, Outcome.DEAD) == 1)
    (dead,) = await take_all(channel, names.dead_queue(NAME))
    assert read_failure(dead.headers).error_type == "DestinationGone"
    from hookq.destinations.delivery import forwarders

    (forwarder,) = forwarders(worker.specs)
    state: DestinationState = forwarder.state
    assert (await state.status()).circuit is Circuit.DISABLED
    # Disabled: the next event waits in the queue, nothing is sent.
    receiver.script = []
    later = new_id()
    await publish_event(channel, names, later, standard_body())
    await eventually(
        lambda: (
            worker.metrics.registry.get_sample_value(
                "hookq_destination_held", {"destination": NAME}
            )
            == 1
        )
    )
    assert receiver.deliveries[later] == 0
    assert await state.enable()
    await eventually(lambda: receiver.deliveries[later] == 1, 5)
    assert (await state.status()).circuit is Circuit.CLOSED


async def test_a_hanging_destination_does_not_delay_another(
    start: Start,
    receiver: Receiver,
    channel: AbstractChannel,
    names: Names,
    tmp_path: Path,
) -> None:
    slow = Receiver(SECRETS["standard"], script=[HANG] * 3)
    await slow.start()
    try:
        path = tmp_path / "two.toml"
        path.write_text(
            destination_toml(slow.url, name="slow", timeout=2)
            + destination_toml(receiver.url, name="fast")
        )
        await start(path, prefetch=4)
        ids = [new_id() for _ in range(20)]
        for delivery_id in ids:
            await publish_event(channel, names, delivery_id, standard_body())
        began = time.monotonic()
        await eventually(lambda: len(receiver.deliveries) == len(ids), timeout=10)
        # Every "fast" delivery while "slow" holds its whole prefetch window, hanging (its
        # requests time out after 2 s).
        assert time.monotonic() - began < 2.0
        assert len(slow.deliveries) == 4
    finally:
        await slow.stop()


async def test_a_stopping_worker_does_not_wait_for_a_held_message(
    start: Start, write_file: WriteFile, receiver: Receiver, channel: AbstractChannel, names: Names
) -> None:
    from hookq.destinations.delivery import forwarders

    worker = await start(write_file(receiver.url))
    (forwarder,) = forwarders(worker.specs)
    await forwarder.state.disable("test: disabled")
    await publish_event(channel, names, new_id(), standard_body())
    await eventually(
        lambda: (
            worker.metrics.registry.get_sample_value(
                "hookq_destination_held", {"destination": NAME}
            )
            == 1
        )
    )
    began = time.monotonic()
    await worker.stop()
    assert time.monotonic() - began < 5  # not the 20 s shutdown grace

    async def requeued() -> bool:
        return await ready_count(channel, names.handler_queue(NAME)) == 1

    await eventually(requeued, timeout=10)
    assert receiver.received == []


async def test_a_dead_delivery_is_replayed_like_any_handlers(
    start: Start,
    write_file: WriteFile,
    receiver: Receiver,
    channel: AbstractChannel,
    names: Names,
    settings: Settings,
) -> None:
    receiver.script = [Answer(400, body="customer unknown")]
    worker = await start(write_file(receiver.url))
    delivery_id = new_id()
    await publish_event(channel, names, delivery_id, standard_body())
    await eventually(lambda: outcome_count(worker.metrics, NAME, Outcome.DEAD) == 1)
    receiver.script = []  # the receiver was fixed: 200 from now on
    async with await connect(settings, "test-destination-replay") as connection:
        result = await replay_queue(
            connection,
            DeadQueue(NAME, names.dead_queue(NAME)),
            names,
            lambda _record: True,
            MoveOptions(run_id=new_run_id(), wait=5),
        )
    assert len(result.done) == 1
    await eventually(lambda: outcome_count(worker.metrics, NAME, Outcome.PROCESSED) == 1)
    assert receiver.deliveries[delivery_id] == 2
    assert receiver.received[-1].headers["webhook-id"] == delivery_id
