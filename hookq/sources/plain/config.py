"""Plain's settings: ``HOOKQ_PLAIN_SECRETS`` (the webhook target's signing secrets)."""

from __future__ import annotations

from hookq.sources.base import SourceSettings


class PlainSettings(SourceSettings):
    model_config = SourceSettings.config_for("plain")
    personal_fields = frozenset({"fullName", "shortName", "email", "phone"})
