"""The ``event-log`` built-in: identifiers in the log line, never the payload."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from structlog.testing import capture_logs

from hookq.handlers import HandlerContext
from hookq.handlers.api import spec_of
from hookq.handlers.builtin.event_log import log_event
from hookq.sources.base import ProviderModel

EMAIL = "maria.silva@example.com.br"
CPF = "123.456.789-09"


def context() -> HandlerContext:
    return HandlerContext(
        handler="event-log",
        delivery_id="dlv-7f3a",
        source="starya",
        event_type="conversation.created",
        attempt=2,
        max_attempts=5,
        received_at=datetime(2026, 11, 21, 6, 0, tzinfo=UTC),
        headers={"user-agent": "StaryaAI-Webhooks/1.0"},
        # Unbound on purpose: the line must carry the ids itself, whatever the worker bound.
        log=structlog.get_logger(),
    )


async def test_logs_the_ids_and_never_the_payload() -> None:
    event = ProviderModel.model_validate(
        {
            "event": "conversation.created",
            "contact": {
                "name": "Maria Silva",
                "email": EMAIL,
                "cpf": CPF,
                "phone": "+5511987654321",
            },
            "message": {"text": f"meu CPF é {CPF.replace('.', '').replace('-', '')}"},
        }
    )

    with capture_logs() as logs:
        await log_event(event, context())

    assert logs == [
        {
            "event": "event received",
            "log_level": "info",
            "handler": "event-log",
            "source": "starya",
            "event_type": "conversation.created",
            "delivery_id": "dlv-7f3a",
            "attempt": 2,
            "model": "ProviderModel",
        }
    ]
    rendered = repr(logs)
    for personal in (EMAIL, CPF, "12345678909", "Maria", "987654321"):
        assert personal not in rendered


def test_is_bound_to_every_event() -> None:
    spec = spec_of(log_event)

    assert spec is not None
    assert (spec.name, spec.patterns) == ("event-log", ("#",))
