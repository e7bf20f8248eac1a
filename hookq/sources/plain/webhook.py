"""Plain: HMAC-SHA256 of the raw body in ``Plain-Request-Signature``, plus a replay window on
the signed ``webhookMetadata.webhookDeliveryAttemptTimestamp``. Dedupe on the event ``id``,
which is the same on every retry (the attempt id is not).

Plain's other ``Plain-*`` headers are not kept: each repeats a field of the body (event id and
type, workspace, webhook target, delivery attempt), and only the body is signed. Handlers read
those fields, authenticated, from the typed event."""

from __future__ import annotations

from collections.abc import Mapping

from hookq.sources.base import (
    Accepted,
    BadPayload,
    Request,
    Source,
    Unauthorized,
    hmac_sha256,
    required_string,
    same,
    to_bytes,
)
from hookq.sources.plain.config import PlainSettings
from hookq.sources.plain.models import EVENTS, PlainEvent
from hookq.sources.plain.timestamps import attempt_time

SIGNATURE_HEADER = "Plain-Request-Signature"


class PlainSource(Source):
    name = "plain"
    settings_type = PlainSettings
    events = EVENTS
    envelope = PlainEvent

    def authenticate(self, request: Request) -> None:
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
        given = to_bytes(signature.strip().lower())
        body = request.body
        self.require_any_key(
            lambda key: same(hmac_sha256(key, body).hex().encode(), given), SIGNATURE_HEADER
        )
        # Signed: checked once the signature holds.
        self.check_window(request, sent_at(request.json), "webhookDeliveryAttemptTimestamp")

    def identify(self, request: Request) -> Accepted:
        event = request.json
        return Accepted(
            event_type=required_string(event, "type"),
            delivery_id=required_string(event, "id"),
            body=request.body,
        )


def sent_at(event: Mapping[str, object]) -> float:
    """``webhookMetadata.webhookDeliveryAttemptTimestamp`` as Unix time."""
    metadata = event.get("webhookMetadata")
    if not isinstance(metadata, dict):
        metadata = {}
    stamp = metadata.get("webhookDeliveryAttemptTimestamp")
    if not isinstance(stamp, str):
        raise BadPayload("body has no webhookMetadata.webhookDeliveryAttemptTimestamp")
    sent = attempt_time(stamp)
    if sent is None:
        raise BadPayload(
            f"webhookDeliveryAttemptTimestamp is not an RFC 3339 date-time: {stamp[:40]!r}"
        )
    return sent
