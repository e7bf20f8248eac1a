"""Standard Webhooks events: any JSON object, with its ``type``."""

from __future__ import annotations

from pydantic import BaseModel

from sources.base import ProviderModel


class StandardEvent(ProviderModel):
    """Any Standard Webhooks payload. The spec recommends ``type``, ``timestamp`` and ``data``;
    hookq routes on ``type`` and keeps every other field as sent."""

    type: str | None = None


EVENTS: dict[str, type[BaseModel]] = {}

__all__ = ["EVENTS", "StandardEvent"]
