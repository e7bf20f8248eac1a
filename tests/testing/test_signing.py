"""``hookq.testing.signed_request``: each provider's scheme, checked by code that is not hookq's
(the standard library's ``hmac``, the official ``standardwebhooks`` package), and accepted by a
real ingress publishing to the real broker."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aio_pika.abc import AbstractQueue, AbstractRobustConnection
from aiohttp.test_utils import TestClient
from standardwebhooks.webhooks import Webhook

from hookq.message import Header
from hookq.settings import Settings
from hookq.sources.base import BadPayload
from hookq.sources.catalogue import example
from hookq.testing import SECRETS, signed_request, source_settings
from hookq.testing.signing import plain_time
from hookq.topology import Names, declare_exchanges
from tests.conftest import SECRETS as TEST_SECRETS
from tests.ingress.test_ingress import running_ingress

NOW = 1_790_000_000.0


def hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_plain_signs_the_body_with_a_fresh_attempt_time() -> None:
    request = signed_request("plain", "thread.chat_sent", secret="s3cret", now=NOW)
    event = json.loads(request.body)
    assert request.headers["Plain-Request-Signature"] == hex_hmac("s3cret", request.body)
    assert event["webhookMetadata"]["webhookDeliveryAttemptTimestamp"] == plain_time(NOW)
    assert plain_time(NOW) == "2026-09-21T14:13:20.000Z"
    # Plain's informative headers repeat the body's fields.
    assert request.headers["Plain-Event-Id"] == event["id"] == request.delivery_id
    assert request.headers["Plain-Event-Type"] == "thread.chat_sent"
    assert request.headers["Plain-Webhook-Delivery-Attempt-Number"] == "1"
    # Everything but the attempt time is the example's.
    original = json.loads(example("plain", "thread.chat_sent"))
    del original["webhookMetadata"]["webhookDeliveryAttemptTimestamp"]
    del event["webhookMetadata"]["webhookDeliveryAttemptTimestamp"]
    assert event == original


def test_livechat_puts_the_secret_in_the_body_and_keeps_every_other_byte() -> None:
    request = signed_request("livechat", "incoming_chat", secret="lc-secret")
    event = json.loads(request.body)
    assert event["secret_key"] == "lc-secret"
    original = json.loads(example("livechat", "incoming_chat"))
    assert {**original, "secret_key": "lc-secret"} == event
    assert set(request.headers) == {"Content-Type"}
    assert b"lc-secret" not in request.accepted.body  # what the ingress queues


def test_livechat_secret_goes_into_an_empty_object_too() -> None:
    with pytest.raises(BadPayload, match="action"):  # signed, then refused for its content
        signed_request("livechat", "incoming_chat", b"{ }", secret="x")


def test_starya_hmac_of_the_body_alone_by_default() -> None:
    request = signed_request("starya", "chat.created", secret="st")
    assert request.headers["X-Starya-Signature"] == "sha256=" + hex_hmac("st", request.body)
    assert request.body == example("starya", "chat.created")


def test_starya_hmac_covers_the_configured_id_and_timestamp_headers() -> None:
    settings = source_settings(
        "starya", "st", id_header="X-Starya-Id", timestamp_header="X-Starya-Timestamp"
    )
    request = signed_request(
        "starya", "user.created", settings=settings, now=NOW, delivery_id="evt-42"
    )
    signed = b"evt-42." + str(int(NOW)).encode() + b"." + request.body
    assert request.headers["X-Starya-Signature"] == "sha256=" + hex_hmac("st", signed)
    assert request.headers["X-Starya-Timestamp"] == str(int(NOW))
    assert request.delivery_id == "evt-42"  # the signed id header is the dedupe key


def test_starya_bearer() -> None:
    request = signed_request("starya", "chat.deleted", secret="tok", scheme="bearer")
    assert request.headers["Authorization"] == "Bearer tok"
    assert "X-Starya-Signature" not in request.headers


def test_standard_webhooks_verified_by_the_reference_library() -> None:
    payload = {"type": "invoice.paid", "data": {"id": "inv_1", "amount": 4200}}
    request = signed_request("standard", "invoice.paid", payload, delivery_id="msg_1")
    verified = Webhook(SECRETS["standard"]).verify(request.body, dict(request.headers))
    assert verified == payload
    assert request.delivery_id == request.headers["webhook-id"] == "msg_1"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60


@pytest.mark.parametrize(
    "payload",
    [{"type": "a.b"}, b'{"type": "a.b"}', '{"type": "a.b"}'],
    ids=["mapping", "bytes", "text"],
)
def test_a_payload_of_your_own_as_mapping_bytes_or_text(payload: Any) -> None:
    request = signed_request("standard", "a.b", payload)
    assert json.loads(request.body) == {"type": "a.b"}


@pytest.mark.parametrize(
    ("source", "event_type", "payload", "kwargs", "said"),
    [
        ("plain", "thread.nothing", None, {}, "has no example of event type"),
        ("standard", "a.b", {"type": "c.d"}, {}, "is a standard.c.d event, not standard.a.b"),
        ("plain", "thread.chat_sent", None, {"delivery_id": "x"}, "the payload's 'id'"),
        ("livechat", "incoming_chat", None, {"delivery_id": "x"}, "digest of the body"),
        ("starya", "chat.created", None, {"delivery_id": "x"}, "HOOKQ_STARYA_ID_HEADER"),
        ("nosuch", "a.b", None, {}, "unknown source 'nosuch'"),
    ],
)
def test_what_cannot_be_signed_is_said(
    source: str, event_type: str, payload: Any, kwargs: dict[str, Any], said: str
) -> None:
    with pytest.raises((ValueError, LookupError)) as refused:
        signed_request(source, event_type, payload, **kwargs)
    assert said in str(refused.value)


# Through a real ingress, to the real broker --------------------------------------------------


@pytest.fixture
async def ingress(settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    async with running_ingress(settings) as client:
        yield client


@pytest.fixture
async def tap(amqp: AbstractRobustConnection, names: Names) -> AbstractQueue:
    channel = await amqp.channel()
    events, _ = await declare_exchanges(channel, names)
    queue = await channel.declare_queue(f"{names.namespace}.tap", auto_delete=True)
    await queue.bind(events, routing_key="#")
    return queue


@pytest.mark.parametrize(
    ("source", "event_type", "payload"),
    [
        ("plain", "thread.email_received", None),
        ("livechat", "incoming_event", None),
        ("starya", "chat.message.created", None),
        ("standard", "invoice.paid", {"type": "invoice.paid", "data": {"n": 1}}),
    ],
)
async def test_a_real_ingress_queues_what_the_kit_signs(
    ingress: TestClient[Any, Any],
    tap: AbstractQueue,
    source: str,
    event_type: str,
    payload: Any,
) -> None:
    request = signed_request(source, event_type, payload, secret=TEST_SECRETS[source])
    response = await ingress.post(request.path, data=request.body, headers=request.headers)
    assert response.status == 200, await response.text()
    assert await response.json() == {"delivery_id": request.delivery_id}
    message = await tap.get(timeout=10)
    await message.ack()
    assert message.headers[Header.EVENT_TYPE] == event_type
    assert message.headers[Header.DELIVERY_ID] == request.delivery_id
    assert message.body == request.accepted.body


async def test_a_real_ingress_refuses_another_secret(ingress: TestClient[Any, Any]) -> None:
    request = signed_request("plain", "thread.chat_sent", secret="not-the-ingress-secret")
    response = await ingress.post(request.path, data=request.body, headers=request.headers)
    assert response.status == 401
