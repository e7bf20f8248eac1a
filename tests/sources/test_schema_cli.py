"""``hookq schema``: the catalogue and JSON Schemas, checked against the registry itself (so the
tests follow whatever event models each source has)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hookq.cli import main
from hookq.sources.registry import source_types

SOURCE_TYPES = source_types()

EVENT_TYPES = [(name, t) for name, cls in SOURCE_TYPES.items() for t in sorted(cls.events)]
HOOKQ = Path(sys.executable).with_name("hookq")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(["schema", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else out, err


def resolve(document: dict[str, Any], ref: dict[str, str]) -> dict[str, Any]:
    prefix = "#/$defs/"
    assert ref["$ref"].startswith(prefix)
    definition: dict[str, Any] = document["$defs"][ref["$ref"].removeprefix(prefix)]
    return definition


def test_catalogue_lists_every_source_and_event_type(capsys: pytest.CaptureFixture[str]) -> None:
    code, catalogue, _ = run(capsys)
    assert code == 0
    assert list(catalogue["sources"]) == list(SOURCE_TYPES)
    for name, source in SOURCE_TYPES.items():
        entry = catalogue["sources"][name]
        assert entry["envelope"]["class"] == source.envelope.__name__
        assert set(entry["events"]) == set(source.events)
        for event_type, model in source.events.items():
            listed = entry["events"][event_type]
            assert listed["class"] == model.__name__
            assert listed["import"].endswith(f".{model.__name__}")
            assert "\n" not in listed["summary"]


def test_catalogue_shows_docstring_summary(capsys: pytest.CaptureFixture[str]) -> None:
    _, catalogue, _ = run(capsys)
    chat_deleted = catalogue["sources"]["starya"]["events"]["chat.deleted"]
    assert chat_deleted == {
        "class": "ChatDeleted",
        "import": "hookq.sources.starya.ChatDeleted",
        "summary": "Sent when a chat is deleted; ``data`` is the chat as ``chat.created`` "
        "describes it.",
    }


@pytest.mark.parametrize("name", list(SOURCE_TYPES))
def test_source_schema_has_every_event_type(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, document, _ = run(capsys, name)
    assert code == 0
    source = SOURCE_TYPES[name]
    assert document["source"] == name
    assert set(document["events"]) == set(source.events)
    assert resolve(document, document["envelope"])["title"] == source.envelope.__name__
    for event_type, model in source.events.items():
        schema = resolve(document, document["events"][event_type])
        assert schema["title"] == model.__name__
        assert schema["type"] == "object"


@pytest.mark.parametrize(("name", "event_type"), EVENT_TYPES, ids=lambda v: str(v))
def test_event_schema_is_the_models(
    capsys: pytest.CaptureFixture[str], name: str, event_type: str
) -> None:
    code, schema, _ = run(capsys, f"{name}.{event_type}")
    assert code == 0
    assert schema == SOURCE_TYPES[name].events[event_type].model_json_schema()


def test_dotted_event_type_and_starya_schema_details(capsys: pytest.CaptureFixture[str]) -> None:
    code, schema, _ = run(capsys, "starya.chat.message.created")
    assert code == 0
    assert schema["title"] == "ChatMessageCreated"
    message = schema["$defs"]["Message"]
    assert "from" in message["required"]  # the provider's name, not the Python one
    assert schema["$defs"]["Sender"]["properties"]["type"]["enum"] == ["user", "agent", "mediator"]
    code, user, _ = run(capsys, "starya.user.created")
    assert code == 0
    assert user["$defs"]["User"]["properties"]["cpf"]["x-personal-data"] is True


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("nosuchsource", "unknown source 'nosuchsource'"),
        ("nosuchsource.thread.chat_sent", "unknown source 'nosuchsource'"),
        ("starya.user.archived", "no model for event type 'user.archived'"),
        ("standard.invoice.paid", "validated against its envelope StandardEvent"),
    ],
)
def test_unknown_selector_exits_1_with_a_message(
    capsys: pytest.CaptureFixture[str], selector: str, message: str
) -> None:
    code, out, err = run(capsys, selector)
    assert code == 1
    assert out == ""
    assert message in err


def test_subprocess(tmp_path: Path) -> None:
    ok = subprocess.run(
        [str(HOOKQ), "schema", "starya.chat.tag.appended"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["title"] == "ChatTagAppended"
    bad = subprocess.run(
        [str(HOOKQ), "schema", "starya.nope"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
    )
    assert bad.returncode == 1
    assert "no model for event type 'nope'" in bad.stderr
    assert bad.stdout == ""
