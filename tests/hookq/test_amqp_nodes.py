"""``HOOKQ_AMQP_URL`` naming several nodes of one cluster: a connection goes to the first that
answers, a robust one that loses its node reconnects to the next live one (skipping dead ones),
with its channels and consumers, and every failure names its node without its password.

The "nodes" here are TCP proxies in front of the shared broker, cut to play a dead node: the
connection logic is the same as against a real cluster (tests/reliability/test_cluster.py kills
real nodes)."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from structlog.testing import capture_logs

from hookq import amqp
from hookq.amqp import BrokerUnreachable, ClusterConnection, broker_nodes, connect_robust
from hookq.connecting import safe_url
from hookq.settings import Settings
from tests.support.events import eventually
from tests.support.proxy import CuttableProxy, url_via

DEAD = "amqp://guest:secret-pw@127.0.0.1:1/"  # nothing listens on port 1


def test_nodes_are_split_on_commas_and_masked_each() -> None:
    url = "amqp://u:pw1@a:5701/v, amqp://u:pw2@b:5702/v,"
    assert broker_nodes(url) == ["amqp://u:pw1@a:5701/v", "amqp://u:pw2@b:5702/v"]
    assert safe_url(url) == "amqp://u@a:5701/v,amqp://u@b:5702/v"
    assert safe_url("amqp://u:pw@a/,") == "amqp://u@a/"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("amqp://a/,amqps://b/", True),
        ("amqp://a/, amqp://b/", True),
        ("amqp://a/,http://b/", False),
        ("amqp://a/,", False),
    ],
)
def test_the_setting_takes_several_amqp_urls(value: str, valid: bool) -> None:
    if valid:
        assert Settings(amqp_url=value).amqp_url == value
    else:
        with pytest.raises(ValueError, match="several nodes"):
            Settings(amqp_url=value)


def test_the_reconnection_hook_exists_in_this_aio_pika() -> None:
    # ClusterConnection extends it: an aio-pika without it would reconnect to one node only.
    assert hasattr(aio_pika.RobustConnection, "_RobustConnection__connect_transport")


async def test_a_plain_connection_takes_the_first_node_that_answers(amqp_url: str) -> None:
    connection = await amqp.connect(f"{DEAD},{amqp_url}", "test-first-answering")
    async with connection:
        assert not connection.is_closed
    with pytest.raises(BrokerUnreachable) as raised:
        await amqp.connect(f"{DEAD},{DEAD.replace(':1/', ':2/')}", "test-none-answering")
    message = str(raised.value)
    assert "connection refused at 127.0.0.1:1" in message
    assert "connection refused at 127.0.0.1:2" in message
    assert "secret-pw" not in message


async def test_a_robust_connection_moves_to_the_next_live_node_with_its_consumer(
    amqp_url: str, proxies: list[CuttableProxy], namespace: str
) -> None:
    first, second = proxies
    nodes = [url_via(amqp_url, first.port), DEAD, url_via(amqp_url, second.port)]
    with capture_logs() as logs:
        connection = await connect_robust(",".join(nodes), "test-cluster-connection")
    assert isinstance(connection, ClusterConnection)
    assert connection.node == safe_url(nodes[0])
    received: list[bytes] = []

    async def on_message(message: AbstractIncomingMessage) -> None:
        received.append(message.body)
        await message.ack()

    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"{namespace}.nodes", auto_delete=True)
        await queue.consume(on_message)
        publisher = await aio_pika.connect(amqp_url)
        async with publisher:
            sending = await publisher.channel()
            await sending.default_exchange.publish(aio_pika.Message(b"one"), queue.name)
            await eventually(lambda: received == [b"one"])

            restored = asyncio.Event()
            connection.reconnect_callbacks.add(lambda _sender: restored.set())
            with capture_logs() as lost_logs:
                await first.cut()  # the node dies: the next attempt finds port 1 dead, then B
                async with asyncio.timeout(15):
                    await restored.wait()
            assert connection.node == safe_url(nodes[2])
            await sending.default_exchange.publish(aio_pika.Message(b"two"), queue.name)
            await eventually(lambda: received == [b"one", b"two"])

    events = {entry["event"]: entry for entry in logs + lost_logs}
    assert events["broker node connected"]["node"] == safe_url(nodes[0])
    assert events["broker connection lost: reconnecting"]["node"] == safe_url(nodes[0])
    assert events["broker node unreachable, trying the next"]["reason"].startswith(
        "connection refused at 127.0.0.1:1"
    )
    assert events["broker connection restored"]["node"] == safe_url(nodes[2])
    assert "secret-pw" not in repr(logs + lost_logs)


async def test_a_first_connection_waits_for_any_node_and_says_why_for_each(
    amqp_url: str, proxies: list[CuttableProxy]
) -> None:
    first, second = proxies
    await first.cut()
    await second.cut()
    nodes = [url_via(amqp_url, first.port), url_via(amqp_url, second.port)]
    with capture_logs() as logs:
        connecting = asyncio.create_task(connect_robust(",".join(nodes), "test-waiting"))
        await eventually(lambda: any("unreachable" in entry["event"] for entry in logs))
        await second.restore()
        async with asyncio.timeout(15):
            connection = await connecting
    async with connection:
        assert connection.node == safe_url(nodes[1])
    refused = next(entry for entry in logs if "unreachable" in entry["event"])
    assert f"connection refused at 127.0.0.1:{first.port}" in refused["reason"]
    assert f"connection refused at 127.0.0.1:{second.port}" in refused["reason"]
