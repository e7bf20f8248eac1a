"""``type`` routes a Plain event and chooses its class; ``payload.eventType`` is never compared
with it (issue 12, item 26). A mismatch used to dead-letter events Plain's SDK accepts (the
SDK's schema does not tie the two either). The payload must still carry the fields of the type
that routes it: a handler is promised that type's class."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from hookq.sources.plain import (
    EVENTS,
    PlainEvent,
    PlainSource,
    ThreadChatSent,
    ThreadCreated,
    ThreadTenantUpdated,
)
from hookq.sources.plain.config import PlainSettings
from tests.conftest import PLAIN_SECRET
from tests.ingress import signing

SEED = (
    Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "plain" / "thread.chat_sent.json"
)
SOURCE = PlainSource(PlainSettings(secrets=[PLAIN_SECRET]))


def seed(**payload: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(SEED.read_text())
    event["payload"].update(payload)
    return event


def through_source(event: dict[str, Any]) -> tuple[str, PlainEvent]:
    """The routing key's event type the ingress publishes, and what the worker validates."""
    now = time.time()
    body, headers = signing.plain_request(event, now=now)
    accepted = SOURCE.accept(headers, body, now)
    parsed = SOURCE.parse(accepted.event_type, accepted.body)
    assert isinstance(parsed, PlainEvent)
    return accepted.event_type, parsed


@pytest.mark.parametrize(
    "event_type", [*sorted(set(EVENTS) - {"thread.chat_sent"}), "thread.thread_escalated", ""]
)
def test_type_routes_whatever_payload_event_type_says(event_type: str) -> None:
    routed, event = through_source(seed(eventType=event_type))
    assert routed == "thread.chat_sent"
    assert type(event) is ThreadChatSent
    assert event.payload.eventType == event_type  # kept as Plain sent it
    assert event.payload.chat.text == "You are welcome!"


def test_every_payload_keeps_any_event_type() -> None:
    for event_type, model in EVENTS.items():
        annotation = model.model_fields["payload"].annotation
        payloads = getattr(annotation, "__args__", (annotation,))
        for payload in payloads:
            if isinstance(payload, type) and issubclass(payload, BaseModel):
                assert payload.model_fields["eventType"].annotation is str, event_type


def test_a_payload_without_the_fields_of_its_type_is_refused_naming_them() -> None:
    """A thread_created payload routed as thread.chat_sent: Plain's SDK accepts it (it types a
    payload by its eventType), hookq dead-letters it: ThreadChatSent handlers need ``chat``."""
    created = seed(eventType="thread.thread_created")
    del created["payload"]["chat"]
    with pytest.raises(ValidationError) as caught:
        through_source(created)
    assert [e["loc"] for e in caught.value.errors()] == [("payload", "chat")]
    # Routed by the type its payload is: validated, typed.
    created["type"] = "thread.thread_created"
    routed, event = through_source(created)
    assert (routed, type(event)) == ("thread.thread_created", ThreadCreated)


def test_a_payload_with_the_fields_of_its_type_and_more_is_accepted() -> None:
    """A thread.chat_sent payload routed as thread.thread_created: it has a ``thread``."""
    routed, event = through_source({**seed(), "type": "thread.thread_created"})
    assert routed == "thread.thread_created"
    assert type(event) is ThreadCreated
    assert event.payload.eventType == "thread.chat_sent"
    assert event.payload.model_extra is not None
    assert event.payload.model_extra["chat"]["text"] == "You are welcome!"


def test_the_type_listed_without_a_payload_takes_any_event_type() -> None:
    routed, event = through_source({**seed(), "type": "thread.thread_tenant_updated"})
    assert routed == "thread.thread_tenant_updated"
    assert type(event) is ThreadTenantUpdated
    assert event.payload.eventType == "thread.chat_sent"


@pytest.mark.parametrize("event_type", [None, 7, True])
def test_payload_event_type_must_still_be_a_string(event_type: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        through_source(seed(eventType=event_type))
    assert [e["loc"] for e in caught.value.errors()] == [("payload", "eventType")]
