"""Signed webhook requests built from the real reference payloads in ``tests/fixtures/reference``.

Plain: the thread-created event with a fresh ``webhookDeliveryAttemptTimestamp`` (the ingress
refuses one more than 300 s off), signed as Plain signs (hex HMAC-SHA256 of the raw body).
LiveChat: every v3.5 fixture with ``secret_key`` set to the configured secret.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from tests.fixtures import REFERENCE

PLAIN_FIXTURE = "plain/plain-thread-created.raw.json"
LIVECHAT_FIXTURES = "livechat/fixtures-v3.5"

PLAIN_SECRET = "bench-plain-secret"
LIVECHAT_SECRET = "bench-livechat-secret-key"


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One POST: path, headers and body, ready for any client."""

    path: str
    headers: dict[str, str]
    body: bytes
    delivery_id: str


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plain_template() -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads((REFERENCE / PLAIN_FIXTURE).read_bytes())
    return document


def sign_plain(event: dict[str, Any], secret: str = PLAIN_SECRET) -> WebhookRequest:
    """The request Plain would send for ``event``: body, signature and its ``Plain-*`` headers."""
    body = orjson.dumps(event)
    meta = event["webhookMetadata"]
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "Plain-Request-Signature": signature,
        "Plain-Event-Id": event["id"],
        "Plain-Event-Type": event["type"],
        "Plain-Workspace-Id": event["workspaceId"],
        "Plain-Webhook-Target-Id": meta["webhookTargetId"],
        "Plain-Webhook-Target-Version": meta["webhookTargetVersion"],
        "Plain-Webhook-Delivery-Attempt-Id": meta["webhookDeliveryAttemptId"],
        "Plain-Webhook-Delivery-Attempt-Number": str(meta["webhookDeliveryAttemptNumber"]),
        "Plain-Webhook-Delivery-Attempt-Timestamp": meta["webhookDeliveryAttemptTimestamp"],
    }
    return WebhookRequest("/webhooks/plain", headers, body, event["id"])


def plain_requests(count: int, prefix: str, secret: str = PLAIN_SECRET) -> list[WebhookRequest]:
    """``count`` distinct Plain deliveries (ids ``<prefix><n>``: the worker dedupes on the id),
    all stamped now, so they must be sent within the ingress's replay window."""
    template, stamp = plain_template(), _now_iso()
    requests = []
    for n in range(count):
        event = dict(template)
        event["id"] = f"{prefix}{n:08d}"
        event["webhookMetadata"] = template["webhookMetadata"] | {
            "webhookDeliveryAttemptId": f"whAttempt_{prefix}{n:08d}",
            "webhookDeliveryAttemptTimestamp": stamp,
        }
        requests.append(sign_plain(event, secret))
    return requests


def plain_request(secret: str = PLAIN_SECRET) -> WebhookRequest:
    """The reference event as is (one id), freshly stamped: for the ingress, which does not
    dedupe, one request sent again and again is what a retrying provider sends."""
    event = plain_template()
    event["webhookMetadata"] = event["webhookMetadata"] | {
        "webhookDeliveryAttemptTimestamp": _now_iso()
    }
    return sign_plain(event, secret)


def livechat_requests(secret: str = LIVECHAT_SECRET) -> list[WebhookRequest]:
    """Every LiveChat v3.5 fixture, as LiveChat sends it with our secret."""
    requests = []
    for path in sorted((REFERENCE / LIVECHAT_FIXTURES).glob("*.json")):
        event = orjson.loads(path.read_bytes())
        event["secret_key"] = secret
        requests.append(
            WebhookRequest(
                "/webhooks/livechat",
                {"Content-Type": "application/json"},
                orjson.dumps(event),
                f"livechat:{path.stem}",
            )
        )
    if not requests:
        raise FileNotFoundError(f"no LiveChat fixtures under {REFERENCE / LIVECHAT_FIXTURES}")
    return requests
