"""The overview's numbers, sampled from the real broker (queue depth, retrying, dead,
consumers, unrouted), from an ingress's metrics (accepted and refused per minute, by the
ingress's own exposition) and from RabbitMQ's management API (in flight, events per minute),
and the plot of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web

from hookq.console.broker_stats import BrokerApi, vhost_of
from hookq.console.plot import HEIGHT, plot
from hookq.console.sampler import Sampler, per_minute
from hookq.handlers.api import Backoff, HandlerContext, HandlerSpec
from hookq.ingress.metrics import IngressMetrics
from hookq.settings import Settings
from hookq.topology import Names, declare_handler
from tests.console.conftest import TOKEN, StartConsole, client, free_port
from tests.console.support import declare_flaky
from tests.support.events import eventually


async def _noop(event: Any, ctx: HandlerContext) -> None:
    return None


# Delay tiers of an hour: what is put in one stays there for the test.
SPEC = HandlerSpec("metered", ("standard.#",), _noop, max_attempts=3, backoff=Backoff(base=3600))


async def put(amqp: AbstractRobustConnection, exchange: str, queue: str, n: int) -> None:
    channel = await amqp.channel(publisher_confirms=True)
    target = await channel.get_exchange(exchange, ensure=False)
    for i in range(n):
        await target.publish(aio_pika.Message(f"m{i}".encode()), routing_key=queue)
    await channel.close()


async def test_the_sampler_reads_each_handlers_queues_from_the_broker(
    settings: Settings, names: Names, amqp: AbstractRobustConnection
) -> None:
    channel = await amqp.channel()
    await declare_handler(channel, names, SPEC.name, SPEC.patterns, SPEC.retry_delays, 10)
    await channel.close()
    await put(amqp, names.direct_exchange, names.handler_queue(SPEC.name), 3)
    await put(amqp, names.direct_exchange, names.retry_queue(SPEC.name, SPEC.retry_delays[0]), 2)
    await put(amqp, names.direct_exchange, names.dead_queue(SPEC.name), 4)
    await put(amqp, "", names.unrouted_queue, 1)

    sampler = Sampler(
        settings.model_copy(update={"console_sample_interval": 0.5}), {"metered": SPEC}
    )
    await sampler.start()
    try:
        await eventually(lambda: len(sampler.samples) >= 1, timeout=15)
    finally:
        await sampler.stop()
    sample = sampler.samples[-1]
    queues = sample.handlers["metered"].queues
    assert queues is not None
    assert (queues.depth, queues.retrying, queues.dead, queues.consumers) == (3, 2, 4, 0)
    assert sample.unrouted == 1
    assert sample.handlers["metered"].api is None  # no management API configured
    assert sample.problems == ()


@pytest.fixture
async def ingress_metrics() -> AsyncIterator[tuple[str, IngressMetrics]]:
    """The ingress's own metrics (``IngressMetrics``), served as its ``/metrics`` serves them."""
    metrics = IngressMetrics()

    async def serve(_request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/metrics", metrics
    await runner.cleanup()


async def test_the_overview_shows_the_ingresses_rates_and_the_handlers_curves(
    console_settings: Settings,
    names: Names,
    amqp: AbstractRobustConnection,
    start_console: StartConsole,
    ingress_metrics: tuple[str, IngressMetrics],
) -> None:
    await declare_flaky(amqp, names)
    url, metrics = ingress_metrics
    settings = console_settings.model_copy(update={"console_ingress_metrics_url": url})
    running = await start_console(settings)
    for _ in range(30):
        metrics.count_request("plain", 200)
    for status in (401, 413, 503):
        metrics.count_request("standard", status)
    await eventually(lambda: len(running.console.sampler.samples) >= 3, timeout=15)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with client(headers=headers) as http:
        before = await (await http.get(f"{running.url}/api/overview")).json()
        for _ in range(60):
            metrics.count_request("plain", 200)
        count = len(running.console.sampler.samples)
        await eventually(lambda: len(running.console.sampler.samples) >= count + 2, timeout=15)
        after = await (await http.get(f"{running.url}/api/overview")).json()
    assert before["ingress"]["refused"] == 0  # nothing new between the last two samples
    accepted = [s.ingress.accepted for s in running.console.sampler.samples if s.ingress]
    assert accepted[0] == 30
    assert accepted[-1] == 90
    assert [h["name"] for h in after["handlers"]] == ["flaky"]
    assert after["handlers"][0]["curve"] == "queue depth"  # no management API: no rate
    cookies = await running.login_cookies()
    async with client(cookies=cookies) as http:
        page = await (await http.get(f"{running.url}/")).text()
    assert 'aria-label="flaky: queue depth, last hour"' in page
    assert 'aria-label="ingress: accepted per minute, last hour"' in page
    assert page.count("<polyline") >= 2


async def test_the_management_api_gives_in_flight_and_handled_counts() -> None:
    # The shape of RabbitMQ's GET /api/queues/{vhost}/{name} (the fields the console reads);
    # the test's broker runs without the management plugin, so it is served here.
    seen: list[str] = []

    async def queue(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        if request.match_info["name"] == "hookq.archive":  # a stream: AMQP would say 0
            return web.json_response({"name": "hookq.archive", "type": "stream", "messages": 500})
        if request.match_info["name"] != "hookq.metered":
            return web.json_response({"error": "Object Not Found"}, status=404)
        return web.json_response(
            {
                "name": "hookq.metered",
                "messages_ready": 3,
                "messages_unacknowledged": 7,
                "message_stats": {"ack": 1250, "ack_details": {"rate": 4.2}},
            }
        )

    app = web.Application()
    app.router.add_get("/api/queues/{vhost}/{name}", queue)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with client() as http:
            vhost = vhost_of("amqp://u:p@rabbitmq:5672/")
            api = BrokerApi(f"http://127.0.0.1:{port}", vhost, http)
            counts = await api.counts("hookq.metered")
            missing = await api.counts("hookq.gone")
            archived, no_archive = await api.messages("hookq.archive"), await api.messages("x")
    finally:
        await runner.cleanup()
    assert counts is not None
    assert (counts.in_flight, counts.acked) == (7, 1250)
    assert missing is None
    assert (archived, no_archive) == (500, None)
    assert seen[0] == "/api/queues/%2F/hookq.metered"
    assert vhost_of("amqp://u:p@h/my%2Fvhost") == "my/vhost"


def test_rates_and_plots() -> None:
    assert per_minute(100, 160, 30) == 120
    assert per_minute(100, 10, 30) is None  # the counting process restarted
    assert per_minute(None, 10, 30) is None
    drawn = plot([(0, 1.0), (1800, 3.0), (2400, None), (3000, 2.0), (3600, 0.0)], now=3600)
    assert drawn.top == 3.0
    assert len(drawn.lines) == 2  # broken at the unknown value
    first = drawn.lines[0].split()
    assert first[0].endswith(f",{HEIGHT - 2 - 1 / 3 * (HEIGHT - 4):.1f}")
    assert plot([], now=0).empty
