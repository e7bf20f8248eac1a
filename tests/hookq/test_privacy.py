"""One privacy policy for every view: what the red team found shown is masked, and text that
only looks like data (dates, times, versions, ids) is left alone."""

from __future__ import annotations

import pytest

from hookq.privacy import MASK, Privacy
from hookq.settings import Settings
from hookq.sources.registry import PROVIDERS, settings_type

POLICY = Privacy(
    secrets=["lc-secret-value"],
    personal_keys={k for p in PROVIDERS for k in settings_type(p).personal_fields},
)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("cpf 123.456.789-09 on file", "123.456.789-09"),
        ("cpf 12345678909 unpunctuated", "12345678909"),
        ("call (11) 98765-4321 today", "98765-4321"),
        ("call 11 98765-4321 today", "98765-4321"),
        ("call +55 11 98765-4321", "98765-4321"),
        ("us (555) 123-4567", "123-4567"),
        ("write to joão.souza@exemplo.com.br", "joão.souza"),
        ("write to maria.souza@example.com", "maria.souza@example.com"),
        ("from 203.0.113.7 then", "203.0.113.7"),
        ("from 2001:db8::8a2e:370:7334 then", "2001:db8::8a2e:370:7334"),
        ("key lc-secret-value leaked", "lc-secret-value"),
    ],
)
def test_free_text_shapes_are_masked(text: str, hidden: str) -> None:
    masked = POLICY.text(text)
    assert hidden not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01T10:22:21.123Z",
        "at 12:30:45",
        "version 1.2.3",
        "pEv_01HE8AM6GZVS1S3609PFGR30FE",
        "sha256:ab12cd34ef56ab12cd34ef56ab12cd34",
        "order 1234567890",  # ten digits: an id or a Unix time, not a CPF
        "ValidationError: payload.chat.id: Field required",
    ],
)
def test_text_that_only_looks_like_data_is_left_alone(text: str) -> None:
    assert POLICY.text(text) == text


def test_values_are_masked_by_key_personal_field_shape_and_number() -> None:
    body = {
        "customerEmail": "x@y.io",
        "phone_number": "x",
        "name": "Maria Souza",  # a full name: the providers' models mark "name" personal
        "fullName": "Maria Souza",
        "visit": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11)"},
        "cpf_as_number": 12345678909,
        "count": 12,
        "status": "open",
        "nested": [{"X-Api-Key": "k"}, "reach me at +55 11 98765-4321"],
    }
    masked = POLICY.value(body)
    assert masked == {
        "customerEmail": MASK,
        "phone_number": MASK,
        "name": MASK,
        "fullName": MASK,
        "visit": {"ip": MASK, "user_agent": MASK},
        "cpf_as_number": MASK,
        "count": 12,
        "status": "open",
        "nested": [{"X-Api-Key": MASK}, f"reach me at {MASK}"],
    }


def test_a_long_run_without_an_address_is_masked_in_linear_time() -> None:
    # Unanchored, the e-mail pattern tried a run from each of its characters: a 1 MB body of
    # letters took about 1,000 s. Anchored, this takes milliseconds (not asserted: a bound on
    # time is the benchmarks' business; a regression would hang this test, and CI's timeout
    # would fail it).
    text = "a" * 1_000_000 + "@" + "b" * 1_000_000
    assert POLICY.text(text) == text


def test_the_settings_policy_knows_every_configured_secret_and_personal_field() -> None:
    from hookq.sources.livechat.config import LivechatSettings
    from hookq.sources.standard.config import StandardSettings

    settings = Settings(
        source_settings={
            "livechat": LivechatSettings(secrets=["a-livechat-secret"]),
            "standard": StandardSettings(secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]),
        }
    )
    policy = Privacy.from_settings(settings)
    assert policy.text("a-livechat-secret and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == (
        f"{MASK} and {MASK}"
    )
    assert policy.value({"user_agent": "x"}) == {"user_agent": MASK}


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_every_field_a_model_marks_personal_is_in_its_providers_list(provider: str) -> None:
    from hookq.sources.catalogue import source_schema

    marked: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in (node.get("properties") or {}).items():
                if isinstance(value, dict) and value.get("x-personal-data"):
                    marked.add(key)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(source_schema(provider))
    assert marked <= settings_type(provider).personal_fields
