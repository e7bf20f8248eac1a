"""The one privacy policy: what is masked wherever hookq shows data (logs, JSON and console;
every ``hookq dlq`` and ``hookq events`` view; the console).

Three nets, because a payload can carry secrets and personal data anywhere (body, provider
headers, an error message or a traceback that quoted the payload, a log line's values):

- by key: a value under a sensitive key is masked whole, whatever its type. Sensitive are the
  names (and name parts: ``customerEmail``, ``x-api-key``, ``phoneNumber``) of credentials and
  contact data, and every field a provider marks as personal data (``x-personal-data`` in its
  models, listed in its settings class: names, IP addresses, user agents, addresses...);
- by shape: e-mail addresses (any script), CPFs (punctuated or not, and as JSON numbers),
  phone numbers (international, and national formats such as ``(11) 98765-4321``) and IP
  addresses (except loopback and private ones: where hookq's broker and Redis live), inside
  any string;
- by value: every configured secret, wherever it appears.

Masking is for what people read: queued messages keep everything (handlers need it).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from hookq.settings import Settings

MASK = "[redacted]"

# Exact key names (lowercased, without "_" and "-") that hold credentials or contact data.
SENSITIVE_KEYS = frozenset(
    {
        "secret", "secrets", "secretkey", "authorization", "password", "token", "signature",
        "cpf", "email", "phone", "birthdate", "cookie", "setcookie",
    }
)  # fmt: skip
# Parts of a key name that make its value sensitive: covers camelCase and prefixed names.
SENSITIVE_PARTS = (
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

# Anchored at the start of a run of address characters: unanchored, a long run without "@"
# was tried from each of its characters (quadratic: a 1 MB body took minutes).
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# A CPF: 000.000.000-00, or 11 digits standing alone.
_CPF = re.compile(r"(?<![\d.\-])(?:\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11})(?![\d\-]|\.\d)")
# International numbers, and national ones written with an area code and a separated line:
# "+55 11 98765-4321", "(11) 98765-4321", "11 98765-4321", "(555) 123-4567".
_PHONE = re.compile(
    r"(?<![\w+])\+\d[\d\s().\-]{6,}\d(?!\d)"
    r"|(?<![\w(])\(?\d{2,3}\)?[\s.\-]?\d{3,5}[\s.\-]\d{4}(?!\d)"
)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# A whole value that looks like a phone: digits with the usual separators, 8 to 15 digits.
_PHONE_VALUE = re.compile(r"\+?\(?\d[\d\s().\-]*\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MIN_SECRET_LENGTH = 4  # shorter "secrets" would mask half the text and protect nothing
_CPF_DIGITS = 11


def _normal(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


class Privacy:
    """The masking policy, given the secrets to hide and the providers' personal fields."""

    def __init__(self, secrets: Iterable[str] = (), personal_keys: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted(
            {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True
        )
        self._personal = frozenset(_normal(k) for k in personal_keys)
        self.is_sensitive_key = functools.lru_cache(maxsize=4096)(self._is_sensitive_key)

    @classmethod
    def from_settings(cls, settings: Settings, more_secrets: Iterable[str] = ()) -> Privacy:
        """``more_secrets``: others to mask besides the settings' (a destination's)."""
        personal = {
            key for name in settings.sources for key in type(settings.source(name)).personal_fields
        }
        return cls([*settings.secret_values(), *more_secrets], personal)

    def _is_sensitive_key(self, key: str) -> bool:
        normal = _normal(key)
        return (
            normal in SENSITIVE_KEYS
            or normal in self._personal
            or any(part in normal for part in SENSITIVE_PARTS)
        )

    def text(self, text: str) -> str:
        """Free text: secrets, e-mail addresses, CPFs, phone numbers and IP addresses masked."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for shape in (_EMAIL, _CPF, _PHONE):
            text = shape.sub(MASK, text)
        return _IPV6.sub(_mask_ip, _IPV4.sub(_mask_ip, text))

    def value(self, value: Any) -> Any:
        """A decoded JSON value, a header table or a log line's value, masked at any depth."""
        if isinstance(value, Mapping):
            return {
                str(k): MASK if self.is_sensitive_key(str(k)) else self.value(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            return MASK if _looks_like_phone_or_cpf(value) else self.text(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return MASK if len(str(abs(value))) == _CPF_DIGITS else value
        return value

    def body(self, body: bytes) -> tuple[Any, bool]:
        """The body decoded and masked; ``(value, True)`` for JSON, ``(text, False)`` else."""
        try:
            return self.value(orjson.loads(body)), True
        except orjson.JSONDecodeError:
            return self.text(body.decode("utf-8", "replace")), False

    def log_processor(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """A structlog processor: the policy applied to every log line's keys and values."""
        for key, value in event_dict.items():
            if self.is_sensitive_key(key):
                event_dict[key] = MASK
            elif key != "event" or isinstance(value, str):
                event_dict[key] = self.value(value)
        return event_dict


# Where hookq's own infrastructure lives (a broker, Redis, a proxy): shown, so that operators
# can read where a connection failed. A customer's address is a public one.
_INFRASTRUCTURE = tuple(
    ipaddress.ip_network(net)
    for net in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128")
)


def _mask_ip(match: re.Match[str]) -> str:
    candidate = match.group(0)
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return candidate  # a time (12:30:00), a version (1.2.3.400)...: not an address
    return candidate if any(address in net for net in _INFRASTRUCTURE) else MASK


def _looks_like_phone_or_cpf(value: str) -> bool:
    stripped = value.strip()
    if not _PHONE_VALUE.fullmatch(stripped) or _ISO_DATE.match(stripped):
        return False
    digits = sum(ch.isdigit() for ch in stripped)
    has_layout = any(ch in stripped for ch in "+( -")
    # A bare run of digits is an id or a count, unless it has a CPF's 11 digits.
    return 8 <= digits <= 15 and (has_layout or digits == _CPF_DIGITS)
