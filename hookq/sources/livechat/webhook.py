"""LiveChat: the only credential is ``secret_key`` inside the JSON body. It is checked, then
removed: it never reaches the broker, a log or an operator's screen. No delivery id is sent:
dedupe on a digest of the body without its secret (stable across a secret rotation), unless a
configured header carries an id."""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from hookq.sources.base import (
    Accepted,
    BadPayload,
    Source,
    Unauthorized,
    body_digest,
    header_value,
    parse_object,
    required_string,
    same,
    to_bytes,
)
from hookq.sources.livechat.models import EVENTS, LivechatWebhook

SECRET_FIELD = "secret_key"


class LivechatSource(Source):
    name = "livechat"
    events = EVENTS
    envelope = LivechatWebhook

    def accept(self, headers: Mapping[str, str], body: bytes, now: float) -> Accepted:
        event = parse_object(body)
        secret = event.pop(SECRET_FIELD, None)
        if not (self.config.insecure and not self._keys):
            if not isinstance(secret, str) or not secret:
                raise Unauthorized(f"body has no {SECRET_FIELD}")
            given = to_bytes(secret)
            self.require_any_key(lambda key: same(key, given), SECRET_FIELD)
        action = required_string(event, "action")
        # Re-serialised, as the secret must go; orjson keeps key order, so the same bytes in
        # give the same bytes (and digest) out.
        try:
            stripped = orjson.dumps(event)
        except orjson.JSONEncodeError:
            # orjson reads 1,024 levels of nesting but writes only 255.
            raise BadPayload("body is nested too deeply") from None
        return Accepted(
            event_type=action,
            delivery_id=header_value(headers, self.config.id_header) or body_digest(stripped),
            body=stripped,
        )
