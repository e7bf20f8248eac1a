"""The ingress against the real broker: what is answered 2xx is in RabbitMQ, what is refused
is not, and a broker outage gives 503s, never a 2xx for a message the broker does not hold."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import pytest
import structlog.testing
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from hookq.ingress.app import create_app
from hookq.ingress.publisher import Publisher
from hookq.message import Header
from hookq.settings import Settings
from hookq.topology import Names, declare_exchanges
from tests.conftest import LIVECHAT_SECRET
from tests.ingress import signing
from tests.ingress.signing import REFERENCE, SEEDS, load_json
from tests.support.proxy import CuttableProxy, url_via

LIVECHAT_FIXTURES = sorted((REFERENCE / "livechat" / "fixtures-v3.5").glob("*.json"))


@contextlib.asynccontextmanager
async def running_ingress(settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    from hookq.sources.registry import build_sources

    publisher = Publisher(settings, Names(settings.namespace), connection_name="test-ingress")
    await publisher.start()
    async with asyncio.timeout(10):
        await publisher.wait_connected()
    client = TestClient(TestServer(create_app(settings, build_sources(settings), publisher)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        await publisher.close()


@pytest.fixture
async def ingress(settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    async with running_ingress(settings) as client:
        yield client


@pytest.fixture
async def tap(amqp: AbstractRobustConnection, names: Names) -> AbstractQueue:
    """A queue bound to every routing key: what the ingress published."""
    channel = await amqp.channel()
    events, _ = await declare_exchanges(channel, names)
    queue = await channel.declare_queue(f"{names.namespace}.tap", durable=True)
    await queue.bind(events, routing_key="#")
    return queue


async def drain(queue: AbstractQueue) -> list[AbstractIncomingMessage]:
    messages = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        messages.append(message)
    return messages


async def post(
    client: TestClient[Any, Any], source: str, request: signing.Request
) -> ClientResponse:
    body, headers = request
    return await client.post(f"/webhooks/{source}", data=body, headers=headers)


def seed_requests() -> list[tuple[str, str, signing.Request]]:
    """(id, source, request) for every repaired seed example and LiveChat reference fixture."""
    cases = []
    for path in sorted(SEEDS.glob("*/*.json")):
        source, event = path.parent.name, load_json(path)
        sign = {
            "plain": signing.plain_request,
            "livechat": signing.livechat_request,
            "starya": signing.starya_signed,
        }[source]
        cases.append((f"seed/{source}/{path.stem}", source, sign(event)))
    for path in LIVECHAT_FIXTURES:
        cases.append(
            (f"reference/{path.stem}", "livechat", signing.livechat_request(load_json(path)))
        )
    return cases


def expected_routing(source: str, request: signing.Request) -> tuple[str, str]:
    event = json.loads(request[0])
    event_type = {"plain": "type", "livechat": "action", "starya": "event"}[source]
    return f"{source}.{event[event_type]}", event.get("id", "")


async def test_every_example_is_acknowledged_and_queued(
    ingress: TestClient[Any, Any], tap: AbstractQueue
) -> None:
    cases = seed_requests()
    sources_seen = {source for _, source, _ in cases}
    assert sources_seen >= {"plain", "livechat", "starya"}, "repaired seed fixtures are missing"
    assert len(LIVECHAT_FIXTURES) == 36

    answered: dict[str, tuple[str, str]] = {}
    for case_id, source, request in cases:
        response = await post(ingress, source, request)
        assert response.status == 200, (case_id, await response.text())
        delivery_id = (await response.json())["delivery_id"]
        routing_key, plain_id = expected_routing(source, request)
        if source == "plain":
            assert delivery_id == plain_id
        answered[delivery_id] = (routing_key, source)

    queued = {m.headers[Header.DELIVERY_ID]: m for m in await drain(tap)}
    assert set(queued) == set(answered)
    for delivery_id, (routing_key, source) in answered.items():
        message = queued[delivery_id]
        assert message.routing_key == routing_key
        assert message.headers[Header.SOURCE] == source
        assert message.headers[Header.EVENT_TYPE] == routing_key.split(".", 1)[1]
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert LIVECHAT_SECRET.encode() not in message.body
        # Only the Standard Webhooks headers are kept (signed): no empty table for the rest.
        assert Header.PROVIDER_HEADERS not in message.headers
        assert b"secret_key" not in message.body or source != "livechat"


async def test_message_ids_are_unique_per_publish(
    ingress: TestClient[Any, Any], tap: AbstractQueue
) -> None:
    event = load_json(REFERENCE / "livechat" / "fixtures-v3.5" / "incoming_chat.json")
    for _ in range(3):  # the same delivery three times, as a retrying provider sends it
        assert (await post(ingress, "livechat", signing.livechat_request(event))).status == 200
    messages = await drain(tap)
    assert len({m.headers[Header.DELIVERY_ID] for m in messages}) == 1
    assert len({m.message_id for m in messages}) == 3


async def test_standard_sender_and_headers_kept(
    ingress: TestClient[Any, Any], tap: AbstractQueue
) -> None:
    request = signing.standard_request({"type": "invoice.paid", "data": {}}, msg_id="msg_42")
    response = await post(ingress, "standard", request)
    assert (response.status, await response.json()) == (200, {"delivery_id": "msg_42"})
    [message] = await drain(tap)
    assert message.routing_key == "standard.invoice.paid"
    provider = message.headers[Header.PROVIDER_HEADERS]
    assert isinstance(provider, dict)
    assert provider["webhook-id"] == "msg_42"
    assert "webhook-signature" not in provider
    # Whole seconds as an integer: pamqp would send a float as 32 bits (minutes off by 2026).
    received_at = message.headers[Header.RECEIVED_AT]
    assert isinstance(received_at, int)
    assert abs(received_at - time.time()) < 5


BAD_INPUTS: list[tuple[str, str, signing.Request, int]] = [
    ("unknown source", "zendesk", (b"{}", {}), 404),
    ("not json", "starya", (b"{nope", {"Authorization": "Bearer starya-test-secret"}), 400),
    ("json array", "starya", (b"[1]", {"Authorization": "Bearer starya-test-secret"}), 400),
    (
        "invalid utf-8",
        "starya",
        (b'{"event": "\xff"}', {"Authorization": "Bearer starya-test-secret"}),
        400,
    ),
    ("no event type", "starya", signing.starya_bearer({"data": {}}), 400),
    ("event type with topic syntax", "starya", signing.starya_bearer({"event": "chat.#"}), 400),
    ("empty event type word", "starya", signing.starya_bearer({"event": "chat..created"}), 400),
    ("wrong bearer", "starya", signing.starya_bearer({"event": "chat.created"}, "nope"), 401),
    ("no credentials", "starya", (b'{"event": "chat.created"}', {}), 401),
    ("plain wrong signature", "plain", ((b'{"id":"1"}'), {"Plain-Request-Signature": "00"}), 401),
    ("plain no signature", "plain", (b'{"id":"1"}', {}), 401),
    (
        "plain replayed",
        "plain",
        signing.plain_request({"id": "pEv_x", "type": "thread.chat_sent"}, now=time.time() - 600),
        401,
    ),
    (
        "livechat wrong secret",
        "livechat",
        signing.livechat_request({"action": "incoming_chat"}, "x"),
        401,
    ),
    ("livechat no action", "livechat", signing.livechat_request({"payload": {}}), 400),
    (
        "standard stale",
        "standard",
        signing.standard_request({"type": "a.b"}, sent_at=time.time() - 360),
        401,
    ),
    (
        "standard malformed signature",
        "standard",
        (
            b'{"type":"a"}',
            {
                "webhook-id": "m",
                "webhook-timestamp": str(int(time.time())),
                "webhook-signature": "v1,%%",
            },
        ),
        401,
    ),
]


@pytest.mark.parametrize(
    ("case", "source", "request_", "status"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
async def test_bad_input_is_refused_and_nothing_published(
    ingress: TestClient[Any, Any],
    tap: AbstractQueue,
    amqp: AbstractRobustConnection,
    names: Names,
    case: str,
    source: str,
    request_: signing.Request,
    status: int,
) -> None:
    response = await post(ingress, source, request_)
    assert response.status == status, await response.text()
    payload = await response.json()
    assert payload["error"]
    assert payload["message"]
    assert await drain(tap) == []
    unrouted = await (await amqp.channel()).declare_queue(names.unrouted_queue, passive=True)
    assert unrouted.declaration_result.message_count == 0


async def test_oversized_bodies_get_413(settings: Settings, tap: AbstractQueue) -> None:
    small = settings.model_copy(update={"max_body_bytes": 4096})
    event = {"event": "chat.created", "data": {"blob": "x" * 5000}}
    async with running_ingress(small) as client:
        response = await post(client, "starya", signing.starya_bearer(event))
        assert response.status == 413
        assert (await response.json())["error"] == "too_large"

        body, headers = signing.starya_bearer(event)

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: refused while read
            for start in range(0, len(body), 1000):
                yield body[start : start + 1000]

        response = await client.post("/webhooks/starya", data=chunks(), headers=headers)
        assert response.status == 413
        fits = signing.starya_bearer({"event": "chat.created", "data": {}})
        assert (await post(client, "starya", fits)).status == 200
    assert len(await drain(tap)) == 1


async def test_body_not_matching_its_content_encoding_is_400(
    ingress: TestClient[Any, Any], tap: AbstractQueue
) -> None:
    # aiohttp closes such a connection after the answer (it cannot drain the body), which its
    # own client may race: read the answer off the socket, as a provider's client does.
    body, headers = signing.starya_bearer({"event": "chat.created"})
    for encoding in ("gzip", "deflate"):
        reader, writer = await asyncio.open_connection("127.0.0.1", ingress.port)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(
            f"POST /webhooks/starya HTTP/1.1\r\nHost: t\r\n{head}"
            f"Content-Encoding: {encoding}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert b'"error":"bad_body"' in answer
    assert await drain(tap) == []


async def test_unbound_events_are_kept_in_the_unrouted_queue(
    ingress: TestClient[Any, Any], amqp: AbstractRobustConnection, names: Names
) -> None:
    request = signing.starya_bearer({"event": "chat.created", "data": {"id": "c"}})
    assert (await post(ingress, "starya", request)).status == 200
    queue = await (await amqp.channel()).declare_queue(names.unrouted_queue, passive=True)
    [message] = await drain(queue)
    assert message.routing_key == "starya.chat.created"
    assert message.body == request[0]


async def test_health_readiness_and_metrics(ingress: TestClient[Any, Any]) -> None:
    assert (await ingress.get("/healthz")).status == 200
    assert (await ingress.get("/readyz")).status == 200
    await post(ingress, "nowhere", (b"{}", {}))
    await post(ingress, "starya", (b"{}", {}))
    await post(ingress, "starya", signing.starya_bearer({"event": "chat.created"}))
    text = await (await ingress.get("/metrics")).text()
    assert 'hookq_ingress_requests_total{source="unknown",status="404"} 1.0' in text
    assert 'hookq_ingress_requests_total{source="starya",status="401"} 1.0' in text
    assert 'hookq_ingress_requests_total{source="starya",status="200"} 1.0' in text
    assert 'hookq_ingress_publish_seconds_count{source="starya"} 1.0' in text


async def test_broker_outage_gives_503_then_recovers_without_restart(
    settings: Settings, amqp_url: str, tap: AbstractQueue
) -> None:
    target = urlsplit(amqp_url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5672)
    port = await proxy.start()
    proxied = settings.model_copy(
        update={"amqp_url": amqp_url.replace(f":{target.port}", f":{port}"), "publish_timeout": 1.0}
    )
    statuses: list[tuple[float, int, str | None]] = []
    stop = asyncio.Event()

    async def traffic(client: TestClient[Any, Any], worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            request = signing.standard_request({"type": "load.tick"}, msg_id=f"w{worker}-{n}")
            response = await post(client, "standard", request)
            body = await response.json()
            if response.status == 503:
                assert response.headers["Retry-After"] == str(settings.retry_after)
            statuses.append((time.monotonic(), response.status, body.get("delivery_id")))
            await asyncio.sleep(0.01)

    async with running_ingress(proxied) as client:
        tasks = [asyncio.create_task(traffic(client, w)) for w in range(4)]
        await asyncio.sleep(1.0)
        await proxy.cut()
        cut_at = time.monotonic()
        await asyncio.sleep(2.0)
        assert (await client.get("/readyz")).status == 503
        await proxy.restore()
        restored_at = time.monotonic()
        async with asyncio.timeout(20):  # robust reconnection, no restart of the ingress
            while not any(t > restored_at and s == 200 for t, s, _ in statuses):
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*tasks)
        assert (await client.get("/readyz")).status == 200
    await proxy.cut()

    assert {s for _, s, _ in statuses} <= {200, 503}
    assert any(s == 503 for t, s, _ in statuses if cut_at < t < restored_at)
    assert any(s == 200 for t, s, _ in statuses if t < cut_at)
    acknowledged = {d for _, s, d in statuses if s == 200 and d is not None}
    queued = {m.headers[Header.DELIVERY_ID] for m in await drain(tap)}
    assert acknowledged <= queued, f"acknowledged but lost: {sorted(acknowledged - queued)[:5]}"


def test_seed_fixture_directories_exist() -> None:
    for source in ("plain", "livechat", "starya"):
        assert list((SEEDS / source).glob("*.json")), f"no repaired seed examples for {source}"


def test_reference_dir_is_beside_the_repo() -> None:
    assert Path(REFERENCE, "signature-test-vectors.json").is_file()


async def test_a_dead_node_moves_the_ingress_to_the_next_one_without_restart(
    settings: Settings, amqp_url: str, tap: AbstractQueue
) -> None:
    # Two "nodes" of HOOKQ_AMQP_URL, proxies to the shared broker: the first one dies.
    target = urlsplit(amqp_url)
    nodes = [CuttableProxy(target.hostname or "127.0.0.1", target.port or 5672) for _ in "ab"]
    ports = [await node.start() for node in nodes]
    clustered = settings.model_copy(
        update={
            "amqp_url": ",".join(url_via(amqp_url, port) for port in ports),
            "publish_timeout": 1.0,
        }
    )
    answers: list[tuple[int, str | None]] = []
    async with running_ingress(clustered) as client:

        async def send(n: int) -> int:
            request = signing.standard_request({"type": "node.tick"}, msg_id=f"n-{n}")
            response = await post(client, "standard", request)
            answers.append((response.status, (await response.json()).get("delivery_id")))
            return response.status

        assert await send(0) == 200
        await nodes[0].cut()
        n = 1
        async with asyncio.timeout(15):  # back on the second node, with no restart
            while await send(n) != 200:
                n += 1
                await asyncio.sleep(0.05)
            # Ready again once every publishing channel is back (the first may serve sooner).
            while (await client.get("/readyz")).status != 200:
                await asyncio.sleep(0.1)
    for node in nodes:
        await node.cut()

    assert {status for status, _ in answers} <= {200, 503}
    acknowledged = {d for s, d in answers if s == 200 and d is not None}
    queued = {m.headers[Header.DELIVERY_ID] for m in await drain(tap)}
    assert len(acknowledged) == 2
    assert acknowledged <= queued, f"acknowledged but lost: {sorted(acknowledged - queued)}"


async def test_a_nacked_publish_replaces_its_channel_once_a_second_at_most(
    settings: Settings, amqp: AbstractRobustConnection, names: Names
) -> None:
    """A full queue that refuses (reject-publish) nacks: each nacked publish is a 503, and its
    channel is replaced (a channel's stale view of a queue can nack for as long as it lives:
    docs/reliability.md, "Stuck nacks"), once however many nacks come in that second; the new
    channel publishes once there is room."""
    channel = await amqp.channel()
    events, _ = await declare_exchanges(channel, names)
    full = await channel.declare_queue(
        f"{names.namespace}.one-slot",
        durable=True,
        arguments={"x-queue-type": "quorum", "x-max-length": 1, "x-overflow": "reject-publish"},
    )
    await full.bind(events, routing_key="#")
    one_channel = settings.model_copy(update={"publish_channels": 1})
    replaced_event = "publisher channel replaced after a nack"
    sends = iter(signing.starya_bearer({"event": "t.nack", "data": {"n": n}}) for n in range(9))
    with structlog.testing.capture_logs() as logs:
        async with running_ingress(one_channel) as ingress:
            # A quorum queue's length bound is checked as messages come: one or two fit.
            statuses = [(await post(ingress, "starya", next(sends))).status for _ in range(3)]
            accepted = statuses.count(200)
            assert statuses == [200] * accepted + [503] * (3 - accepted)
            assert accepted < 3
            more = [(await post(ingress, "starya", next(sends))).status for _ in range(2)]
            assert more == [503, 503]
            async with asyncio.timeout(5):
                while not any(e["event"] == replaced_event for e in logs):
                    await asyncio.sleep(0.05)
            assert len(await drain(full)) == accepted
            assert (await post(ingress, "starya", next(sends))).status == 200
    replaced = [e for e in logs if e["event"] == replaced_event]
    assert len(replaced) == 1, replaced
