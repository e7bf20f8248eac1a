"""Plain event models (placeholder envelope until the generated models land)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sources.base import ProviderModel


class PlainEvent(ProviderModel):
    """Any Plain webhook: the envelope every event type shares."""

    id: str
    type: str
    timestamp: str
    workspaceId: str
    payload: dict[str, Any]
    webhookMetadata: dict[str, Any]


EVENTS: dict[str, type[BaseModel]] = {}

__all__ = ["EVENTS", "PlainEvent"]
