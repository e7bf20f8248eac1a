"""StaryaAI publishes no authentication scheme, so hookq accepts either of two that the sender
is configured with: ``Authorization: Bearer <secret>``, or an HMAC-SHA256 of the raw body,
lowercase hex (optionally ``sha256=``-prefixed), in the signature header
(``HOOKQ_STARYA_SIGNATURE_HEADER``, default ``X-Starya-Signature``). No delivery id is sent:
dedupe on a digest of the body (retries resend the same bytes), unless a configured header
carries one."""

from __future__ import annotations

from collections.abc import Mapping

from hookq.sources.base import (
    Accepted,
    Source,
    Unauthorized,
    body_digest,
    header_value,
    hmac_sha256,
    parse_object,
    required_string,
    same,
    to_bytes,
)
from hookq.sources.starya.models import EVENTS, StaryaEvent

DEFAULT_SIGNATURE_HEADER = "X-Starya-Signature"


class StaryaSource(Source):
    name = "starya"
    events = EVENTS
    envelope = StaryaEvent

    def accept(self, headers: Mapping[str, str], body: bytes, now: float) -> Accepted:
        self._authenticate(headers, body)
        event = parse_object(body)
        return Accepted(
            event_type=required_string(event, "event"),
            delivery_id=header_value(headers, self.config.id_header) or body_digest(body),
            body=body,
        )

    def _authenticate(self, headers: Mapping[str, str], body: bytes) -> None:
        if self.config.insecure and not self._keys:
            return
        authorization = headers.get("Authorization", "")
        signature = header_value(headers, self.config.signature_header or DEFAULT_SIGNATURE_HEADER)
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("Authorization must be 'Bearer <secret>'")
            given = to_bytes(token.strip())
            self.require_any_key(lambda key: same(key, given), "bearer token")
        elif signature:
            given = to_bytes(signature.lower().removeprefix("sha256="))
            self.require_any_key(
                lambda key: same(hmac_sha256(key, body).hex().encode(), given), "signature"
            )
        else:
            raise Unauthorized("missing Authorization bearer token or signature header")
