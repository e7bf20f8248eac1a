"""The LiveChat models against every reference file and every example of the seed.

The seed's examples (``tests/fixtures/seeds/livechat/``) were repaired from
``seeds/001_02748cf3e42cde2f.txt`` by hand-checked edits, nothing else:

- ``//`` comments removed; trailing commas removed (``chat_transferred``, ``bot_updated``);
- ``customer_session_fields_updated``: the stray ``]`` after ``active_chat`` removed;
- ``auto_accesses_updated-2``: the unclosed ``conditions`` object closed before ``next_id``;
  ``auto_accesses_updated-3``: the missing comma after the ``payload`` array added; all three
  said ``"action": "auto_access_added"``, a copy-paste slip (the heading, the Specifics table
  and the array payload all say ``auto_accesses_updated``), so their action is corrected;
- ``group_*``: the seed gives only the payload (and names the actions ``create_group`` etc.,
  where bodies and real traffic say ``group_created``): wrapped in the envelope the seed's other
  configuration webhooks use, with the real action names;
- placeholders standing for a documented object (``// "Thread" object``, ``// "Event" object``,
  ``// "User > Customer" object``, ``// array of "User" objects``) were replaced by that object
  from ``reference/livechat/objects-v3.5``; other placeholders (properties, additional data)
  became empty.

Bodies are validated as the worker receives them: without ``secret_key``, which the ingress
strips before queueing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import hookq.sources.livechat as livechat
from hookq.sources.livechat import (
    EVENTS,
    Agent,
    AutoAccessesUpdated,
    Cart,
    CartItem,
    Chat,
    ChatSummary,
    ChatTransferred,
    Customer,
    CustomEvent,
    DeletedEvent,
    Event,
    EventDeleted,
    FileEvent,
    FilledFormEvent,
    FilledFormField,
    FormEvent,
    FormField,
    IncomingChat,
    IncomingCustomer,
    IncomingEvent,
    LivechatWebhook,
    MessageEvent,
    MyProfile,
    OtherEvent,
    OtherUser,
    Properties,
    RichMessageEvent,
    SystemEvent,
    SystemMessageEvent,
    Thread,
    ThreadSummarySet,
    User,
    actions,
    auto_access,
    configuration,
    envelope,
    events,
    models,
    objects,
    properties,
    users,
)
from hookq.sources.livechat.objects import Access
from tests import fixtures

REFERENCE = fixtures.REFERENCE / "livechat"
FIXTURES = sorted((REFERENCE / "fixtures-v3.5").glob("*.json"))
OBJECTS = sorted((REFERENCE / "objects-v3.5").glob("*.json")) + sorted(
    (REFERENCE / "objects-v3.6").glob("*.json")
)
SEED_DIR = fixtures.SEEDS / "livechat"
SEEDS = sorted(SEED_DIR.glob("*.json"))

# Every action the v3.5 reference (the seed) documents; v3.6 drops incoming_customer and adds
# the two below.
V35_ACTIONS = {
    *("incoming_chat", "chat_deactivated", "chat_access_updated", "chat_transferred"),
    *("user_added_to_chat", "user_removed_from_chat", "incoming_event", "event_updated"),
    *("incoming_rich_message_postback", "chat_properties_updated", "chat_properties_deleted"),
    *("thread_properties_updated", "thread_properties_deleted", "event_properties_updated"),
    *("event_properties_deleted", "thread_tagged", "thread_untagged", "routing_status_set"),
    *("incoming_customer", "customer_session_fields_updated", "agent_created"),
    *("agent_approved", "agent_updated", "agent_suspended", "agent_unsuspended"),
    *("agent_deleted", "auto_accesses_updated", "bot_created", "bot_updated", "bot_deleted"),
    *("group_created", "group_deleted", "group_updated", "tag_created", "tag_deleted"),
    *("tag_updated", "events_marked_as_seen"),
}
V36_ACTIONS = (V35_ACTIONS - {"incoming_customer"}) | {"event_deleted", "thread_summary_set"}

EVENT_OBJECTS: dict[str, type[BaseModel]] = {
    "events__custom": CustomEvent,
    "events__deletedEvent": DeletedEvent,
    "events__file": FileEvent,
    "events__filledForm": FilledFormEvent,
    "events__form": FormEvent,
    "events__message": MessageEvent,
    "events__richMessage": RichMessageEvent,
    "events__system": SystemEvent,
    "events__systemMessage": SystemMessageEvent,
}
USER_OBJECTS: dict[str, type[BaseModel]] = {
    "users__agent": Agent,
    "users__customer": Customer,
    "users__myProfile": Agent,  # through the User union; MyProfile is checked on its own
}
# Structures wrapped in a one-key object in the reference ("fields", "access", "properties").
OTHER_OBJECTS: dict[str, tuple[str | None, Any]] = {
    "other-structures__access": ("access", Access),
    "other-structures__cart": (None, Cart),
    "other-structures__cartItem": (None, CartItem),
    "other-structures__chat": (None, Chat),
    "other-structures__chatSummary": (None, ChatSummary),
    "other-structures__filledFormFields": ("fields", list[FilledFormField]),
    "other-structures__formFields": ("fields", list[FormField]),
    "other-structures__properties": ("properties", Properties),
    "other-structures__thread": (None, Thread),
}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def queued(envelope: dict[str, Any]) -> bytes:
    """The body as the worker receives it: the ingress removed ``secret_key``."""
    return json.dumps({k: v for k, v in envelope.items() if k != "secret_key"}).encode()


def validate(envelope: dict[str, Any]) -> LivechatWebhook[Any]:
    model = EVENTS.get(envelope["action"], LivechatWebhook)
    return model.model_validate_json(queued(envelope))


def ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in paths]


# Every real fixture, every seed example ------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=ids(FIXTURES))
def test_reference_fixture_validates_into_its_class(path: Path) -> None:
    envelope = load(path)
    model = validate(envelope)
    assert type(model) is EVENTS[envelope["action"]]
    assert model.action == envelope["action"]
    # Typed all the way down: the payload is a model (or a list of them), not a raw dict.
    assert not isinstance(model.payload, dict)


@pytest.mark.parametrize("path", SEEDS, ids=ids(SEEDS))
def test_repaired_seed_example_validates_into_its_class(path: Path) -> None:
    envelope = load(path)
    # What the ingress tests rely on: a full envelope, named after its action.
    assert envelope["secret_key"] == "<secret_key>"
    assert re.fullmatch(rf"{envelope['action']}(-\d+)?", path.stem)
    model = validate(envelope)
    assert type(model) is EVENTS[envelope["action"]]


def test_seed_examples_cover_every_v35_action() -> None:
    assert len(SEEDS) == 39
    assert {load(p)["action"] for p in SEEDS} == V35_ACTIONS


def test_every_action_of_both_versions_has_its_own_class() -> None:
    assert EVENTS.keys() >= V35_ACTIONS | V36_ACTIONS
    classes = list(EVENTS.values())
    assert len(set(classes)) == len(classes)
    for action, cls in EVENTS.items():
        assert issubclass(cls, LivechatWebhook), action
        assert "Sent when" in (cls.__doc__ or ""), action
        assert getattr(livechat, cls.__name__) is cls  # plain to import for handler authors
        assert "secret_key" not in cls.model_fields, action
        cls.model_json_schema()  # the catalogue ``hookq schema`` prints


# Objects -------------------------------------------------------------------------------------


def test_every_reference_object_file_is_checked() -> None:
    known = EVENT_OBJECTS.keys() | USER_OBJECTS.keys() | OTHER_OBJECTS.keys()
    assert {p.stem for p in OBJECTS} == known


@pytest.mark.parametrize("path", OBJECTS, ids=ids(OBJECTS))
def test_reference_object_validates_into_its_model(path: Path) -> None:
    data = load(path)
    if path.stem in EVENT_OBJECTS:
        event = TypeAdapter(Event).validate_python(data)
        assert type(event) is EVENT_OBJECTS[path.stem]
    elif path.stem in USER_OBJECTS:
        user = TypeAdapter(User).validate_python(data)
        assert type(user) is USER_OBJECTS[path.stem]
    else:
        key, model = OTHER_OBJECTS[path.stem]
        value = TypeAdapter(model).validate_python(data[key] if key else data)
        assert value


def test_my_profile_keeps_its_permission() -> None:
    profile = MyProfile.model_validate(load(REFERENCE / "objects-v3.5/users__myProfile.json"))
    assert (profile.permission, profile.routing_status) == ("administrator", "accepting_chats")


def test_incoming_chat_is_typed_down_to_events_and_users() -> None:
    model = validate(load(REFERENCE / "fixtures-v3.5/incoming_chat.json"))
    assert isinstance(model, IncomingChat)
    chat = model.payload.chat
    assert [type(u) for u in chat.users] == [Customer, Agent]
    assert chat.thread is not None
    form, message = chat.thread.events
    assert isinstance(form, FilledFormEvent)
    assert isinstance(message, MessageEvent)
    # Real v3.5 traffic answers a form in ``value``, the reference in ``answer``.
    assert form.fields[0].response == "rewrew"
    assert message.text == "Hello. How may I help you?"


def test_filled_form_answers_read_alike_in_either_spelling() -> None:
    event = TypeAdapter(Event).validate_python(
        load(REFERENCE / "objects-v3.6/events__filledForm.json")
    )
    assert isinstance(event, FilledFormEvent)
    assert event.fields[0].response == "Thomas Anderson"
    checkbox = event.fields[3].response
    assert isinstance(checkbox, list)
    assert [a.label for a in checkbox] == ["automotive", "it"]


def test_queue_time_reads_alike_in_v35_and_v36_spelling() -> None:
    name = "chat_transferred.json"
    seed = validate(load(SEED_DIR / name))  # queued_at_us, as the v3.5 reference
    real = validate(load(REFERENCE / "fixtures-v3.5" / name))  # queued_at
    assert isinstance(seed, ChatTransferred)
    assert isinstance(real, ChatTransferred)
    assert seed.payload.queue
    assert real.payload.queue
    assert seed.payload.queue.entered_at == real.payload.queue.entered_at is not None


def test_incoming_customer_flat_or_nested_gives_the_customer() -> None:
    real = validate(load(REFERENCE / "fixtures-v3.5/incoming_customer.json"))
    seed = validate(load(SEED_DIR / "incoming_customer.json"))
    assert isinstance(real, IncomingCustomer)
    assert isinstance(seed, IncomingCustomer)
    assert real.payload.customer.id == "baf3cf72-4768-42e4-6140-26dd36c962cc"
    assert seed.payload.customer.id == "b7eff798-f8df-4364-8059-649c35c9ed0c"


def test_auto_accesses_updated_payload_is_a_list_of_changes() -> None:
    model = validate(load(SEED_DIR / "auto_accesses_updated-3.json"))
    assert isinstance(model, AutoAccessesUpdated)
    assert [(c.id, c.status) for c in model.payload] == [
        ("f65e41f43bbb2fefe3756698ba47caeb", "updated"),
        ("a2710c4680fa15700ae046940a11a329", "deleted"),
    ]


def test_personal_data_stays_out_of_repr() -> None:
    customer = Customer.model_validate(load(REFERENCE / "objects-v3.6/users__customer.json"))
    text = repr(customer)
    assert customer.email == "t.anderson@example.com"
    for secret in ("t.anderson@example.com", "+18008529001", "Thomas Anderson", "Pennsylvania"):
        assert secret not in text


# Failures name the field ---------------------------------------------------------------------


def payload_cases() -> list[Any]:
    """(file, payload field) for every required payload field present in a fixture or seed."""
    cases = []
    for path in FIXTURES + SEEDS:
        envelope = load(path)
        payload_model = EVENTS[envelope["action"]].model_fields["payload"].annotation
        if not (isinstance(payload_model, type) and issubclass(payload_model, BaseModel)):
            continue  # auto_accesses_updated: a list, tested below
        for name, field in payload_model.model_fields.items():
            if field.is_required() and name in envelope["payload"]:
                cases.append(pytest.param(path, name, id=f"{path.parent.name}/{path.stem}:{name}"))
    return cases


def error_locs(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[int | str, ...]]:
    return [tuple(error["loc"]) for error in exc.value.errors()]


@pytest.mark.parametrize(("path", "field"), payload_cases())
def test_required_payload_field_removed_is_named(path: Path, field: str) -> None:
    envelope = load(path)
    del envelope["payload"][field]
    with pytest.raises(ValidationError) as exc:
        validate(envelope)
    assert ("payload", field) in error_locs(exc)


@pytest.mark.parametrize(("path", "field"), payload_cases())
def test_required_payload_field_of_wrong_type_is_named(path: Path, field: str) -> None:
    envelope = load(path)
    # A list where the model wants anything else, an object where it wants a list.
    envelope["payload"][field] = {"x": 1} if isinstance(envelope["payload"][field], list) else [1]
    with pytest.raises(ValidationError) as exc:
        validate(envelope)
    assert any(loc[:2] == ("payload", field) for loc in error_locs(exc))


@pytest.mark.parametrize("field", ["webhook_id", "action", "organization_id", "payload"])
def test_required_envelope_field_removed_is_named(field: str) -> None:
    envelope = load(REFERENCE / "fixtures-v3.5/thread_tagged.json")
    del envelope[field]
    with pytest.raises(ValidationError) as exc:
        EVENTS["thread_tagged"].model_validate_json(queued(envelope))
    assert (field,) in error_locs(exc)


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        pytest.param(
            lambda e: e["payload"]["event"].pop("text"),
            ("payload", "event", "message", "text"),
            id="event-text-removed",
        ),
        pytest.param(
            lambda e: e["payload"]["event"].update(created_at="yesterday"),
            ("payload", "event", "message", "created_at"),
            id="event-created_at-not-a-time",
        ),
        pytest.param(
            lambda e: e["payload"]["event"].pop("id"),
            ("payload", "event", "message", "id"),
            id="event-id-removed",
        ),
    ],
)
def test_nested_event_failure_names_its_path(mutate: Any, loc: tuple[str, ...]) -> None:
    envelope = load(REFERENCE / "fixtures-v3.5/incoming_event.json")
    mutate(envelope)
    with pytest.raises(ValidationError) as exc:
        validate(envelope)
    assert error_locs(exc) == [loc]


def test_nested_user_and_list_failures_name_their_path() -> None:
    chat = load(REFERENCE / "fixtures-v3.5/incoming_chat.json")
    del chat["payload"]["chat"]["users"][1]["id"]
    with pytest.raises(ValidationError) as exc:
        validate(chat)
    assert error_locs(exc) == [("payload", "chat", "users", 1, "agent", "id")]

    rules = load(SEED_DIR / "auto_accesses_updated.json")
    del rules["payload"][1]["status"]
    rules["payload"][0]["id"] = 7
    with pytest.raises(ValidationError) as exc:
        validate(rules)
    # A list stops at its first bad item (ProviderModel: an invalid event costs no more than a
    # valid one), so the second item's error is not reported.
    assert error_locs(exc) == [("payload", 0, "id")]


@pytest.mark.parametrize("path", [REFERENCE / "objects-v3.6" / f"{n}.json" for n in EVENT_OBJECTS])
def test_required_event_field_removed_is_named(path: Path) -> None:
    data = load(path)
    model = EVENT_OBJECTS[path.stem]
    required = [n for n, f in model.model_fields.items() if f.is_required() and n != "deleted"]
    assert required
    for name in required:
        broken = {k: v for k, v in data.items() if k != name}
        with pytest.raises(ValidationError) as exc:
            TypeAdapter(Event).validate_python(broken)
        assert any(loc[-1] == name for loc in error_locs(exc)), name


# Growth never dead-letters -------------------------------------------------------------------


def test_unknown_fields_are_kept_at_every_level() -> None:
    envelope = load(REFERENCE / "fixtures-v3.5/incoming_chat.json")
    envelope["delivery_hint"] = "new"
    envelope["payload"]["priority"] = 3
    chat = envelope["payload"]["chat"]
    chat["channel"] = {"type": "whatsapp"}
    chat["users"][0]["loyalty"] = "gold"
    chat["thread"]["events"][1]["reactions"] = ["+1"]
    model = validate(envelope)
    assert isinstance(model, IncomingChat)
    assert model.payload.chat.thread
    assert model.model_extra == {"delivery_hint": "new"}
    assert model.payload.model_extra == {"priority": 3}
    assert model.payload.chat.model_extra == {"channel": {"type": "whatsapp"}}
    assert model.payload.chat.users[0].model_extra == {"loyalty": "gold"}
    assert model.payload.chat.thread.events[1].model_extra == {"reactions": ["+1"]}
    # And they survive a round trip (a replay from the dead-letter queue, say).
    assert json.loads(model.model_dump_json())["payload"]["chat"]["channel"] == {"type": "whatsapp"}


def test_unknown_event_type_is_accepted_with_its_fields() -> None:
    envelope = load(REFERENCE / "fixtures-v3.5/incoming_event.json")
    envelope["payload"]["event"] = {
        "id": "PZ070E0W1B_4",
        "type": "video_call",
        "created_at": "2025-10-02T18:33:26.544000Z",
        "author_id": "smith@example.com",
        "duration_s": 95,
    }
    model = validate(envelope)
    assert isinstance(model, IncomingEvent)
    event = model.payload.event
    assert type(event) is OtherEvent
    assert (event.type, event.model_extra) == ("video_call", {"duration_s": 95})


def test_unknown_user_type_is_accepted() -> None:
    user = TypeAdapter(User).validate_python({"id": "b1", "type": "ai_agent", "name": "Bot"})
    assert type(user) is OtherUser
    assert user.type == "ai_agent"


@pytest.mark.parametrize(
    "payload", [{"chat_id": "PJ0MRSHTDG"}, [{"id": 1}]], ids=["object", "array"]
)
def test_unknown_action_validates_against_the_envelope(payload: Any) -> None:
    envelope = load(REFERENCE / "fixtures-v3.5/thread_tagged.json")
    envelope.update(action="chat_unfollowed", payload=payload)
    assert "chat_unfollowed" not in EVENTS
    model = validate(envelope)
    assert type(model) is LivechatWebhook
    assert (model.action, model.payload) == ("chat_unfollowed", payload)


def test_unknown_action_still_needs_an_envelope() -> None:
    with pytest.raises(ValidationError) as exc:
        LivechatWebhook.model_validate({"action": "chat_unfollowed", "payload": "text"})
    assert {("webhook_id",), ("organization_id",)} <= set(error_locs(exc))
    assert any(loc[0] == "payload" for loc in error_locs(exc))


# v3.6, and v3.2-3.3 envelopes -----------------------------------------------------------------

REQUESTER = {
    "user_id": "smith@example.com",
    "account_id": "f09ba25b-8be8-4fcd-a2c8-0b1c567aec85",
    "client_id": "1b4237f476826986da63022a76c35bb1",
}


def v36(action: str, payload: Any, **extra: Any) -> dict[str, Any]:
    return {
        "webhook_id": "c60e9768-ef5c-472d-bbe8-226696fe1586",
        "secret_key": "dummy_key",
        "action": action,
        "organization_id": "390e44e6-f1e6-0368c-z6ddb-74g14508c2ex",
        "payload": payload,
        "additional_data": {},
        **extra,
    }


def test_v36_event_deleted() -> None:
    ids_ = {"chat_id": "T30I2OAV50", "thread_id": "T30I2OAV60", "event_id": "T30I2OAV60_3"}
    model = validate(v36("event_deleted", ids_))
    assert isinstance(model, EventDeleted)
    assert model.payload.event_id == "T30I2OAV60_3"


def test_v36_thread_summary_set() -> None:
    summary = {
        "status": "ok",
        "text": "Customer asks about pricing.",
        "updated_at": "2025-10-02T18:33:26.544000Z",
    }
    payload = {"chat_id": "T30I2OAV50", "thread_id": "T30I2OAV60", "summary": summary}
    model = validate(v36("thread_summary_set", payload))
    assert isinstance(model, ThreadSummarySet)
    assert model.payload.summary.text == "Customer asks about pricing."
    assert model.payload.summary.updated_at
    assert model.payload.summary.updated_at.year == 2025


def test_v36_requester_on_a_configuration_webhook() -> None:
    payload = {"id": "smith@example.com", "name": "Agent Smith", "awaiting_approval": False}
    model = validate(v36("agent_created", payload, requester=REQUESTER))
    assert type(model) is EVENTS["agent_created"]
    assert model.requester
    assert model.requester.account_id == REQUESTER["account_id"]


def test_v36_deleted_event_and_system_event_in_a_thread() -> None:
    thread = load(REFERENCE / "objects-v3.6/other-structures__thread.json")
    thread["events"] = [
        load(REFERENCE / "objects-v3.6/events__deletedEvent.json"),
        load(REFERENCE / "objects-v3.6/events__system.json"),
    ]
    deleted, system = Thread.model_validate(thread).events
    assert isinstance(deleted, DeletedEvent)
    assert deleted.type == "message"
    assert isinstance(system, SystemEvent)
    assert system.details_data()["order"]["order_number"] == "#1001"


def test_v32_license_id_is_accepted_instead_of_organization_id() -> None:
    envelope = load(REFERENCE / "fixtures-v3.5/thread_tagged.json")
    del envelope["organization_id"]
    envelope["license_id"] = 104130623
    model = validate(envelope)
    assert (model.license_id, model.organization_id) == (104130623, None)


def test_error_text_names_the_field_but_not_the_personal_value() -> None:
    envelope = load(REFERENCE / "fixtures-v3.5/user_added_to_chat.json")
    envelope["payload"]["user"]["present"] = "sometimes"
    with pytest.raises(ValidationError) as exc:
        validate(envelope)
    assert "payload.user.customer.present" in str(exc.value)
    assert "test@test.pl" not in str(exc.value)
    assert "sometimes" not in str(exc.value)


def test_the_models_module_re_exports_exactly_its_subject_modules_names() -> None:
    # models.__all__ is written out by hand (mypy sees re-exports through it, not through a
    # computed one): this keeps it equal to what the subject modules export.
    subjects = (actions, auto_access, configuration, envelope, events, objects, properties, users)
    exported = {name for module in subjects for name in module.__all__}
    assert set(models.__all__) - {"EVENTS"} == exported
    assert len(models.__all__) == len(set(models.__all__))
