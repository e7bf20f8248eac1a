"""Each source's ``accept``: authentication, identification and refusals (pure, no broker)."""

from __future__ import annotations

import base64
import time

import orjson
import pytest

from hookq.settings import Settings
from hookq.sources.base import BadPayload, Source, Unauthorized
from hookq.sources.livechat import LivechatSource
from hookq.sources.plain import PlainSource
from hookq.sources.registry import build_sources
from hookq.sources.standard import StandardSource
from hookq.sources.starya import StaryaSource
from tests.conftest import LIVECHAT_SECRET, PLAIN_SECRET, STANDARD_SECRET, STARYA_SECRET
from tests.ingress import signing
from tests.ingress.signing import REFERENCE, vectors

NOW = time.time()
PLAIN_EVENT = {
    "id": "pEv_01",
    "type": "thread.chat_sent",
    "timestamp": "2024-01-01T00:00:00Z",
    "workspaceId": "w_1",
    "payload": {},
    "webhookMetadata": {"webhookDeliveryAttemptNumber": 1},
}
LIVECHAT_EVENT = {
    "webhook_id": "wh1",
    "action": "incoming_chat",
    "organization_id": "o",
    "payload": {},
}
STARYA_EVENT = {
    "event": "chat.created",
    "timestamp": "2024-05-21T10:30:00.123Z",
    "data": {"id": "c1"},
}
STANDARD_EVENT = {"type": "invoice.paid", "timestamp": "2024-01-01T00:00:00Z", "data": {"n": 1}}


def make(cls: type[Source], *secrets: str, insecure: bool = False, **kw: str) -> Source:
    """A source with these secrets and provider settings (``kw``)."""
    settings = cls.settings_type.model_validate({"secrets": list(secrets), **kw})
    return cls(settings, insecure=insecure)


# Plain --------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", vectors()["plain"], ids=lambda v: v["note"][:30])
def test_plain_vectors_authenticate(vector: dict[str, str]) -> None:
    body = (
        (REFERENCE / vector["body_file"]).read_bytes()
        if "body_file" in vector
        else vector["body"].encode()
    )
    headers = {"Plain-Request-Signature": vector["header_Plain-Request-Signature"]}
    source = make(PlainSource, vector["secret"])
    if "body_file" in vector:
        # The vector's own attempt timestamp, 1 s later: inside the 300 s window.
        sent = orjson.loads(body)["webhookMetadata"]["webhookDeliveryAttemptTimestamp"]
        from datetime import datetime

        accepted = source.accept(headers, body, datetime.fromisoformat(sent).timestamp() + 1)
        assert accepted.event_type == "thread.thread_created"
        assert accepted.delivery_id == orjson.loads(body)["id"]
        assert accepted.body is body  # forwarded byte for byte
    else:
        # The signature is right, so the refusal is about the body (not JSON): 400, not 401.
        with pytest.raises(BadPayload, match="not valid JSON"):
            source.accept(headers, body, NOW)


def test_plain_vector_outside_replay_window_is_refused() -> None:
    vector = vectors()["plain"][1]
    body = (REFERENCE / vector["body_file"]).read_bytes()
    headers = {"Plain-Request-Signature": vector["header_Plain-Request-Signature"]}
    with pytest.raises(Unauthorized, match="from now"):
        make(PlainSource, "secret").accept(headers, body, NOW)


@pytest.mark.parametrize("offset", [-301, 301, 10_000])
def test_plain_replayed_or_future_timestamp_is_refused(offset: int) -> None:
    body, headers = signing.plain_request(PLAIN_EVENT, now=NOW + offset)
    with pytest.raises(Unauthorized):
        make(PlainSource, PLAIN_SECRET).accept(headers, body, NOW)


def test_plain_signature_checks() -> None:
    source = make(PlainSource, "old-secret", PLAIN_SECRET)  # rotation: both valid
    body, headers = signing.plain_request(PLAIN_EVENT, now=NOW)
    assert source.accept(headers, body, NOW).delivery_id == "pEv_01"
    upper = {"Plain-Request-Signature": headers["Plain-Request-Signature"].upper()}
    assert source.accept(upper, body, NOW).event_type == "thread.chat_sent"
    with pytest.raises(Unauthorized, match="missing"):
        source.accept({}, body, NOW)
    flipped = bytearray(body)
    flipped[5] ^= 1
    with pytest.raises(Unauthorized, match="does not match"):
        source.accept(headers, bytes(flipped), NOW)
    with pytest.raises(Unauthorized):
        make(PlainSource, "another").accept(headers, body, NOW)


