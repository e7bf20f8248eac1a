"""The worker's ``event_type`` metric label takes the catalogue's types and ``other`` only (issue
12, item 10).

The event type is whatever the sender wrote (LiveChat's ``action``): before, each invented type
was a label value of its own, and 5,000 of them took ``/metrics`` from 9 KB to 2.2 MB, without
bound. Now ``/metrics`` is as large after 5,000 invented types as after the first one.
"""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
from aio_pika.abc import AbstractChannel
from pydantic import BaseModel

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.settings import Settings
from hookq.sources.livechat import LivechatSource
from hookq.topology import Names
from hookq.worker.health import serve_health
from hookq.worker.metrics import WorkerMetrics
from tests.fixtures import REFERENCE
from tests.support.events import eventually, publish_event
from tests.worker.conftest import StartWorker
from tests.worker.test_metrics import free_port

INVENTED = 5000
CATALOGUED = "incoming_event"
EVENT_TYPE_LABEL = re.compile(r'^hookq_worker_events_total\{[^}]*event_type="([^"]*)"', re.M)


def livechat_body(action: str) -> bytes:
    """LiveChat's ``incoming_event`` example as queued (no ``secret_key``), under ``action``."""
    event = json.loads(
        (REFERENCE / "livechat" / "fixtures-v3.5" / "incoming_event.json").read_text()
    )
    del event["secret_key"]
    return json.dumps(event | {"action": action}).encode()


def processed(metrics: WorkerMetrics) -> float:
    return sum(
        sample.value
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == "hookq_worker_events_total" and sample.labels["outcome"] == "processed"
    )


async def publish_types(channel: AbstractChannel, names: Names, types: list[str]) -> None:
    for start in range(0, len(types), 250):
        await asyncio.gather(
            *(
                publish_event(
                    channel, names, f"d-{t}", livechat_body(t), source="livechat", event_type=t
                )
                for t in types[start : start + 250]
            )
        )


async def test_5000_invented_event_types_leave_metrics_the_size_of_one(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    async def count(_event: BaseModel, _ctx: HandlerContext) -> None:
        return None

    worker = await start_worker(
        settings, HandlerSpec(name="counted", patterns=("livechat.#",), func=count)
    )
    port = free_port()
    health = await serve_health(worker.metrics, worker.not_ready, "127.0.0.1", port)
    invented = [f"crafted_{n:04d}" for n in range(INVENTED)]
    try:
        async with aiohttp.ClientSession() as session:

            async def scrape() -> str:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    return await response.text()

            await publish_types(channel, names, [CATALOGUED, invented[0]])
            await eventually(lambda: processed(worker.metrics) == 2)
            first = await scrape()

            await publish_types(channel, names, invented[1:])
            await eventually(lambda: processed(worker.metrics) == INVENTED + 1, timeout=120)
            after = await scrape()
    finally:
        await health.cleanup()

    assert CATALOGUED in LivechatSource.events
    assert set(EVENT_TYPE_LABEL.findall(after)) == {CATALOGUED, "other"}
    others = 'event_type="other",handler="counted",outcome="processed",source="livechat"'
    assert f"{{{others}}} {INVENTED:.1f}" in after
    # Only the counters' digits grew: 5,000 label values would be ~150 bytes each.
    assert len(after) - len(first) < 100, (len(first), len(after))
