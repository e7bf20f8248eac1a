"""Plain models against payloads generated from Plain's own JSON Schemas (both versions), the
seed's example, the reference ``thread.thread_created`` body, broken payloads and unknown data.

Payloads are drawn by ``tests.sources.plain_schemas`` (not hypothesis-jsonschema, which no
longer works with this Hypothesis: see there) and each is checked against the schema with
``jsonschema`` before use, so the generator cannot drift into testing what Plain would not send.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]  # no stubs; only Draft7Validator is used
import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel, RootModel, ValidationError

import hookq.sources.plain
from hookq.sources.base import ProviderModel
from hookq.sources.plain import (
    EVENTS,
    ActorUnknown,
    CustomerGroupChanged,
    PlainEvent,
    PlainSource,
    SystemActor,
    ThreadChatSent,
    ThreadCreated,
    UserActor,
)
from hookq.sources.plain import _generated as g
from tests.sources.plain_schemas import (
    SCHEMA_2024,
    SCHEMA_2026,
    Json,
    event_schema,
    event_types,
    payload_schema,
    schema,
    strategies,
)

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SEED = FIXTURES / "seeds" / "plain" / "thread.chat_sent.json"
RAW_THREAD_CREATED = FIXTURES / "reference" / "plain" / "plain-thread-created.raw.json"


def parse(event_type: str, body: Json) -> PlainEvent:
    source = PlainSource(insecure=True)
    event = source.parse(event_type, json.dumps(body).encode())
    assert isinstance(event, PlainEvent)
    return event


def assert_keys_kept(sent: Json, dumped: Json, where: str = "") -> None:
    """Every key sent is in the model's dump, at every depth (extras included)."""
    if isinstance(sent, dict):
        assert isinstance(dumped, dict), where
        assert set(sent) <= set(dumped), f"{where}: lost {set(sent) - set(dumped)}"
        for key, value in sent.items():
            assert_keys_kept(value, dumped[key], f"{where}.{key}")
    elif isinstance(sent, list):
        assert isinstance(dumped, list), where
        assert len(dumped) == len(sent), where
        for i, (item, dumped_item) in enumerate(zip(sent, dumped, strict=True)):
            assert_keys_kept(item, dumped_item, f"{where}[{i}]")


