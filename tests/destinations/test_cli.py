"""``hookq destinations list|enable|reset|check`` and the destinations' rows in
``hookq handlers``, in-process against the real Redis."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hookq.cli import main
from hookq.settings import Settings
from hookq.topology import Names
from tests.destinations.conftest import NAME, destination_toml


@pytest.fixture
def configured(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "destinations.toml"
    path.write_text(destination_toml("http://127.0.0.1:9/hooks", rate_limit="600/m"))
    for key in [k for k in __import__("os").environ if k.startswith("HOOKQ_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOOKQ_DESTINATIONS_FILE", str(path))
    monkeypatch.setenv("HOOKQ_NAMESPACE", settings.namespace)
    monkeypatch.setenv("HOOKQ_REDIS_URL", settings.redis_url)
    monkeypatch.setenv("HOOKQ_BUILTIN_HANDLERS", "")
    monkeypatch.setenv("HOOKQ_LOG_FORMAT", "json")
    return path


@pytest.fixture
def store(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


def key(names: Names, part: str) -> str:
    return names.redis_key("destination", NAME, part)


def listing(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["destinations", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["destinations"]
    assert isinstance(row, dict)
    return row


def test_list_shows_each_destination_and_its_state(
    configured: Path, store: redis.Redis, names: Names, capsys: pytest.CaptureFixture[str]
) -> None:
    row = listing(capsys)
    assert (row["name"], row["url"], row["rate_limit"]) == (
        NAME,
        "http://127.0.0.1:9/hooks",
        "600/m",
    )
    assert (row["state"], row["circuit"]) == ("ok", "closed")
    store.hset(key(names, "circuit"), mapping={"failures": 5, "open_until": 10**13})
    row = listing(capsys)
    assert row["circuit"] == "open"
    assert "circuit open" in str(row["state"])
    assert main(["destinations", "list"]) == 0
    assert "circuit open" in capsys.readouterr().out


def test_enable_and_reset(
    configured: Path, store: redis.Redis, names: Names, capsys: pytest.CaptureFixture[str]
) -> None:
    store.set(key(names, "disabled"), json.dumps({"reason": "HTTP 410 Gone", "at": 1}))
    assert listing(capsys)["circuit"] == "disabled"
    assert main(["destinations", "enable", NAME]) == 0
    assert "enabled" in capsys.readouterr().out
    assert store.exists(key(names, "disabled")) == 0
    assert main(["destinations", "enable", NAME]) == 1  # not disabled: nothing to do
    assert "not disabled" in capsys.readouterr().out
    store.hset(key(names, "circuit"), mapping={"failures": 7, "open_until": 10**13})
    assert main(["destinations", "reset", NAME]) == 0
    assert store.exists(key(names, "circuit")) == 0
    assert "circuit closed" in capsys.readouterr().out
    assert listing(capsys)["circuit"] == "closed"


def test_unknown_destination_and_missing_file_are_usage_errors(
    configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["destinations", "enable", "nope"]) == 2
    assert "unknown destination 'nope' (known: crm)" in capsys.readouterr().err
    monkeypatch.delenv("HOOKQ_DESTINATIONS_FILE")
    assert main(["destinations", "list"]) == 2
    assert "HOOKQ_DESTINATIONS_FILE is not set" in capsys.readouterr().err


def test_check_reads_the_file_and_tries_each_host(
    configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        configured.write_text(
            destination_toml(f"http://127.0.0.1:{port}/in")
            + destination_toml("http://127.0.0.1:9/in", name="gone")
        )
        assert main(["destinations", "check", "--timeout", "2"]) == 1
    out = capsys.readouterr().out
    assert f"crm: http://127.0.0.1:{port}/in: reachable" in out
    assert "gone: http://127.0.0.1:9/in: unreachable" in out
    configured.write_text(destination_toml("http://x/", timeout=0))
    assert main(["destinations", "check"]) == 2
    assert "destination 'crm': key 'timeout'" in capsys.readouterr().err


def test_handlers_lists_a_destination_with_its_state(
    configured: Path, store: redis.Redis, names: Names, capsys: pytest.CaptureFixture[str]
) -> None:
    store.set(key(names, "disabled"), json.dumps({"reason": "HTTP 410 Gone", "at": 1}))
    assert main(["handlers", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    (crm,) = document["handlers"]
    assert crm["queue"] == f"{names.namespace}.crm"
    assert crm["origin"] == "hookq.destinations:crm"
    assert crm["destination"]["circuit"] == "disabled"
    assert document["hooks"][0] == "destinations"
    assert main(["handlers"]) == 0
    assert "state: disabled (HTTP 410 Gone)" in capsys.readouterr().out
