"""Masking secrets and personal data before a dead message is shown to an operator.

Three nets, because a dead message can carry them anywhere (body, provider headers, an error
message or a traceback that quoted the payload):

- by key: a value under a sensitive key (``hookq.logs.SENSITIVE_KEYS`` and anything whose name
  contains email, phone, cpf, secret, password, token...) is masked whole, whatever its type;
- by shape: email addresses, CPFs and international phone numbers inside any string, and a
  string that is entirely a phone number or a bare 11-digit CPF;
- by value: every configured secret (``HOOKQ_*_SECRETS``) wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from hookq.logs import MASK, SENSITIVE_KEYS
from hookq.settings import KNOWN_SOURCES, Settings

# Parts of a key name (lowercased, without "_" and "-") that make its value sensitive:
# covers camelCase and prefixed names (birthDate, customerEmail, phoneNumber, x-api-key).
_SENSITIVE_PARTS = (
    "email",
    "phone",
    "cpf",
    "secret",
    "password",
    "passwd",
    "token",
    "signature",
    "authorization",
    "apikey",
    "birthdate",
    "cookie",
)
_SENSITIVE_EXACT = frozenset(key.replace("_", "") for key in SENSITIVE_KEYS)

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_CPF = re.compile(r"(?<!\d)\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d)")
# In free text only numbers written the international way are recognisably phones.
_INTL_PHONE = re.compile(r"(?<![\w+])\+\d[\d\s().\-]{6,}\d(?!\d)")
# A whole value that looks like a phone: digits with the usual separators, 8 to 15 digits.
_PHONE_VALUE = re.compile(r"\+?\(?\d[\d\s().\-]*\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MIN_SECRET_LENGTH = 4  # shorter "secrets" would mask half the text and protect nothing


def is_sensitive_key(key: str) -> bool:
    normal = key.lower().replace("_", "").replace("-", "")
    return normal in _SENSITIVE_EXACT or any(part in normal for part in _SENSITIVE_PARTS)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted(
            {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        return cls(
            secret.get_secret_value()
            for source in KNOWN_SOURCES
            for secret in settings.secrets_for(source)
        )

    def text(self, text: str) -> str:
        """Free text (an error message, a traceback): masks secrets, emails, CPFs, phones."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        text = _EMAIL.sub(MASK, text)
        text = _CPF.sub(MASK, text)
        return _INTL_PHONE.sub(MASK, text)

    def value(self, value: Any) -> Any:
        """A decoded JSON value or header table, masked at any depth."""
        if isinstance(value, Mapping):
            return {
                str(k): MASK if is_sensitive_key(str(k)) else self.value(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            return MASK if _looks_like_phone_or_cpf(value) else self.text(value)
        return value

    def body(self, body: bytes) -> tuple[Any, bool]:
        """The body decoded and masked; ``(value, True)`` for JSON, ``(text, False)`` else."""
        try:
            return self.value(orjson.loads(body)), True
        except orjson.JSONDecodeError:
            return self.text(body.decode("utf-8", "replace")), False


def _looks_like_phone_or_cpf(value: str) -> bool:
    stripped = value.strip()
    if not _PHONE_VALUE.fullmatch(stripped) or _ISO_DATE.match(stripped):
        return False
    digits = sum(ch.isdigit() for ch in stripped)
    has_layout = any(ch in stripped for ch in "+( -")
    # A bare run of digits is an id or a count, unless it has a CPF's 11 digits.
    return 8 <= digits <= 15 and (has_layout or digits == 11)
