"""StaryaAI publishes no authentication scheme, so hookq accepts either of two that the sender
is configured with (``hookq.sources.starya.config``):

- ``Authorization: Bearer <secret>``: the token authenticates the sender, nothing is signed;
- an HMAC-SHA256, lowercase hex (optionally ``sha256=``-prefixed), in the signature header, of
  ``{id}.{timestamp}.{body}``: the id and timestamp parts only when their headers are
  configured (with neither, the HMAC of the raw body alone).

Nothing unsigned decides dedupe: the delivery id is the id header's value only when the HMAC
covered it; otherwise a digest of the body (retries resend the same bytes), with the event
type. A signed timestamp closes the replay window; without one (bearer, or no timestamp header)
a captured request is accepted again once its done mark expired (docs/guarantees.md).
"""

from __future__ import annotations

from hookq.sources.base import (
    Accepted,
    Request,
    Source,
    Unauthorized,
    body_digest,
    header_value,
    hmac_sha256,
    required_string,
    same,
    to_bytes,
)
from hookq.sources.starya.config import StaryaSettings
from hookq.sources.starya.models import EVENTS, StaryaEvent

MAX_TIMESTAMP_DIGITS = 12  # Unix seconds until the year 33658: more is not a time


class StaryaSource(Source):
    name = "starya"
    settings_type = StaryaSettings
    events = EVENTS
    envelope = StaryaEvent
    settings: StaryaSettings

    def authenticate(self, request: Request) -> None:
        authorization = request.headers.get("Authorization", "")
        signature = header_value(request.headers, self.settings.signature_header)
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("Authorization must be 'Bearer <secret>'")
            given = to_bytes(token.strip())
            self.require_any_key(lambda key: same(key, given), "bearer token")
        elif signature:
            self._check_signature(request, signature)
        else:
            raise Unauthorized("missing Authorization bearer token or signature header")

    def _check_signature(self, request: Request, signature: str) -> None:
        signed = self._signed_headers(request)
        prefix = b"".join(to_bytes(value) + b"." for value in signed.values())
        given = to_bytes(signature.lower().removeprefix("sha256="))
        self.require_any_key(
            lambda key: same(hmac_sha256(key, prefix, request.body).hex().encode(), given),
            "signature",
        )
        stamp = signed.get("timestamp")
        if stamp is not None:
            self.check_window(request, float(stamp), self.settings.timestamp_header or "")
        request.signed.update(signed)

    def _signed_headers(self, request: Request) -> dict[str, str]:
        """The configured id and timestamp headers' values, in signing order."""
        signed: dict[str, str] = {}
        settings = self.settings
        for part, header in (("id", settings.id_header), ("timestamp", settings.timestamp_header)):
            if header is None:
                continue
            value = header_value(request.headers, header)
            if value is None:
                raise Unauthorized(f"missing {header} header (it is signed)")
            signed[part] = value
        stamp = signed.get("timestamp")
        if stamp is not None and not (
            stamp.isascii() and stamp.isdigit() and len(stamp) <= MAX_TIMESTAMP_DIGITS
        ):
            raise Unauthorized(f"{settings.timestamp_header} is not Unix seconds")
        return signed

    def identify(self, request: Request) -> Accepted:
        event_type = required_string(request.json, "event")
        delivery_id = request.signed.get("id") or body_digest(request.body)
        return Accepted(event_type=event_type, delivery_id=delivery_id, body=request.body)
