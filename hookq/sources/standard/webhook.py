"""Standard Webhooks v1: ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
(space-separated ``v1,<base64>`` entries, several during a key rotation) over
``{id}.{timestamp}.{body}``. Secrets are ``whsec_<base64>``. Unknown signature versions are
skipped; a malformed header is a 401, never a 500. ``webhook-id`` is the delivery id."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from hookq.sources.base import (
    Accepted,
    Source,
    SourceConfig,
    Unauthorized,
    hmac_sha256,
    parse_object,
    required_string,
    same,
    to_bytes,
)
from hookq.sources.standard.models import EVENTS, StandardEvent

SECRET_PREFIX = "whsec_"


def decode_secret(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a Standard Webhooks secret is 'whsec_' followed by base64") from None


class StandardSource(Source):
    name = "standard"
    events = EVENTS
    envelope = StandardEvent

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self._keys = tuple(decode_secret(secret) for secret in config.secrets)

    def accept(self, headers: Mapping[str, str], body: bytes, now: float) -> Accepted:
        webhook_id = headers.get("webhook-id", "").strip()
        stamp = headers.get("webhook-timestamp", "").strip()
        if not webhook_id or not stamp:
            raise Unauthorized("missing webhook-id or webhook-timestamp header")
        try:
            sent = int(stamp)
        except ValueError:
            raise Unauthorized("webhook-timestamp is not an integer") from None
        if abs(now - sent) > self.config.timestamp_tolerance:
            raise Unauthorized(
                f"webhook-timestamp is more than {self.config.timestamp_tolerance:g}s "
                "from now (replayed or clock skew)"
            )
        self._check_signature(headers.get("webhook-signature", ""), webhook_id, stamp, body)
        event = parse_object(body)
        return Accepted(
            event_type=required_string(event, "type"),
            delivery_id=webhook_id,
            body=body,
            provider_headers={"webhook-id": webhook_id, "webhook-timestamp": stamp},
        )

    def _check_signature(self, header: str, webhook_id: str, stamp: str, body: bytes) -> None:
        if self.config.insecure and not self._keys:
            return
        given = [
            to_bytes(sig)
            for version, _, sig in (entry.partition(",") for entry in header.split())
            if version == "v1" and sig
        ]
        if not given:
            raise Unauthorized("webhook-signature has no v1 signature")
        signed = (to_bytes(webhook_id), b".", to_bytes(stamp), b".", body)

        def matches(key: bytes) -> bool:
            expected = base64.b64encode(hmac_sha256(key, *signed))
            return any([same(expected, sig) for sig in given])

        self.require_any_key(matches, "webhook-signature")
