"""The README stays true: every setting is documented, and the two commands are there."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices

from hookq.settings import Settings, env_name
from hookq.sources.registry import PROVIDERS, settings_type

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def variables() -> list[str]:
    """Every environment variable hookq reads: its own settings and each provider's."""
    names = []
    for field, info in Settings.model_fields.items():
        if info.exclude:  # built from the providers' own settings, below
            continue
        alias = info.validation_alias
        names.append(str(alias.choices[0]) if isinstance(alias, AliasChoices) else env_name(field))
    for provider in PROVIDERS:
        names += [
            f"HOOKQ_{provider.upper()}_{f.upper()}" for f in settings_type(provider).model_fields
        ]
    return names


def test_every_setting_is_documented() -> None:
    missing = [name for name in variables() if f"`{name}`" not in README]
    assert missing == []


def test_the_two_commands() -> None:
    assert "docker compose up" in README
    assert "scripts/test" in README
