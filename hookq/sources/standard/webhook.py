"""Standard Webhooks v1: ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
(space-separated ``v1,<base64>`` entries, several during a key rotation) over
``{id}.{timestamp}.{body}``. Secrets are ``whsec_<base64>``. Unknown signature versions are
skipped; a malformed header is a 401, never a 500. ``webhook-id`` is the delivery id.

What is accepted is what the reference library accepts, quirks included (see ``signed_time``
and ``signature_entries``): a sender tested against it is never refused here, and nothing it
refuses is accepted."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from datetime import UTC, datetime

from hookq.sources.base import (
    Accepted,
    Request,
    Source,
    Unauthorized,
    hmac_sha256,
    required_string,
    same,
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
        # Accepted and refused exactly as the reference library (``standardwebhooks``,
        # ``Webhook.verify``) does; tests/ingress/test_standard_differential.py holds it to that.
        webhook_id, stamp = _identity(request)
        sent, signed_stamp = signed_time(stamp)
        self.check_window(request, sent, "webhook-timestamp")
        self._check_signature(
            request.headers.get("webhook-signature", ""), webhook_id, signed_stamp, request.body
        )
        request.signed["webhook-timestamp"] = signed_stamp

    def _check_signature(self, header: str, webhook_id: str, stamp: str, body: bytes) -> None:
        if not header:
            raise Unauthorized("missing webhook-signature header")
        try:
            signed = f"{webhook_id}.{stamp}.".encode() + body
        except UnicodeEncodeError:  # aiohttp's surrogate escapes of bytes that are not UTF-8
            raise Unauthorized("webhook-id is not UTF-8") from None
        entries = signature_entries(header)

        def matches(key: bytes) -> bool:
            expected = hmac_sha256(key, signed)
            for entry in entries:
                if entry is None:  # the reference raises here: nothing after it counts
                    return False
                if same(expected, entry):
                    return True
            return False

        self.require_any_key(matches, "webhook-signature")

    def identify(self, request: Request) -> Accepted:
        webhook_id, stamp = _identity(request)
        return Accepted(
            event_type=required_string(request.json, "type"),
            delivery_id=webhook_id,
            body=request.body,
            provider_headers={
                "webhook-id": webhook_id,
                "webhook-timestamp": request.signed.get("webhook-timestamp", stamp),
            },
        )


def sign(keys: Sequence[bytes], webhook_id: str, stamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of ``body``: one ``v1`` signature per key (a receiver
    verifies with any of them while a secret is rotated)."""
    signed = f"{webhook_id}.{stamp}.".encode() + body
    signatures = " ".join(
        f"v1,{base64.b64encode(hmac_sha256(key, signed)).decode()}" for key in keys
    )
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signatures,
    }


def _identity(request: Request) -> tuple[str, str]:
    webhook_id = request.headers.get("webhook-id", "")
    stamp = request.headers.get("webhook-timestamp", "")
    if not webhook_id or not stamp:
        raise Unauthorized("missing webhook-id or webhook-timestamp header")
    return webhook_id, stamp


def signature_entries(header: str) -> list[bytes | None]:
    """The v1 entries of the space-separated header as the reference reads them: each decoded
    signature, or None where the reference raises (an entry without exactly one ',', or not
    base64), which refuses the request unless a signature before it matched. Other versions are
    skipped."""
    entries: list[bytes | None] = []
    for entry in header.split(" "):
        parts = entry.split(",")
        if len(parts) != 2:
            entries.append(None)
        elif parts[0] == "v1":
            try:
                # Not validating, as the reference: characters outside the alphabet are dropped
                # and extra padding is ignored.
                entries.append(base64.b64decode(parts[1]))
            except (binascii.Error, ValueError):
                entries.append(None)
    return entries


def signed_time(stamp: str) -> tuple[float, str]:
    """The header's time, and the text the signature covers: the reference reads the header
    with ``float`` (signs, '_', non-ASCII digits and surrounding white space included) and signs
    the whole seconds of that time, not the header's text."""
    try:
        moment = datetime.fromtimestamp(float(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise Unauthorized("webhook-timestamp is not a Unix time") from None
    seconds = moment.timestamp()
    return seconds, str(math.floor(seconds))
