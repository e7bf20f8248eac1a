"""LiveChat webhook models (placeholder envelope until the full models land)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sources.base import ProviderModel


class LivechatWebhook(ProviderModel):
    """Any LiveChat webhook: the envelope every action shares (``secret_key`` removed)."""

    webhook_id: str
    action: str
    organization_id: str | None = None
    payload: dict[str, Any] | list[Any]
    additional_data: dict[str, Any] | None = None


EVENTS: dict[str, type[BaseModel]] = {}

__all__ = ["EVENTS", "LivechatWebhook"]
