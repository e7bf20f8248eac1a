"""RabbitMQ lost during ingress load: no 2xx for an event the broker does not hold, and every
2xx event has its effect, none twice.

CI simulates the outage with a TCP proxy between the ingress and the broker that the test cuts
and restores (the shared broker stays up for the rest of the suite). The full run
(``HOOKQ_RELIABILITY_FULL=1``) restarts the real RabbitMQ: ``rabbitmqctl stop_app`` then
``start_app``, twice, while the traffic flows; workers and ingress must reconnect by themselves.
``HOOKQ_RELIABILITY_RABBITMQ_NODE`` names another node to restart (with ``HOOKQ_TEST_AMQP_URL``
pointing at it): a private node, so the full run disturbs nobody else.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import senders
from tests.reliability.conftest import Scale
from tests.reliability.load import Outcomes
from tests.reliability.procs import RSS_BOUND, Fleet
from tests.reliability.scenario import settle_and_judge, start_workers, traffic_while
from tests.reliability.summary import SUMMARY
from tests.support.proxy import CuttableProxy

NODE_VARIABLE = "HOOKQ_RELIABILITY_RABBITMQ_NODE"
OUTAGES = 3
OUTAGE_SECONDS = 1.5


def via(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def rabbitmqctl(*args: str) -> None:
    # The node to restart: the local default one, unless the run points at another (a private
    # node for trying the full run without disturbing the shared broker; see docs).
    node = os.environ.get(NODE_VARIABLE)
    command = ["rabbitmqctl", *(["-n", node] if node else []), *args]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


async def restart_broker() -> None:
    """The shared RabbitMQ, stopped and started again (full run only)."""
    try:
        await asyncio.to_thread(rabbitmqctl, "stop_app")
        await asyncio.sleep(OUTAGE_SECONDS)
    finally:
        await asyncio.to_thread(rabbitmqctl, "start_app")
    await asyncio.to_thread(rabbitmqctl, "await_startup")


async def test_broker_outage_during_ingress_load_acks_only_what_is_queued(
    fleet: Fleet, settings: Settings, names: Names, scale: Scale, redis_client: aioredis.Redis
) -> None:
    broker = urlsplit(settings.amqp_url)
    proxy = CuttableProxy(broker.hostname or "127.0.0.1", broker.port or 5672)
    proxy_port = await proxy.start()
    # In the full run the ingress talks to the broker directly: the broker itself restarts.
    amqp_url = settings.amqp_url if scale.full else via(settings.amqp_url, proxy_port)
    # In threads: the proxy serves their connections from this event loop meanwhile.
    ingress, port = await asyncio.to_thread(
        fleet.ingress, HOOKQ_AMQP_URL=amqp_url, HOOKQ_PUBLISH_TIMEOUT="2"
    )
    # The workers lose the broker too (through the proxy in CI), with handlers in flight that
    # have made their effect and not yet their done mark: none may run twice.
    workers = await asyncio.to_thread(
        start_workers, fleet, 2, HOOKQ_AMQP_URL=amqp_url, HOOKQ_TEST_AFTER_EFFECT_DELAY="0.05"
    )
    outages = OUTAGES if not scale.full else 2

    events = [senders.standard("rel.outage", {"n": n}) for n in range(scale.outage_events)]

    async def break_the_broker(progress: Outcomes) -> None:
        for number in range(1, outages + 1):
            # Each outage once a further share of the events is acknowledged: the traffic is
            # in full flow when the broker goes, however fast this machine is.
            async with asyncio.timeout(120):
                while len(progress.acked) < number * len(events) / (outages + 2):
                    await asyncio.sleep(0.02)
            if scale.full:
                await restart_broker()
            else:
                await proxy.cut()
                await asyncio.sleep(OUTAGE_SECONDS)
                await proxy.restore()
            fleet.restarts += 1

    try:
        outcomes = await traffic_while(port, events, break_the_broker)
        assert ingress.rss_bytes() < RSS_BOUND, "the ingress outgrew its memory bound under load"
        result = await settle_and_judge(fleet, workers, settings, names, redis_client, outcomes)
    finally:
        await proxy.cut()
    verdict = result.verdict
    SUMMARY.add(verdict, events=len(events), restarts=outages)
    refusals = outcomes.statuses[503] + outcomes.statuses[0]
    print(f"broker outage: {refusals} answers 503 or none, {len(outcomes.ambiguous)} never acked")

    assert refusals > 0, "the outage was never seen by the ingress: the scenario did not bite"
    result.assert_acked_events_ran_once()
    # Providers retry until acknowledged: with the outages over, every event got through.
    assert outcomes.acked == {e.delivery_id for e in events}
