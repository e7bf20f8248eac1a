"""Building correctly (and incorrectly) authenticated requests for each source, as senders do.

Shared by the ingress tests; the Standard Webhooks requests come from the official
``standardwebhooks`` package, an independent implementation of the spec.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook

from tests.conftest import LIVECHAT_SECRET, PLAIN_SECRET, STANDARD_SECRET, STARYA_SECRET
from tests.fixtures import REFERENCE as REFERENCE  # re-exported: the ingress tests use both
from tests.fixtures import SEEDS as SEEDS

Request = tuple[bytes, dict[str, str]]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plain_request(
    event: dict[str, Any], secret: str = PLAIN_SECRET, now: float | None = None
) -> Request:
    """A Plain delivery: the attempt timestamp set to ``now``, the body signed."""
    event = json.loads(json.dumps(event))
    event.setdefault("webhookMetadata", {})["webhookDeliveryAttemptTimestamp"] = iso(
        time.time() if now is None else now
    )
    body = orjson.dumps(event)
    return body, {"Plain-Request-Signature": hmac_hex(secret, body), "Plain-Event-Id": event["id"]}


def livechat_request(event: dict[str, Any], secret: str = LIVECHAT_SECRET) -> Request:
    return orjson.dumps({**event, "secret_key": secret}), {}


def starya_bearer(event: dict[str, Any], secret: str = STARYA_SECRET) -> Request:
    return orjson.dumps(event), {"Authorization": f"Bearer {secret}"}


def starya_signed(event: dict[str, Any], secret: str = STARYA_SECRET) -> Request:
    body = orjson.dumps(event)
    return body, {"X-Starya-Signature": f"sha256={hmac_hex(secret, body)}"}


def standard_request(
    event: dict[str, Any],
    msg_id: str = "msg_test",
    secret: str = STANDARD_SECRET,
    sent_at: float | None = None,
) -> Request:
    body = orjson.dumps(event)
    stamp = datetime.fromtimestamp(time.time() if sent_at is None else sent_at, UTC)
    signature = Webhook(secret).sign(msg_id, stamp, body.decode())
    return body, {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature,
    }


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = load_json(REFERENCE / "signature-test-vectors.json")
    return loaded
