"""Pure logic of the worker: handler selection, the timeout check, the failure record."""

from __future__ import annotations

import pytest
from aio_pika.abc import FieldValue
from pydantic import BaseModel, ValidationError

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.message import Failure, Header, with_failure
from hookq.settings import Settings, SettingsError
from hookq.worker.runner import check_timeouts, select
from hookq.worker.validation import validation_failure


async def _noop(event: object, ctx: HandlerContext) -> None:
    return None


def _spec(name: str, timeout: float = 5.0) -> HandlerSpec:
    return HandlerSpec(name=name, patterns=("plain.#",), func=_noop, timeout=timeout)


def test_select_keeps_the_named_handlers_or_all_and_names_unknown_ones() -> None:
    specs = {"a": _spec("a"), "b": _spec("b")}
    assert select(specs, []) == specs
    assert list(select(specs, ["b"])) == ["b"]
    with pytest.raises(KeyError, match="nope, other"):
        select(specs, ["a", "nope", "other"])


def test_a_handler_timeout_must_be_below_the_claim_lease() -> None:
    settings = Settings(claim_lease=10.0)
    check_timeouts({"ok": _spec("ok", 9.9)}, settings)
    with pytest.raises(SettingsError, match=r"HOOKQ_CLAIM_LEASE.*slow"):
        check_timeouts({"ok": _spec("ok", 9.9), "slow": _spec("slow", 10.0)}, settings)


class Thread(BaseModel):
    id: str
    messages: list[int]


def test_validation_failures_name_fields_and_reasons_never_values() -> None:
    with pytest.raises(ValidationError) as caught:
        Thread.model_validate_json(b'{"messages": [1, "cpf-123.456.789-00"]}')
    failure = validation_failure(caught.value, frozenset({"id", "messages"}))
    assert failure.error_type == "ValidationError"
    assert "id: Field required" in failure.message
    assert "messages.1: Input should be a valid integer" in failure.message
    assert "cpf-123" not in failure.message


def test_the_failure_record_keeps_the_first_failure_time_and_drops_broker_headers() -> None:
    original: dict[str, FieldValue] = {
        Header.DELIVERY_ID: "d1",
        "x-death": [],
        "x-delivery-count": 2,
    }
    first = with_failure(original, "h", 1, Failure("E", "one", "tb1"), 1_000.7)
    assert first[Header.FIRST_FAILED_AT] == first[Header.LAST_FAILED_AT] == 1_000
    assert "x-death" not in first
    assert "x-delivery-count" not in first
    second = with_failure(first, "h", 2, Failure("E", "two"), 2_000.2)
    assert second[Header.FIRST_FAILED_AT] == 1_000
    assert second[Header.LAST_FAILED_AT] == 2_000
    assert second[Header.ERROR_MESSAGE] == "two"
    assert Header.TRACEBACK not in second  # not the traceback of an earlier failure
    assert second[Header.DELIVERY_ID] == "d1"
