"""The ingress's fast AMQP properties encode what pamqp encodes (floats as doubles, on purpose)."""

from __future__ import annotations

from typing import Any

import aiormq
import pytest
from pamqp import decode
from pamqp.common import FieldTable

from hookq.ingress.amqp_properties import Properties, field_table

PROVIDER: FieldTable = {
    "Plain-Event-Id": "pEv_01HD44FHHJ0YABSNGKWMG3CJ5J",
    "Plain-Webhook-Delivery-Attempt-Number": "1",
    "Ünïcode-Kéy": "välue ✓",
}
HEADERS: FieldTable = {
    "hookq-source": "plain",
    "hookq-event-type": "thread.thread_created",
    "hookq-delivery-id": "pEv_01HD44FHHJ0YABSNGKWMG3CJ5J",
    "hookq-provider-headers": PROVIDER,
    "hookq-empty": {},
}


@pytest.mark.parametrize(
    "table",
    [
        HEADERS,
        {},
        {"b": "2", "a": "1", "c": {"z": "", "y": {"x": "deep"}}},
        {"int": 7, "big": 2**40, "negative": -3, "bool": True},
        {"k" * 200: "a key pamqp truncates"},
    ],
)
def test_field_table_is_byte_for_byte_pamqps(table: FieldTable) -> None:
    assert field_table(table) == aiormq.spec.Basic.Properties(headers=table).encode_property(
        "headers", table
    )


def test_floats_are_doubles_and_keep_their_precision() -> None:
    received_at = 1795242061.8456788  # pamqp's 32-bit float would say 1795242112.0
    encoded = field_table({"hookq-received-at": received_at})
    assert b"d" in encoded
    _consumed, decoded = decode.field_table(encoded)
    assert decoded == {"hookq-received-at": received_at}


def test_event_properties_marshal_like_pamqp() -> None:
    arguments: dict[str, Any] = {
        "content_type": "application/json",
        "delivery_mode": 2,
        "message_id": "0123456789abcdef-1f",
        "headers": HEADERS,
    }
    assert Properties(**arguments).marshal() == aiormq.spec.Basic.Properties(**arguments).marshal()


@pytest.mark.parametrize(
    "extra",
    [{"priority": 0}, {"timestamp": None, "app_id": "hookq"}, {"message_id": None}, {}],
)
def test_other_property_sets_fall_back_to_pamqp(extra: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {
        "content_type": "application/json",
        "delivery_mode": 2,
        "message_id": "id-1",
        "headers": {"a": "b"},
    } | extra
    assert Properties(**arguments).marshal() == aiormq.spec.Basic.Properties(**arguments).marshal()
