"""LiveChat: the only credential is ``secret_key`` inside the JSON body. It is checked, then cut
out of the raw bytes (``strip``): it never reaches the broker, a log or an operator's screen,
and every other byte is queued as received. No delivery id is sent, and nothing outside the
body is authenticated: dedupe on a digest of the body without its secret (stable across a
secret rotation), with the event type."""

from __future__ import annotations

from hookq.sources.base import (
    Accepted,
    Request,
    Source,
    Unauthorized,
    body_digest,
    required_string,
    same,
    to_bytes,
)
from hookq.sources.livechat.config import LivechatSettings
from hookq.sources.livechat.models import EVENTS, LivechatWebhook
from hookq.sources.livechat.strip import without_member

SECRET_FIELD = "secret_key"


class LivechatSource(Source):
    name = "livechat"
    settings_type = LivechatSettings
    events = EVENTS
    envelope = LivechatWebhook

    def authenticate(self, request: Request) -> None:
        secret = request.json.get(SECRET_FIELD)
        if not isinstance(secret, str) or not secret:
            raise Unauthorized(f"body has no {SECRET_FIELD}")
        given = to_bytes(secret)
        self.require_any_key(lambda key: same(key, given), SECRET_FIELD)

    def identify(self, request: Request) -> Accepted:
        action = required_string(request.json, "action")
        stripped = without_member(request.body, SECRET_FIELD, request.json)
        return Accepted(event_type=action, delivery_id=body_digest(stripped), body=stripped)
