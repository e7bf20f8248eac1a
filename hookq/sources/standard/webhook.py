"""Standard Webhooks v1: ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
(space-separated ``v1,<base64>`` entries, several during a key rotation) over
``{id}.{timestamp}.{body}``. Secrets are ``whsec_<base64>``. Unknown signature versions are
skipped; a malformed header is a 401, never a 500. ``webhook-id`` is the delivery id."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from hookq.sources.base import (
    Accepted,
    Request,
    Source,
    Unauthorized,
    hmac_sha256,
    required_string,
    same,
    to_bytes,
)
from hookq.sources.standard.config import StandardSettings, decode_secret
from hookq.sources.standard.models import EVENTS, StandardEvent


class StandardSource(Source):
    name = "standard"
    settings_type = StandardSettings
    events = EVENTS
    envelope = StandardEvent

    def keys(self, secrets: Sequence[str]) -> tuple[bytes, ...]:
        return tuple(decode_secret(secret) for secret in secrets)

    def authenticate(self, request: Request) -> None:
        webhook_id, stamp = _identity(request)
        try:
            sent = int(stamp)
        except ValueError:
            raise Unauthorized("webhook-timestamp is not an integer") from None
        self.check_window(request, sent, "webhook-timestamp")
        self._check_signature(
            request.headers.get("webhook-signature", ""), webhook_id, stamp, request.body
        )

    def _check_signature(self, header: str, webhook_id: str, stamp: str, body: bytes) -> None:
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

    def identify(self, request: Request) -> Accepted:
        webhook_id, stamp = _identity(request)
        return Accepted(
            event_type=required_string(request.json, "type"),
            delivery_id=webhook_id,
            body=request.body,
            provider_headers={"webhook-id": webhook_id, "webhook-timestamp": stamp},
        )


def _identity(request: Request) -> tuple[str, str]:
    webhook_id = request.headers.get("webhook-id", "").strip()
    stamp = request.headers.get("webhook-timestamp", "").strip()
    if not webhook_id or not stamp:
        raise Unauthorized("missing webhook-id or webhook-timestamp header")
    return webhook_id, stamp
