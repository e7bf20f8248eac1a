"""Settings: read from HOOKQ_* once; a bad value names its variable; sources fail closed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hookq.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("HOOKQ_"):
            monkeypatch.delenv(key)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.amqp_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.ingress_port == 8080
    assert settings.sources == ["plain", "livechat", "starya", "standard"]


def test_comma_separated_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKQ_PLAIN_SECRETS", "old, new ,")
    settings = load_settings()
    assert settings.source("plain").secret_values() == ("old", "new")
    assert "old" not in repr(settings)  # secrets never print


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOOKQ_INGRESS_PORT", "eighty"),
        ("HOOKQ_INGRESS_PORT", "70000"),
        ("HOOKQ_AMQP_URL", "http://broker"),
        ("HOOKQ_REDIS_URL", "localhost:6379"),
        ("HOOKQ_REDIS_URL", "redis+sentinel://s1:26379,s2:26379"),  # no service name
        ("HOOKQ_REDIS_URL", "redis+sentinel://s1:port/hookq"),
        ("HOOKQ_REDIS_URL", "redis+sentinel://s1:26379/hookq/first"),
        ("HOOKQ_SOURCES", "plain,zendesk"),
        ("HOOKQ_NAMESPACE", "Has Spaces"),
        ("HOOKQ_LOG_LEVEL", "LOUD"),
        ("HOOKQ_PUBLISH_TIMEOUT", "0"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_a_sentinel_url_names_sentinels_service_and_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hookq.connecting import safe_url
    from hookq.redis_url import parse_sentinel

    url = "redis+sentinel://:s3cret@10.0.0.1:26379,sentinel-b,[::1]:26380/dedupe/2"
    monkeypatch.setenv("HOOKQ_REDIS_URL", url)
    assert load_settings().redis_url == url
    target = parse_sentinel(url)
    assert target.sentinels == (("10.0.0.1", 26379), ("sentinel-b", 26379), ("::1", 26380))
    assert (target.service, target.db, target.password) == ("dedupe", 2, "s3cret")
    assert "s3cret" not in repr(target)
    assert "s3cret" not in target.where()
    assert safe_url(url) == "redis+sentinel://10.0.0.1:26379,sentinel-b,[::1]:26380/dedupe/2"


def test_enabled_source_without_secret_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKQ_SOURCES", "plain,starya")
    monkeypatch.setenv("HOOKQ_PLAIN_SECRETS", "s")
    with pytest.raises(SettingsError, match="HOOKQ_STARYA_SECRETS") as raised:
        load_settings().require_source_secrets()
    assert "HOOKQ_PLAIN_SECRETS" not in str(raised.value)
    monkeypatch.setenv("HOOKQ_INSECURE_SOURCES", "starya")
    load_settings().require_source_secrets()  # explicitly insecure: allowed


def test_ingress_refuses_to_start_without_secrets() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
    result = subprocess.run(
        [sys.executable, "-c", "from hookq.cli import main; raise SystemExit(main(['ingress']))"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "HOOKQ_PLAIN_SECRETS" in result.stderr


def test_bad_setting_exits_2_naming_it() -> None:
    env = {**os.environ, "HOOKQ_PREFETCH": "lots"}
    result = subprocess.run(
        [sys.executable, "-c", "from hookq.cli import main; raise SystemExit(main(['ingress']))"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "HOOKQ_PREFETCH" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOOKQ_STANDARD_SECRETS", "not-a-whsec-secret"),
        ("HOOKQ_STANDARD_SECRETS", "whsec_!!not-base64!!"),
        ("OTEL_TRACES_EXPORTER", "zipkin"),
    ],
)
def test_a_malformed_secret_stops_the_ingress_at_once_naming_it(variable: str, value: str) -> None:
    # Before any connection: nothing answers at this broker address, and it must not matter.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")} | {
        "HOOKQ_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",
        "HOOKQ_INSECURE_SOURCES": "plain,livechat,starya,standard",
        variable: value,
    }
    result = subprocess.run(
        [sys.executable, "-c", "from hookq.cli import main; raise SystemExit(main(['ingress']))"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr
    assert value not in result.stderr or value == "zipkin"  # a secret is never repeated
