"""A worker whose broker node dies consumes again through another node of ``HOOKQ_AMQP_URL``,
every handler's consumer re-created, without a restart; ``/readyz`` says when its consumers are
gone. The "nodes" are proxies in front of the shared broker (real nodes are killed in
tests/reliability/test_cluster.py)."""

from __future__ import annotations

import aiohttp
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.settings import Settings
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names, queue_state
from hookq.worker.health import serve_health
from hookq.worker.runner import Worker
from tests.support.events import eventually, publish_event, standard_body
from tests.support.proxy import CuttableProxy, url_via
from tests.support.redis_server import free_port
from tests.worker.conftest import StartWorker

DEAD = "amqp://guest:guest@127.0.0.1:1/"


def recorder(name: str, seen: list[str]) -> HandlerSpec:
    async def run(_event: StandardEvent, ctx: HandlerContext) -> None:
        seen.append(ctx.delivery_id)

    return HandlerSpec(name=name, patterns=("standard.#",), func=run, timeout=5.0)


async def readyz(port: int) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/readyz") as response,
    ):
        return response.status, await response.json()


async def test_a_worker_whose_node_dies_consumes_every_queue_through_another(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    proxies: list[CuttableProxy],
) -> None:
    first, second = proxies
    nodes = [url_via(settings.amqp_url, first.port), DEAD, url_via(settings.amqp_url, second.port)]
    clustered = settings.model_copy(update={"amqp_url": ",".join(nodes)})
    seen_a: list[str] = []
    seen_b: list[str] = []
    worker = await start_worker(clustered, recorder("fo-a", seen_a), recorder("fo-b", seen_b))
    await publish_event(channel, names, "before", standard_body())
    await eventually(lambda: seen_a == seen_b == ["before"])
    assert worker.not_ready() == []

    await first.cut()  # its node is gone: the next attempt finds port 1 dead, then the third
    await eventually(lambda: "broker not connected" in worker.not_ready(), timeout=5)
    await publish_event(channel, names, "after", standard_body())  # waits in the queues
    # Within seconds: a reconnection interval (1 s), one refused attempt, then the live node.
    await eventually(lambda: seen_a == seen_b == ["before", "after"], timeout=10)
    await eventually(lambda: worker.not_ready() == [], timeout=5)


async def test_readyz_names_a_queue_whose_consumer_is_gone(
    settings: Settings, start_worker: StartWorker
) -> None:
    worker: Worker = await start_worker(settings, recorder("fo-gone", []), recorder("fo-kept", []))
    port = free_port()
    health = await serve_health(worker.metrics, worker.not_ready, "127.0.0.1", port)
    try:
        assert await readyz(port) == (200, {"status": "ready"})
        # The consumer cancelled under a channel and connection that stay open: nothing
        # brings it back (a broker's own cancel would be re-consumed by the robust channel).
        gone = next(c for c in worker._consumers if c.queue.name.endswith("fo-gone"))
        carrier = await gone.channel.get_underlay_channel()
        await carrier.basic_cancel(gone.tag)
        status, body = await readyz(port)
        assert status == 503
        assert body["reasons"] == [f"not consuming {gone.queue.name}"]
    finally:
        await health.cleanup()


async def test_a_consumer_the_broker_cancels_is_re_created(
    settings: Settings,
    names: Names,
    amqp: AbstractRobustConnection,
    channel: AbstractChannel,
    start_worker: StartWorker,
) -> None:
    seen: list[str] = []
    worker = await start_worker(settings, recorder("fo-cancelled", seen))
    queue = names.handler_queue("fo-cancelled")
    consumer = worker._consumers[0]

    async def delivering_directly() -> bool:
        # aiormq calls the consumer's own callback, not aio-pika's wrapper (worker.received).
        carrier = await consumer.channel.get_underlay_channel()
        return carrier.consumers.get(consumer.tag) is consumer.direct  # type: ignore[attr-defined]

    assert await delivering_directly()
    # Deleting the queue makes the broker cancel its consumer (Basic.Cancel): the robust
    # channel declares the queue again and consumes it, on the same connection.
    underlay = await channel.get_underlay_channel()
    await underlay.queue_delete(queue)

    async def consumed_again() -> bool:
        state = await queue_state(amqp, queue)
        return state is not None and state.consumers == 1

    await eventually(consumed_again, timeout=10)
    assert worker.not_ready() == []
    await publish_event(channel, names, "again", standard_body())
    await eventually(lambda: seen == ["again"], timeout=10)
    # The re-created consumer delivered "again" through aio-pika; from then on, directly.
    assert await delivering_directly()
    await publish_event(channel, names, "and-again", standard_body())
    await eventually(lambda: seen == ["again", "and-again"], timeout=10)
