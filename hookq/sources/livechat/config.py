"""LiveChat's settings: ``HOOKQ_LIVECHAT_SECRETS`` (the ``secret_key`` values of the webhook
registrations: up to three per action, all valid at once)."""

from __future__ import annotations

from hookq.sources.base import SourceSettings


class LivechatSettings(SourceSettings):
    model_config = SourceSettings.config_for("livechat")
    personal_fields = frozenset(
        {
            "name",
            "email",
            "phone_number",
            "ip",
            "user_agent",
            "address",
            "omnichannel",
            "answer",
            "answers",
        }
    )