def test_plain_keeps_none_of_its_unsigned_headers() -> None:
    # Each Plain-* header repeats a field of the signed body; the headers themselves are not
    # signed, so a forged one must not reach a handler beside the authenticated body.
    body, headers = signing.plain_request(PLAIN_EVENT, now=NOW)
    accepted = make(PlainSource, PLAIN_SECRET).accept(
        {**headers, "Plain-Event-Id": "forged", "Plain-Webhook-Target-Id": "t"}, body, NOW
    )
    assert accepted.provider_headers == {}
    assert accepted.delivery_id == "pEv_01"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"type": None}, "'type'"),
        ({"id": ""}, "'id'"),
        ({"webhookMetadata": "x"}, "webhookDeliveryAttemptTimestamp"),
    ],
)
def test_plain_identity_missing_is_bad_payload(change: dict[str, object], match: str) -> None:
    event = {**PLAIN_EVENT, **change}
    body = orjson.dumps(event) if change.get("webhookMetadata") == "x" else b""
    if not body:
        body, headers = signing.plain_request(event, now=NOW)
    else:
        headers = {"Plain-Request-Signature": signing.hmac_hex(PLAIN_SECRET, body)}
    with pytest.raises(BadPayload, match=match):
        make(PlainSource, PLAIN_SECRET).accept(headers, body, NOW)


# LiveChat -----------------------------------------------------------------------------------


def test_livechat_secret_is_checked_and_stripped() -> None:
    source = make(LivechatSource, "rotated-out", LIVECHAT_SECRET)
    body, headers = signing.livechat_request(LIVECHAT_EVENT)
    accepted = source.accept(headers, body, NOW)
    assert accepted.event_type == "incoming_chat"
    assert b"secret_key" not in accepted.body
    assert LIVECHAT_SECRET.encode() not in accepted.body
    assert orjson.loads(accepted.body) == LIVECHAT_EVENT


def test_livechat_delivery_id_is_stable_across_secret_rotation() -> None:
    source = make(LivechatSource, "first-secret", "second-secret")
    first = source.accept({}, *signing.livechat_request(LIVECHAT_EVENT, "first-secret")[:1], NOW)
    second = source.accept({}, *signing.livechat_request(LIVECHAT_EVENT, "second-secret")[:1], NOW)
    other = source.accept(
        {},
        signing.livechat_request({**LIVECHAT_EVENT, "payload": {"x": 1}}, "first-secret")[0],
        NOW,
    )
    assert first.delivery_id == second.delivery_id != other.delivery_id
    assert first.delivery_id.startswith("sha256:")


def test_livechat_never_takes_its_delivery_id_from_a_header() -> None:
    # Nothing outside LiveChat's body is authenticated: a header must not decide dedupe.
    source = make(LivechatSource, LIVECHAT_SECRET)
    body, _ = signing.livechat_request(LIVECHAT_EVENT)
    plain = source.accept({}, body, NOW).delivery_id
    assert source.accept({"X-Delivery-Id": "d-7"}, body, NOW).delivery_id == plain


@pytest.mark.parametrize("secret", [None, "", "wrong", 42])
def test_livechat_wrong_or_missing_secret(secret: object) -> None:
    event = dict(LIVECHAT_EVENT)
    if secret is not None:
        event["secret_key"] = secret  # type: ignore[assignment]
    with pytest.raises(Unauthorized):
        make(LivechatSource, LIVECHAT_SECRET).accept({}, orjson.dumps(event), NOW)


# StaryaAI -----------------------------------------------------------------------------------


def test_starya_bearer_and_hmac() -> None:
    source = make(StaryaSource, STARYA_SECRET)
    for body, headers in (signing.starya_bearer(STARYA_EVENT), signing.starya_signed(STARYA_EVENT)):
        accepted = source.accept(headers, body, NOW)
        assert accepted.event_type == "chat.created"
        assert accepted.delivery_id.startswith("sha256:")
        assert accepted.body is body
    body, headers = signing.starya_signed(STARYA_EVENT)
    bare = {"X-Starya-Signature": headers["X-Starya-Signature"].removeprefix("sha256=")}
    assert source.accept(bare, body, NOW).event_type == "chat.created"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"X-Starya-Signature": "sha256=00"},
    ],
)
def test_starya_refusals(headers: dict[str, str]) -> None:
    with pytest.raises(Unauthorized):
        make(StaryaSource, STARYA_SECRET).accept(headers, orjson.dumps(STARYA_EVENT), NOW)


# Standard Webhooks --------------------------------------------------------------------------


def test_standard_official_vector() -> None:
    vector = vectors()["standard_webhooks"][0]
    headers = {
        "webhook-id": vector["webhook-id"],
        "webhook-timestamp": vector["webhook-timestamp"],
        "webhook-signature": vector["expected_webhook-signature"],
    }
    source = make(StandardSource, vector["secret"])
    body = b'{"test": 2432232314, "type": "test.vector"}'
    # The vector's body has no "type": it authenticates, then is refused as unroutable (400).
    with pytest.raises(BadPayload, match="'type'"):
        source.accept(headers, vector["body"].encode(), float(vector["webhook-timestamp"]))
    with pytest.raises(Unauthorized, match="does not match"):
        source.accept(headers, body, float(vector["webhook-timestamp"]))


def test_standard_independent_sender_is_accepted() -> None:
    body, headers = signing.standard_request(STANDARD_EVENT, msg_id="msg_abc")
    accepted = make(StandardSource, STANDARD_SECRET).accept(headers, body, time.time())
    assert (accepted.event_type, accepted.delivery_id) == ("invoice.paid", "msg_abc")
    assert accepted.provider_headers["webhook-id"] == "msg_abc"


