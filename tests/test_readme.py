"""The README stays true: every setting is documented, and the two commands are there."""

from __future__ import annotations

from pathlib import Path

from hookq.settings import Settings, env_name

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [env_name(field) for field in Settings.model_fields if env_name(field) not in README]
    assert missing == []


def test_the_two_commands() -> None:
    assert "docker compose up" in README
    assert "scripts/test" in README
