"""Standard Webhooks events: any JSON object, with its ``type``.

The sender is any service that follows the Standard Webhooks specification, so hookq knows no
event types of its own (``EVENTS`` is empty) and every event validates against the envelope.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from hookq.sources.base import ProviderModel


class StandardEvent(ProviderModel):
    """Any Standard Webhooks payload: hookq routes on ``type`` and keeps every field as sent.

    The spec recommends ``type``, ``timestamp`` and ``data``. Only ``type`` is typed: the rest
    is whatever the sender puts there, and a generic source must not dead-letter a sender for
    a shape the spec only recommends."""

    type: str | None = Field(None, description="The event type, e.g. 'invoice.paid'.")
    # Any, not JsonValue: a JSON value is all a queued body can hold, and JsonValue's recursive
    # validation stops at 254 levels, far short of what the ingress accepts.
    timestamp: Any = Field(
        None, description="When the event happened (the spec suggests ISO-8601); as sent."
    )
    data: Any = Field(None, description="The event's content, as sent.")


EVENTS: dict[str, type[BaseModel]] = {}

__all__ = ["EVENTS", "StandardEvent"]
