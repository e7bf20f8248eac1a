"""StaryaAI models against the seed's examples (repaired into tests/fixtures/seeds/starya/:
the ``chat.tag.appended`` example's ``event`` slip fixed, the scraper's ``[email protected]``
replaced by an address; ``variants/`` holds the second ``chat.message.created`` example)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import hookq.sources.starya
from hookq.sources.starya import (
    EVENTS,
    ChatCreated,
    ChatDeleted,
    ChatMessageCreated,
    StaryaData,
    StaryaEvent,
    StaryaSource,
    UserCreated,
    UserUpdated,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "seeds" / "starya"
SEEDS = sorted(FIXTURES.glob("*.json"))
ALL_EXAMPLES = sorted(FIXTURES.rglob("*.json"))


def event_type_of(path: Path) -> str:
    return path.name.removesuffix(".json").removesuffix(".agent")


def load(event_type: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((FIXTURES / f"{event_type}.json").read_bytes())
    return value


def source() -> StaryaSource:
    return StaryaSource(insecure=True)


def validate(event_type: str, body: dict[str, Any]) -> BaseModel:
    return source().parse(event_type, json.dumps(body).encode())


def set_path(value: Any, path: tuple[str | int, ...], new: Any) -> None:
    for key in path[:-1]:
        value = value[key]
    value[path[-1]] = new


def del_path(value: Any, path: tuple[str | int, ...]) -> None:
    for key in path[:-1]:
        value = value[key]
    del value[path[-1]]


def test_one_fixture_per_event_type() -> None:
    assert {path.name.removesuffix(".json") for path in SEEDS} == set(EVENTS)
    assert len(EVENTS) == 8


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
def test_seed_example_validates_into_its_class(path: Path) -> None:
    event_type = event_type_of(path)
    event = source().parse(event_type, path.read_bytes())
    assert type(event) is EVENTS[event_type]
    assert isinstance(event, StaryaEvent)
    assert event.event == event_type
    # Nothing is lost: the model's own JSON validates back into an equal model.
    assert type(event).model_validate_json(event.model_dump_json(by_alias=True)) == event


def test_fields_are_typed() -> None:
    user = UserUpdated.model_validate(load("user.updated"))
    assert user.data.birthDate.year == 1990
    assert user.data.oldState.phone == "+14155552671"
    assert user.data.preferences is not None
    assert user.data.preferences.communicationOptIn is not None
    assert user.data.preferences.communicationOptIn.sms is True
    message = ChatMessageCreated.model_validate(load("chat.message.created"))
    assert message.data.from_.type == "user"
    assert message.data.content.image is not None
    assert message.data.content.image[0].fileId == "file_img_order_issue.jpg"
    assert message.data.timestamp.microsecond == 999000


def test_chat_deleted_shares_chat_created_shape() -> None:
    assert issubclass(ChatDeleted, ChatCreated)
    deleted = validate("chat.deleted", load("chat.deleted"))
    assert isinstance(deleted, ChatDeleted)
    assert deleted.data.agent.name == "Support Agent Mary"


# (event type, path of a required field); the error must name that path.
REQUIRED = [
    ("user.created", ("event",)),
    ("user.created", ("timestamp",)),
    ("user.created", ("data",)),
    ("user.created", ("data", "email")),
    ("user.created", ("data", "cpf")),
    ("user.created", ("data", "metadata")),
    ("user.updated", ("data", "oldState")),
    ("user.updated", ("data", "oldState", "birthDate")),
    ("user.deleted", ("data", "id")),
    ("chat.created", ("data", "agent", "name")),
    ("chat.deleted", ("data", "userId")),
    ("chat.message.created", ("data", "chat", "agentId")),
    ("chat.message.created", ("data", "content", "text")),
    ("chat.message.created", ("data", "content", "image", 0, "fileId")),
    ("chat.message.created", ("data", "from")),
    ("chat.message.created", ("data", "from", "type")),
    ("chat.message.created", ("data", "platform", "type")),
    ("chat.message.status.updated", ("data", "messageId")),
    ("chat.message.status.updated", ("data", "status")),
    ("chat.tag.appended", ("data", "chatId")),
    ("chat.tag.appended", ("data", "tagId")),
]


def assert_error_names(exc: pytest.ExceptionInfo[ValidationError], path: tuple[Any, ...]) -> None:
    locs = [err["loc"] for err in exc.value.errors()]
    assert path in locs, locs
    # The readable form the dead-letter tooling shows names the field by its dotted path.
    assert ".".join(map(str, path)) in str(exc.value)


@pytest.mark.parametrize(("event_type", "path"), REQUIRED, ids=lambda v: str(v))
def test_missing_required_field_is_named(event_type: str, path: tuple[str | int, ...]) -> None:
    body = load(event_type)
    del_path(body, path)
    with pytest.raises(ValidationError) as exc:
        validate(event_type, body)
    assert_error_names(exc, path)


WRONG_TYPE = [
    ("user.created", ("timestamp",), "yesterday"),
    ("user.created", ("data", "birthDate"), "15/05/1990"),
    ("user.created", ("data", "metadata"), "premium"),
    ("user.created", ("data", "preferences", "communicationOptIn", "sms"), "maybe"),
    ("user.updated", ("data", "oldState", "name"), 42),
    ("chat.created", ("data", "agent"), "agent_support_01"),
    ("chat.message.created", ("data", "from", "type"), "robot"),
    ("chat.message.created", ("data", "content", "image"), "file_img.jpg"),
    ("chat.message.created", ("data", "timestamp"), [2024]),
    ("chat.message.status.updated", ("data", "timestamp"), "soon"),
    ("chat.tag.appended", ("data", "tagId"), None),
]


@pytest.mark.parametrize(("event_type", "path", "value"), WRONG_TYPE, ids=lambda v: str(v))
def test_wrong_type_is_named(event_type: str, path: tuple[str | int, ...], value: Any) -> None:
    body = load(event_type)
    set_path(body, path, value)
    with pytest.raises(ValidationError) as exc:
        validate(event_type, body)
    assert_error_names(exc, path)


def test_unknown_fields_are_kept_at_every_level() -> None:
    body = load("chat.message.created")
    body["deliveryId"] = "d-1"
    body["data"]["chat"]["channelId"] = "ch-9"
    body["data"]["content"]["audio"] = [{"fileId": "a.ogg"}]
    body["data"]["from"]["name"] = "Mary"
    event = validate("chat.message.created", body)
    assert isinstance(event, ChatMessageCreated)
    assert event.model_extra == {"deliveryId": "d-1"}
    assert event.data.chat.model_extra == {"channelId": "ch-9"}
    assert event.data.from_.model_extra == {"name": "Mary"}
    dumped = event.model_dump(by_alias=True)
    assert dumped["data"]["content"]["audio"] == [{"fileId": "a.ogg"}]
    assert dumped["data"]["from"]["name"] == "Mary"


def test_lenient_fields_accept_what_the_provider_may_send() -> None:
    # The scraper artefact of the seed, an unknown platform and status: never dead-lettered.
    user = load("user.created")
    user["data"]["email"] = "[email protected]"
    assert isinstance(validate("user.created", user), UserCreated)
    message = load("chat.message.created")
    message["data"]["platform"]["type"] = "telegram"
    parsed = validate("chat.message.created", message)
    assert isinstance(parsed, ChatMessageCreated)
    assert parsed.data.platform.type == "telegram"
    status = load("chat.message.status.updated")
    status["data"].update(status="failed", error={"code": 131026, "message": "undeliverable"})
    del status["data"]["chatId"], status["data"]["timestamp"]
    parsed_status = validate("chat.message.status.updated", status)
    assert parsed_status.model_dump()["data"]["status"] == "failed"


def test_unknown_event_type_validates_into_the_envelope() -> None:
    body = {"event": "chat.archived", "timestamp": "2024-06-01T08:00:00.000Z", "data": {"id": "c"}}
    event = validate("chat.archived", body)
    assert type(event) is StaryaEvent
    assert isinstance(event.data, StaryaData)
    assert event.data.model_extra == {"id": "c"}
    broken = copy.deepcopy(body)
    broken["data"] = ["not", "an", "object"]
    with pytest.raises(ValidationError) as exc:
        validate("chat.archived", broken)
    assert_error_names(exc, ("data",))


def test_personal_data_stays_out_of_repr() -> None:
    event = UserUpdated.model_validate(load("user.updated"))
    text = repr(event) + str(event)
    for secret in ("123.456.789-00", "+14155551234", "+14155552671", "john.doe@example.com"):
        assert secret not in text
    assert "usr_12345abcde" in text  # ids are not personal data: still shown
    assert event.data.cpf == "123.456.789-00"  # and the data itself is kept for handlers


def test_error_text_names_the_field_but_not_the_personal_value() -> None:
    body = load("user.created")
    body["data"]["cpf"] = 12345678900
    body["data"]["birthDate"] = "15/05/1990"
    with pytest.raises(ValidationError) as exc:
        validate("user.created", body)
    text = str(exc.value)
    assert "data.cpf" in text
    assert "data.birthDate" in text
    assert "12345678900" not in text
    assert "15/05/1990" not in text


def test_public_api() -> None:
    assert list(hookq.sources.starya.models.__all__) == sorted(
        hookq.sources.starya.models.__all__, key=lambda n: (not n.isupper(), n)
    )
    for event_type, model in EVENTS.items():
        assert getattr(hookq.sources.starya, model.__name__) is model
        assert (model.__doc__ or "").startswith("Sent when"), event_type
    assert StaryaSource.events is EVENTS
