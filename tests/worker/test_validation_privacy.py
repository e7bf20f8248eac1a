"""Validation errors name fields and reasons, never data (issue 12, item 8).

Dict keys are data: LiveChat keys a group's agent priorities by agent id, which is the agent's
e-mail. Before, ``payload.agent_priorities.maria.souza@example.com: Input should be a valid
string`` went into the failure record and the worker's JSON log, and a discriminator's bad value
was echoed (``Input tag '...' found using 'changeType'``). Now a key the source's models do not
declare shows as ``*`` and the tag message is rebuilt from the schema.

What is checked is what the worker wrote: the dead letters' headers (the failure record, kept
as is: masking is only for what people read) and the structlog events as the worker emitted
them, before any log processor could mask an e-mail by its shape. The opaque agent id and the
tag look like no personal data at all: only the validation's own care keeps them out.
"""

from __future__ import annotations

import copy
import json
from collections.abc import MutableMapping
from typing import Any

import pytest
from aio_pika.abc import AbstractChannel
from pydantic import BaseModel
from structlog.testing import capture_logs

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.log_context import merge_context
from hookq.message import Header, read_failure
from hookq.settings import Settings
from hookq.topology import Names
from tests.fixtures import REFERENCE
from tests.support.events import eventually, publish_event, ready_count, take_all
from tests.worker.conftest import StartWorker

EMAIL_KEY = "maria.souza@example.com"
OPAQUE_KEY = "agt-souza-maria-7781"  # an agent id that is no e-mail: no shape to mask it by
BAD_TAG = "tag-maria-souza-7781"
FORBIDDEN = (EMAIL_KEY, "maria.souza", "souza@", "example.com", OPAQUE_KEY, BAD_TAG)
HANDLERS = ("audit-a", "audit-b")


def livechat_group(agent_priorities: dict[str, Any]) -> bytes:
    """LiveChat's ``group_created`` example as queued, with these agent priorities."""
    path = REFERENCE / "livechat" / "fixtures-v3.5" / "group_created.json"
    event = json.loads(path.read_text())
    del event["secret_key"]
    event["payload"]["agent_priorities"] = agent_priorities
    return json.dumps(event).encode()


def plain_group_changed(change_type: str) -> bytes:
    """A Plain ``customer.customer_group_changed`` whose ``changeType`` (its discriminator) is
    ``change_type``."""
    event = json.loads((REFERENCE / "plain" / "plain-thread-created.raw.json").read_text())
    event = copy.deepcopy(event) | {"type": "customer.customer_group_changed"}
    event["payload"] = {
        "eventType": "customer.customer_group_changed",
        "changeType": change_type,
        "customerGroup": {"id": "cg_01", "name": "VIP", "key": "vip"},
    }
    return json.dumps(event).encode()


def leaks(text: str) -> list[str]:
    return [value for value in FORBIDDEN if value in text]


@pytest.fixture
def worker_logs() -> Any:
    with capture_logs(processors=[merge_context]) as logs:
        yield logs


async def test_validation_errors_carry_no_key_or_tag_value_into_dead_letters_or_logs(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    start_worker: StartWorker,
    worker_logs: list[MutableMapping[str, Any]],
) -> None:
    async def audit(_event: BaseModel, _ctx: HandlerContext) -> None:
        raise AssertionError("an invalid event reached a handler")

    specs = [
        HandlerSpec(name=name, patterns=("livechat.#", "plain.#"), func=audit, timeout=5.0)
        for name in HANDLERS
    ]
    await start_worker(settings, *specs)
    invalid = {
        "lc-email": ("livechat", "group_created", livechat_group({EMAIL_KEY: 1})),
        "lc-opaque": ("livechat", "group_created", livechat_group({OPAQUE_KEY: ["first"]})),
        "plain-tag": ("plain", "customer.customer_group_changed", plain_group_changed(BAD_TAG)),
    }
    for delivery_id, (source, event_type, body) in invalid.items():
        assert any(value.encode() in body for value in FORBIDDEN)
        await publish_event(channel, names, delivery_id, body, source=source, event_type=event_type)

    for handler in HANDLERS:
        queue = names.dead_queue(handler)

        async def all_dead(queue: str = queue) -> bool:
            return await ready_count(channel, queue) == len(invalid)

        await eventually(all_dead)
        letters = await take_all(channel, queue)
        records = {str(m.headers[Header.DELIVERY_ID]): read_failure(m.headers) for m in letters}
        assert sorted(records) == sorted(invalid)
        assert {r.error_type for r in records.values()} == {"ValidationError"}
        for letter in letters:
            found = leaks(repr(letter.headers))
            assert found == [], f"{handler}: a dead letter's headers carry {found}"
        # Still useful: where and why, without the data.
        assert "agent_priorities.*: Input should be a valid string" in (
            records["lc-email"].error_message
        )
        assert "agent_priorities.*: Input should be a valid string" in (
            records["lc-opaque"].error_message
        )
        assert "Input tag does not match any of the expected tags" in (
            records["plain-tag"].error_message
        )

    logged = [event for event in worker_logs if event.get("handler") in HANDLERS]
    assert len([e for e in logged if e["event"] == "dead-lettered"]) == 2 * len(invalid)
    assert leaks(repr(worker_logs)) == [], f"worker logs carry {leaks(repr(worker_logs))}"
