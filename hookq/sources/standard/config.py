"""Standard Webhooks settings: ``HOOKQ_STANDARD_SECRETS``, ``whsec_`` secrets, checked at
start-up (a malformed one stops the process with a message naming the variable)."""

from __future__ import annotations

import base64
import binascii

from pydantic import SecretStr, field_validator

from hookq.sources.base import SourceSettings

SECRET_PREFIX = "whsec_"


def decode_secret(secret: str) -> bytes:
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ValueError("a Standard Webhooks secret is 'whsec_' followed by base64")
    return key


def check_secrets(secrets: list[SecretStr]) -> list[SecretStr]:
    """Each secret decodes (``decode_secret``); the error names which one, by its position."""
    for number, secret in enumerate(secrets, 1):
        try:
            decode_secret(secret.get_secret_value())
        except ValueError as exc:
            raise ValueError(f"secret {number}: {exc}") from None
    return secrets


class StandardSettings(SourceSettings):
    model_config = SourceSettings.config_for("standard")

    @field_validator("secrets")
    @classmethod
    def _secrets_are_whsec(cls, secrets: list[SecretStr]) -> list[SecretStr]:
        return check_secrets(secrets)