def assert_rejected_naming(event_type: str, body: Json, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(event_type, body)
    # In the path, or in the message when the field is a union's tag (``changeType``).
    errors = caught.value.errors()
    assert any(field in map(str, e["loc"]) or repr(field) in e["msg"] for e in errors), errors
    assert field in str(caught.value)


def replaced(body: Json, path: tuple[str, ...], value: Json = None, *, drop: bool = False) -> Json:
    """``body`` with the field at ``path`` set to ``value`` (or dropped), copying only the
    objects on the path: the rest is shared, never mutated."""
    changed = dict(body)
    if len(path) == 1 and drop:
        del changed[path[0]]
    elif len(path) == 1:
        changed[path[0]] = value
    else:
        changed[path[0]] = replaced(body[path[0]], path[1:], value, drop=drop)
    return changed


def check_generated(path: Path, event_type: str) -> None:
    """Schema-valid payloads validate into ``EVENTS[event_type]`` keeping every key; without
    any field the model requires, or with a field of the wrong type, they fail naming it."""
    narrowed = event_schema(path, event_type)
    strategy = strategies(path).build(narrowed)
    validator = jsonschema.Draft7Validator(narrowed)

    @settings(
        max_examples=3,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def check(body: Json) -> None:
        validator.validate(body)
        event = parse(event_type, body)
        assert type(event) is EVENTS[event_type]
        assert_keys_kept(body, event.model_dump(mode="json", by_alias=True))
        fields: list[tuple[str, ...]] = [
            (n,) for n, f in PlainEvent.model_fields.items() if f.is_required()
        ]
        fields += [
            ("payload", n) for n, f in type(event.payload).model_fields.items() if f.is_required()
        ]
        for field in fields:
            assert_rejected_naming(event_type, replaced(body, field, drop=True), field[-1])
            # No field of the envelope or of a payload is a boolean or accepts one.
            assert_rejected_naming(event_type, replaced(body, field, True), field[-1])

    check()


def test_every_event_type_has_its_class() -> None:
    assert set(EVENTS) == set(event_types(SCHEMA_2026))
    assert set(event_types(SCHEMA_2024)) <= set(EVENTS)
    assert len(EVENTS) == 30


@pytest.mark.parametrize("event_type", sorted(EVENTS))
def test_class_name_follows_the_event_type(event_type: str) -> None:
    namespace, name = event_type.split(".")
    name = name.removeprefix(f"{namespace}_")
    expected = "".join(part.capitalize() for part in [namespace, *name.split("_")])
    model = EVENTS[event_type]
    assert model.__name__ == expected
    assert getattr(hookq.sources.plain, expected) is model
    assert model.__doc__
    assert len(model.__doc__) > 20
    assert issubclass(model, PlainEvent)


@pytest.mark.parametrize("event_type", event_types(SCHEMA_2026))
def test_payloads_from_the_2026_schema_validate(event_type: str) -> None:
    check_generated(SCHEMA_2026, event_type)


@pytest.mark.parametrize("event_type", event_types(SCHEMA_2024))
def test_payloads_from_the_2024_schema_validate(event_type: str) -> None:
    check_generated(SCHEMA_2024, event_type)


def seed() -> Json:
    return json.loads(SEED.read_bytes())


def test_seed_example_validates_into_thread_chat_sent() -> None:
    event = parse("thread.chat_sent", seed())
    assert isinstance(event, ThreadChatSent)
    assert event.payload.chat.text == "You are welcome!"
    assert isinstance(event.payload.chat.createdBy, UserActor)
    assert isinstance(event.payload.thread.customer.createdBy, SystemActor)
    assert event.payload.thread.status == "TODO"
    assert event.timestamp == datetime(2023, 11, 2, 15, 32, 28, 831000, tzinfo=UTC)
    assert event.webhookMetadata.webhookDeliveryAttemptNumber == 1
    assert event.webhookMetadata.webhookTargetVersion == "2024-09-18"


def test_reference_thread_created_validates_into_thread_created() -> None:
    event = parse("thread.thread_created", json.loads(RAW_THREAD_CREATED.read_bytes()))
    assert isinstance(event, ThreadCreated)
    assert isinstance(event.payload.thread.statusDetail, g.ThreadStatusDetailCreated)
    assert event.payload.thread.additionalAssignees == []
    assert event.webhookMetadata.webhookTargetVersion == "2026-02-27"


BROKEN: list[tuple[tuple[str, ...], Json]] = [
    (("payload", "chat", "timelineEntryId"), None),
    (("payload", "thread", "customer", "email", "email"), None),
    # A known actor type missing its id is an error, not an ActorUnknown.
    (("payload", "chat", "createdBy", "userId"), None),
    (("webhookMetadata", "webhookDeliveryAttemptNumber"), None),
    (("id",), None),
    (("webhookMetadata", "webhookDeliveryAttemptNumber"), "first"),
    (("payload", "thread", "priority"), "high"),
    (("timestamp",), "yesterday"),
    (("payload", "thread", "labels"), {}),
    (("payload", "chat", "createdBy", "actorType"), 7),
    (("payload",), []),
]


@pytest.mark.parametrize(("path", "value"), BROKEN, ids=[f"{'.'.join(p)}={v!r}" for p, v in BROKEN])
def test_a_broken_field_fails_with_its_path(path: tuple[str, ...], value: Json) -> None:
    body = replaced(seed(), path, value, drop=value is None)
    with pytest.raises(ValidationError) as caught:
        parse("thread.chat_sent", body)
    # The error's path holds the field's path (unions add their variant's name in between).
    locations = [[str(p) for p in error["loc"]] for error in caught.value.errors()]
    assert any(is_subsequence(path, loc) for loc in locations), locations
    assert ".".join(path[-2:]) in str(caught.value) or path[-1] in str(caught.value)


def is_subsequence(short: tuple[str, ...], long: list[str]) -> bool:
    remaining = iter(long)
    return all(part in remaining for part in short)


def test_unknown_fields_are_kept_at_every_level() -> None:
    body = seed()
    for path in [(), ("payload",), ("payload", "thread", "customer"), ("webhookMetadata",)]:
        body = replaced(body, (*path, "x_new"), {"since": 2027})
    body = replaced(body, ("payload", "chat", "createdBy", "x_actor"), "kept")
    event = parse("thread.chat_sent", body)
    assert isinstance(event, ThreadChatSent)
    assert event.model_extra == {"x_new": {"since": 2027}}
    assert event.payload.thread.customer.model_extra == {"x_new": {"since": 2027}}
    dumped = event.model_dump(mode="json", by_alias=True)
    assert dumped["payload"]["x_new"] == dumped["webhookMetadata"]["x_new"] == {"since": 2027}
    assert dumped["payload"]["chat"]["createdBy"]["x_actor"] == "kept"
    assert_keys_kept(body, dumped)


def test_unknown_event_type_validates_against_the_envelope() -> None:
    body = replaced(seed(), ("type",), "thread.thread_escalated")
    body = replaced(body, ("payload", "eventType"), "thread.thread_escalated")
    event = parse("thread.thread_escalated", body)
    assert type(event) is PlainEvent
    assert event.payload.model_extra is not None
    assert event.payload.model_extra["chat"]["text"] == "You are welcome!"
    assert_keys_kept(body, event.model_dump(mode="json", by_alias=True))
    assert_rejected_naming("thread.thread_escalated", replaced(body, ("id",), drop=True), "id")


def test_growable_values_are_kept_as_strings() -> None:
    body = seed()
    body = replaced(body, ("payload", "thread", "status"), "ESCALATED")
    body = replaced(
        body, ("payload", "thread", "lastInboundMessageInfo", "messageSource"), "DISCORD"
    )
    body = replaced(body, ("payload", "thread", "statusDetail"), {"type": "ESCALATED_BY_AI"})
    body = replaced(body, ("payload", "chat", "createdBy"), {"actorType": "bot", "botId": "b_1"})
    event = parse("thread.chat_sent", body)
    assert isinstance(event, ThreadChatSent)
    thread = event.payload.thread
    assert thread.status == "ESCALATED"
    assert thread.lastInboundMessageInfo is not None
    assert thread.lastInboundMessageInfo.messageSource == "DISCORD"
    assert isinstance(thread.statusDetail, g.ThreadStatusDetailUnknown)
    assert isinstance(event.payload.chat.createdBy, ActorUnknown)
    assert event.payload.chat.createdBy.model_extra == {"botId": "b_1"}


def test_an_unknown_change_kind_is_an_error() -> None:
    customer = seed()["payload"]["thread"]["customer"]
    payload = {"eventType": "customer.customer_changed", "customer": customer}
    body = replaced(seed(), ("type",), "customer.customer_changed")
    body = replaced(
        body, ("payload",), {**payload, "changeType": "MERGED", "previousCustomer": None}
    )
    assert_rejected_naming("customer.customer_changed", body, "changeType")


def test_customer_group_changed_payload_is_the_change_kinds_class() -> None:
    group = {
        "id": "cg_01HDRC3CJHBWBAAF4K63Z11XZ5",
        "workspaceId": "w_01GST0W989ZNAW53X6XYHAY87P",
        **{"name": "VIP", "key": "vip", "color": "#ff0000"},
        **{"createdAt": "2023-10-27T10:50:24.209Z", "updatedAt": "2023-10-27T10:50:24.209Z"},
        "createdBy": {"actorType": "user", "userId": "u_01H1V4NA10RMHWFBXB6A1ZBYRA"},
        "updatedBy": {"actorType": "system", "system": "api"},
    }
    payload = {"eventType": "customer.customer_group_changed", "previousCustomerGroup": group}
    body = replaced(seed(), ("type",), "customer.customer_group_changed")
    body = replaced(body, ("payload",), {**payload, "changeType": "REMOVED"})
    event = parse("customer.customer_group_changed", body)
    assert isinstance(event, CustomerGroupChanged)
    assert isinstance(event.payload, g.CustomerGroupChangedPayloadRemoved)


# Requirements the models drop so that older versions' payloads validate, and nothing else.
LOOSENED = {("thread.slack_message_updated", "changeType")}


def test_models_require_what_the_schema_requires() -> None:
    loosened = set()
    for event_type, model in EVENTS.items():
        ref = payload_schema(SCHEMA_2026, event_type).get("$ref", "")
        definition = schema(SCHEMA_2026)["definitions"].get(ref.rsplit("/", 1)[-1], {})
        payload = model.model_fields["payload"].annotation
        if "anyOf" in definition or not isinstance(payload, type):
            continue  # customer_group_changed: a union, checked per variant above
        required = {n for n, f in payload.model_fields.items() if f.is_required()}
        assert required <= set(definition.get("required", ["eventType"]))
        loosened |= {(event_type, n) for n in set(definition.get("required", [])) - required}
    assert loosened == LOOSENED


def test_every_generated_model_keeps_unknown_fields() -> None:
    models = [m for m in vars(g).values() if isinstance(m, type) and issubclass(m, BaseModel)]
    assert len(models) > 90
    for model in models:
        if not issubclass(model, RootModel):
            assert issubclass(model, ProviderModel)
            assert model.model_config["extra"] == "allow"


def test_generated_models_match_the_schemas() -> None:
    """``_generated.py`` is what the script makes from the schemas: nobody edited it by hand."""
    script = ROOT / "scripts" / "generate_plain_models.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


@pytest.mark.parametrize(
    ("actor", "variant"),
    [
        ({"actorType": "user", "userId": "u_1"}, "UserActor"),
        ({"actorType": "machineUser", "machineUserId": "m_1"}, "MachineUserActor"),
        ({"actorType": "system", "system": "api"}, "SystemActor"),
        ({"actorType": "customer", "customerId": "c_1"}, "CustomerActor"),
        ({"actorType": "bot", "botId": "b_1"}, "ActorUnknown"),
        ({"actorType": ["user"], "userId": "u_1"}, None),  # not a string: no variant takes it
        ({"actorType": {"user": 1}}, None),
        ({"userId": "u_1"}, None),
        ({"actorType": "system", "userId": "u_1"}, None),  # a known type without its field
    ],
)
def test_an_actor_is_the_variant_its_type_names(actor: Json, variant: str | None) -> None:
    """Actors are discriminated by ``actorType`` (``hookq.sources.base.by_field``): what is
    accepted, and as which class, is what trying each variant in turn gave."""
    body = replaced(seed(), ("payload", "chat", "createdBy"), actor)
    if variant is None:
        with pytest.raises(ValidationError) as caught:
            parse("thread.chat_sent", body)
        locations = [[str(p) for p in error["loc"]] for error in caught.value.errors()]
        assert all(loc[:3] == ["payload", "chat", "createdBy"] for loc in locations), locations
        return
    event = parse("thread.chat_sent", body)
    assert isinstance(event, ThreadChatSent)
    created_by = event.payload.chat.createdBy
    assert type(created_by).__name__ == variant
    # Built models validate again as themselves (a model's own dump, or the model itself).
    again = ThreadChatSent.model_validate(event)
    assert type(again.payload.chat.createdBy).__name__ == variant
    dumped = ThreadChatSent.model_validate(event.model_dump(by_alias=True))
    assert type(dumped.payload.chat.createdBy).__name__ == variant
