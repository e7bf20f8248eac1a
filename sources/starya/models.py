"""StaryaAI event models (placeholder envelope until the full models land)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sources.base import ProviderModel


class StaryaEvent(ProviderModel):
    """Any StaryaAI event: ``event`` names the type, ``data`` carries it."""

    event: str
    timestamp: str
    data: dict[str, Any]


EVENTS: dict[str, type[BaseModel]] = {}

__all__ = ["EVENTS", "StaryaEvent"]
