"""``GET /metrics`` of a worker: outcomes by source, event type, handler; durations; in flight."""

from __future__ import annotations

import socket

import aiohttp
from aio_pika.abc import AbstractChannel

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.settings import Settings
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names
from hookq.worker.health import serve_health
from tests.support.events import eventually, publish_event, standard_body
from tests.worker.conftest import StartWorker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_metrics_count_outcomes_and_time_handlers(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    async def ok(event: StandardEvent, ctx: HandlerContext) -> None:
        return None

    spec = HandlerSpec(name="metered", patterns=("standard.#",), func=ok)
    worker = await start_worker(settings, spec)
    port = free_port()
    runner = await serve_health(worker.metrics, worker.not_ready, "127.0.0.1", port)
    try:
        await publish_event(channel, names, "evt-1", standard_body())
        await publish_event(channel, names, "evt-1", standard_body())
        await publish_event(channel, names, "evt-2", b"[]")
        async with aiohttp.ClientSession() as session:

            async def scrape() -> str:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    assert response.status == 200
                    return await response.text()

            labels = 'event_type="other",handler="metered",outcome="{}",source="standard"'

            async def settled() -> bool:
                text = await scrape()
                return all(
                    "hookq_worker_events_total{" + labels.format(o) + "} 1.0" in text
                    for o in ("processed", "duplicate", "invalid")
                )

            await eventually(settled)
            text = await scrape()
    finally:
        await runner.cleanup()
    assert 'hookq_worker_handler_seconds_count{handler="metered"} 1.0' in text
    assert "hookq_worker_in_flight 0.0" in text
    assert "hookq_worker_redis_available 1.0" in text