def test_standard_tampered_or_stale_is_refused() -> None:
    source = make(StandardSource, STANDARD_SECRET)
    body, headers = signing.standard_request(STANDARD_EVENT)
    with pytest.raises(Unauthorized):
        source.accept(headers, body.replace(b"paid", b"void"), time.time())
    old_body, old_headers = signing.standard_request(STANDARD_EVENT, sent_at=time.time() - 360)
    with pytest.raises(Unauthorized, match="from now"):
        source.accept(old_headers, old_body, time.time())


def test_standard_several_signatures_and_unknown_versions() -> None:
    source = make(StandardSource, STANDARD_SECRET)
    body, headers = signing.standard_request(STANDARD_EVENT)
    bogus = "v1," + base64.b64encode(b"x" * 32).decode()
    headers["webhook-signature"] = f"v2,whatever {bogus} {headers['webhook-signature']}"
    assert source.accept(headers, body, time.time()).event_type == "invoice.paid"


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": ""},
        {"webhook-signature": "v1"},
        {"webhook-signature": "v2,abc"},
        {"webhook-signature": "v1,!!!not-base64"},
        {"webhook-timestamp": "yesterday"},
        {"webhook-timestamp": ""},
        {"webhook-id": ""},
    ],
)
def test_standard_malformed_headers_are_401(change: dict[str, str]) -> None:
    body, headers = signing.standard_request(STANDARD_EVENT)
    with pytest.raises(Unauthorized):
        make(StandardSource, STANDARD_SECRET).accept({**headers, **change}, body, time.time())


# Common -------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"not json", b"[1,2]", b'"text"', b"\xff\xfe", b"{"])
def test_bodies_that_are_not_json_objects(body: bytes) -> None:
    with pytest.raises(BadPayload):
        make(StaryaSource, STARYA_SECRET).accept(
            {"Authorization": f"Bearer {STARYA_SECRET}"}, body, NOW
        )


def test_insecure_source_accepts_without_credentials() -> None:
    source = make(StaryaSource, insecure=True)
    assert source.accept({}, orjson.dumps(STARYA_EVENT), NOW).event_type == "chat.created"
    assert make(LivechatSource, insecure=True).accept({}, orjson.dumps(LIVECHAT_EVENT), NOW)


def test_secure_source_without_secret_refuses_everything() -> None:
    with pytest.raises(Unauthorized):
        make(StaryaSource).accept({"Authorization": "Bearer "}, orjson.dumps(STARYA_EVENT), NOW)


def test_build_sources_uses_each_sources_secrets(settings: Settings) -> None:
    sources = build_sources(settings)
    assert set(sources) == {"plain", "livechat", "starya", "standard"}
    body, headers = signing.plain_request(PLAIN_EVENT)
    assert sources["plain"].accept(headers, body, time.time()).delivery_id == "pEv_01"


@pytest.mark.parametrize(
    ("source", "headers"),
    [
        (make(StaryaSource, STARYA_SECRET), {"Authorization": "Bearer \udcff\udcfe"}),
        (make(StaryaSource, STARYA_SECRET), {"X-Starya-Signature": "\udcff"}),
        (make(PlainSource, PLAIN_SECRET), {"Plain-Request-Signature": "ab\udcff"}),
        (
            make(StandardSource, STANDARD_SECRET),
            {
                "webhook-id": "m\udcff",
                "webhook-timestamp": str(int(NOW)),
                "webhook-signature": "v1,\udcff",
            },
        ),
    ],
)
def test_header_bytes_that_are_not_utf8_are_401(source: Source, headers: dict[str, str]) -> None:
    # aiohttp hands such bytes over as surrogate escapes; they must be refused, not crash.
    with pytest.raises(Unauthorized):
        source.accept(headers, orjson.dumps(STARYA_EVENT), NOW)


def test_livechat_body_is_queued_byte_for_byte_without_its_secret() -> None:
    # Re-serialising changed numbers (2^64 became a float, 1e15 became 1000000000000000.0,
    # 1.5e-400 became 0.0): two events shared a body and a delivery id. Nothing changes now.
    deep = b'{"a":' * 300 + b"1" + b"}" * 300
    body = (
        b'{ "action" : "incoming_chat",\n "n": 18446744073709551616, "f": 1e15, '
        b'"t": 1.5e-400, "secret_key": "%s", "payload": %s }'
    ) % (LIVECHAT_SECRET.encode(), deep)
    accepted = make(LivechatSource, LIVECHAT_SECRET).accept({}, body, NOW)
    assert accepted.body == body.replace(b'"secret_key": "%s", ' % LIVECHAT_SECRET.encode(), b"")
    other = body.replace(b"1.5e-400", b"1.5e-401")
    assert make(LivechatSource, LIVECHAT_SECRET).accept({}, other, NOW).delivery_id != (
        accepted.delivery_id
    )
