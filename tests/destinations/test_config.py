"""The destinations file: what it accepts, and that each kind of mistake names the destination
and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookq.destinations.config import (
    DestinationsError,
    RateLimit,
    load_destinations,
    parse_rate,
)
from hookq.destinations.delivery import parse_retry_after
from hookq.settings import Settings
from hookq.testing.signing import SECRETS
from tests.support.workers import run_worker_command, worker_env

SECRET = SECRETS["standard"]

GOOD = f"""
[[destination]]
name = "crm"
url = "http://crm.internal:9000/hooks"
patterns = ["plain.thread.#", "starya.user.*"]
secrets = ["{SECRET}", "{SECRET}"]
timeout = 10
max_attempts = 8
rate_limit = "10/s"
[destination.headers]
Authorization = "Bearer abc"

[[destination]]
name = "billing"
url = "https://billing.example/in"
patterns = ["standard.#"]
secrets = ["{SECRET}"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "destinations.toml"
    path.write_text(text)
    return path


def test_a_good_file_reads_every_key(tmp_path: Path) -> None:
    crm, billing = load_destinations(write(tmp_path, GOOD))
    assert crm.name == "crm"
    assert crm.patterns == ["plain.thread.#", "starya.user.*"]
    assert len(crm.keys()) == 2
    assert crm.rate_limit == RateLimit(10, 1.0)
    assert crm.headers == {"Authorization": "Bearer abc"}
    assert (billing.timeout, billing.max_attempts, billing.rate_limit) == (10.0, 8, None)
    assert "Bearer abc" in crm.secret_values()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/s", RateLimit(10, 1.0)),
        ("600/m", RateLimit(600, 60.0)),
        (" 1 / h ", RateLimit(1, 3600.0)),
    ],
)
def test_rates(text: str, expected: RateLimit) -> None:
    assert parse_rate(text) == expected


def one(**keys: str) -> str:
    fields = {
        "name": '"crm"',
        "url": '"http://crm.internal/hooks"',
        "patterns": '["standard.#"]',
        "secrets": f'["{SECRET}"]',
    } | keys
    body = "\n".join(f"{key} = {value}" for key, value in fields.items() if value)
    return f"[[destination]]\n{body}\n"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (one(url='"ftp://x"'), ["destination 'crm'", "key 'url'", "http://"]),
        (one(url=""), ["destination 'crm'", "key 'url'", "required"]),
        (one(patterns="[]"), ["destination 'crm'", "key 'patterns'"]),
        (one(patterns='["a..b"]'), ["destination 'crm'", "key 'patterns'"]),
        (one(secrets='["hunter2"]'), ["destination 'crm'", "key 'secrets'", "whsec_"]),
        (one(timeout="0"), ["destination 'crm'", "key 'timeout'", "greater than 0"]),
        (one(timeout='"ten"'), ["destination 'crm'", "key 'timeout'"]),
        (one(max_attempts="0"), ["destination 'crm'", "key 'max_attempts'"]),
        (one(rate_limit='"10 per second"'), ["destination 'crm'", "key 'rate_limit'", "/s"]),
        (one(rate_limit="10"), ["destination 'crm'", "key 'rate_limit'"]),
        (one(name='"Not A Name"'), ["destination 'Not A Name'", "key 'name'"]),
        (one(name=""), ["destination #1", "key 'name'", "required"]),
        (one(colour='"red"'), ["destination 'crm'", "key 'colour'", "not permitted"]),
        (one() + '[destination.headers]\nwebhook-id = "x"\n', ["key 'headers'", "webhook-id"]),
        (one() + one(), ["two destinations are named 'crm'"]),
        ("[[destinations]]\nname = 1\n", ["key 'destinations'"]),
        ("[[destination]\n", ["not valid TOML"]),
    ],
)
def test_each_bad_file_names_the_destination_and_key(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DestinationsError) as caught:
        load_destinations(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(DestinationsError, match="cannot read"):
        load_destinations(tmp_path / "nope.toml")


def test_a_bad_secret_is_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(DestinationsError) as caught:
        load_destinations(write(tmp_path, one(secrets='["whsec_not base64 SECRETVALUE"]')))
    assert "SECRETVALUE" not in str(caught.value)


def test_a_bad_file_stops_the_worker_naming_destination_and_key(
    tmp_path: Path, settings: Settings
) -> None:
    path = write(tmp_path, one(timeout="-1"))
    done = run_worker_command(worker_env(settings, HOOKQ_DESTINATIONS_FILE=str(path)))
    assert done.returncode == 2
    assert "destination 'crm': key 'timeout'" in done.stderr


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("2", 2.0),
        (" 120 ", 120.0),
        ("Thu, 01 Jan 1970 00:00:30 GMT", 20.0),  # an HTTP date, 'now' being 10
        ("Thu, 01 Jan 1970 00:00:05 GMT", 0.0),  # in the past: at once
        ("soon", None),
        ("-3", None),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=10.0) == seconds
