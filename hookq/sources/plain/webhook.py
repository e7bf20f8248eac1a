"""Plain: HMAC-SHA256 of the raw body in ``Plain-Request-Signature``, plus a replay window on
the signed ``webhookMetadata.webhookDeliveryAttemptTimestamp``. Dedupe on the event ``id``,
which is the same on every retry (the attempt id is not).

Plain's other ``Plain-*`` headers are not kept: each repeats a field of the body (event id and
type, workspace, webhook target, delivery attempt), and only the body is signed. Handlers read
those fields, authenticated, from the typed event."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hookq.sources.base import (
    Accepted,
    BadPayload,
    Source,
    Unauthorized,
    hmac_sha256,
    parse_object,
    required_string,
    same,
    to_bytes,
)
from hookq.sources.plain.models import EVENTS, PlainEvent

SIGNATURE_HEADER = "Plain-Request-Signature"


class PlainSource(Source):
    name = "plain"
    events = EVENTS
    envelope = PlainEvent

    def accept(self, headers: Mapping[str, str], body: bytes, now: float) -> Accepted:
        self._check_signature(headers.get(SIGNATURE_HEADER), body)
        event = parse_object(body)
        self._check_timestamp(event, now)
        return Accepted(
            event_type=required_string(event, "type"),
            delivery_id=required_string(event, "id"),
            body=body,
        )

    def _check_signature(self, signature: str | None, body: bytes) -> None:
        if self.config.insecure and not self._keys:
            return
        if not signature:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
        given = to_bytes(signature.strip().lower())
        self.require_any_key(
            lambda key: same(hmac_sha256(key, body).hex().encode(), given), SIGNATURE_HEADER
        )

    def _check_timestamp(self, event: Mapping[str, object], now: float) -> None:
        metadata = event.get("webhookMetadata")
        if not isinstance(metadata, dict):
            metadata = {}
        stamp = metadata.get("webhookDeliveryAttemptTimestamp")
        if not isinstance(stamp, str):
            raise BadPayload("body has no webhookMetadata.webhookDeliveryAttemptTimestamp")
        try:
            sent = datetime.fromisoformat(stamp).timestamp()
        except ValueError:
            raise BadPayload(
                f"webhookDeliveryAttemptTimestamp is not ISO-8601: {stamp[:40]!r}"
            ) from None
        if abs(now - sent) > self.config.timestamp_tolerance:
            raise Unauthorized(
                f"webhookDeliveryAttemptTimestamp is more than "
                f"{self.config.timestamp_tolerance:g}s from now (replayed or clock skew)"
            )
