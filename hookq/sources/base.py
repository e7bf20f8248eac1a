"""What every provider supplies: its settings, how it authenticates, where its event type and
delivery id are, and its typed event models.

A provider is one package under ``hookq/sources/`` with a ``SourceSettings`` subclass (its
``config`` module: light, read at start-up) and a ``Source`` subclass (its ``webhook`` module,
with the models); ``hookq.sources.registry`` lists them, one line each. The ingress calls
``accept`` on the raw request; the worker calls ``parse`` on the queued body.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic import Field as PydanticField
from pydantic_core import core_schema
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hookq.sources import jsonbody

SecretList = Annotated[list[SecretStr], NoDecode]


_COLLECTIONS = frozenset({"list", "dict", "tuple", "set", "frozenset"})


def _fail_fast(node: Any, seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, dict):
        if isinstance(node.get("type"), str) and node["type"] in _COLLECTIONS:
            node["fail_fast"] = True
        for value in node.values():
            _fail_fast(value, seen)
    elif isinstance(node, list):
        for value in node:
            _fail_fast(value, seen)


class ProviderModel(BaseModel):
    """Base of every event model: fields a provider adds later are kept, never an error.

    Validation stops at the first error of every list and mapping (``fail_fast``): an invalid
    event then costs no more than a valid one, however many bad items it holds (a million
    empty LiveChat events made a million errors, seconds of CPU and a gigabyte of memory)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = handler(source)
        _fail_fast(schema, set())
        return schema


def by_field(key: str, variants: Mapping[str, str], unknown: str) -> Callable[[Any], str]:
    """A union's discriminator (``pydantic.Discriminator``): the tag of the variant whose
    ``key`` has that value (``variants``: value -> tag), else ``unknown``, the variant that
    takes any other value and refuses the known ones.

    Validated that way, a union tries one variant instead of each in turn until one fits: a
    Plain event, whose actors are such unions, validates a third faster. What is accepted is
    the same: a known value fits its variant or nothing."""

    def tag(value: Any) -> str:
        found = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
        return variants.get(found, unknown) if isinstance(found, str) else unknown

    tag.__name__ = f"by_{key}"
    return tag


# Marks a field that holds personal data: kept for handlers, never shown by ``repr()``, marked
# ``x-personal-data`` in the JSON Schema, and masked wherever hookq shows data (hookq.privacy).
PERSONAL_DATA = "x-personal-data"
Personal = PydanticField(repr=False, json_schema_extra={PERSONAL_DATA: True})


class WebhookRejected(Exception):
    """The request is refused; the ingress answers ``status`` with ``code`` and the message."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"


class Unauthorized(WebhookRejected):
    status = 401
    code = "unauthorized"


class BadPayload(WebhookRejected):
    status = 400
    code = "bad_request"


@dataclass(frozen=True, slots=True)
class Accepted:
    """An authenticated webhook, ready to publish."""

    event_type: str
    delivery_id: str
    body: bytes
    provider_headers: dict[str, str] = field(default_factory=dict)


def split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class SourceSettings(BaseSettings):
    """A provider's own settings, read from ``HOOKQ_<SOURCE>_<FIELD>`` (``config_for``).

    Every provider has ``secrets`` (comma-separated: all valid at once, which is how one is
    rotated); a provider adds the fields it needs, and a ``secrets`` validator when its secrets
    have a format."""

    # The provider's fields that hold personal data (those its models mark ``Personal``):
    # masked by key wherever hookq shows data (hookq.privacy).
    personal_fields: ClassVar[frozenset[str]] = frozenset()

    secrets: SecretList = PydanticField(default_factory=list)

    _split = field_validator("secrets", mode="before")(split_commas)

    @staticmethod
    def config_for(source: str) -> SettingsConfigDict:
        return SettingsConfigDict(
            env_prefix=f"HOOKQ_{source.upper()}_", extra="ignore", frozen=True
        )

    def secret_values(self) -> tuple[str, ...]:
        return tuple(secret.get_secret_value() for secret in self.secrets)


@dataclass(slots=True)
class Request:
    """One webhook request as a source reads it: raw, with its JSON parsed once, on demand."""

    headers: Mapping[str, str]  # case-insensitive (aiohttp's CIMultiDictProxy)
    body: bytes
    now: float  # Unix time
    # What the signature covered besides the body (a source's authenticate sets it).
    signed: dict[str, str] = field(default_factory=dict)
    _json: dict[str, Any] | None = None

    @property
    def json(self) -> dict[str, Any]:
        if self._json is None:
            self._json = parse_object(self.body)
        return self._json


class Source(ABC):
    name: ClassVar[str]
    settings_type: ClassVar[type[SourceSettings]]
    # Event type -> its model. Types not listed are validated against ``envelope`` only.
    events: ClassVar[Mapping[str, type[BaseModel]]]
    envelope: ClassVar[type[BaseModel]]

    def __init__(
        self,
        settings: SourceSettings | None = None,
        *,
        insecure: bool = False,
        timestamp_tolerance: float = 300.0,
    ) -> None:
        self.settings = settings if settings is not None else self.settings_type()
        self.timestamp_tolerance = timestamp_tolerance
        self._keys = self.keys(self.settings.secret_values())
        # The one place where insecure mode is decided: a source explicitly marked insecure
        # and given no secret accepts every request unauthenticated (local development only).
        self.keyless = insecure and not self._keys

    def keys(self, secrets: Sequence[str]) -> tuple[bytes, ...]:
        """The keys the configured secrets stand for (a provider may decode them)."""
        return tuple(to_bytes(secret) for secret in secrets)

    def accept(self, headers: Mapping[str, str], body: bytes, now: float) -> Accepted:
        """Authenticate and identify one request; raise ``WebhookRejected`` to refuse it."""
        request = Request(headers, body, now)
        if not self.keyless:
            self.authenticate(request)
        return self.identify(request)

    @abstractmethod
    def authenticate(self, request: Request) -> None:
        """Raise ``Unauthorized`` unless the request proves it comes from the provider (and,
        where the provider signs a time, that it is not a replay)."""

    @abstractmethod
    def identify(self, request: Request) -> Accepted:
        """The event type, the delivery id and the body to queue; ``BadPayload`` if absent."""

    def model_for(self, event_type: str) -> type[BaseModel]:
        return self.events.get(event_type, self.envelope)

    def parse(self, event_type: str, body: bytes) -> BaseModel:
        """Validate a queued body into its typed model (raises ``pydantic.ValidationError``)."""
        model = self.model_for(event_type)
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            # pydantic's JSON parser refuses valid JSON the ingress accepted (a lone surrogate
            # escape, more than 200 levels): read as the ingress reads it, then validate that.
            # (error_count first: the list of errors is built only when there is one.)
            if exc.error_count() != 1 or exc.errors()[0]["type"] != "json_invalid":
                raise
            try:
                value = jsonbody.loads(body)
            except jsonbody.JSONBodyError:
                raise exc from None
        return model.model_validate(value)

    def require_any_key(self, check: Callable[[bytes], bool], what: str) -> None:
        """Pass if any configured key satisfies ``check``."""
        # Every key is tried (no early exit) so timing says nothing about which one matched.
        matched = [check(key) for key in self._keys]
        if not any(matched):
            raise Unauthorized(f"{what} does not match any configured secret")

    def check_window(self, request: Request, sent: float, what: str) -> None:
        """Refuse a signed time more than the tolerance away from now: a replay, or skew."""
        if abs(request.now - sent) > self.timestamp_tolerance:
            raise Unauthorized(
                f"{what} is more than {self.timestamp_tolerance:g}s from now "
                "(replayed or clock skew)"
            )


def hmac_sha256(key: bytes, *parts: bytes) -> bytes:
    # OpenSSL's one-shot HMAC, without a Python HMAC object per request (the hot path of
    # every signed source); joining the parts copies a few bytes, cheaper than an update each.
    return hmac.digest(key, b"".join(parts), "sha256")


def same(a: bytes, b: bytes) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a, b)


def parse_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or ``BadPayload``."""
    try:
        value = jsonbody.loads(body)
    except jsonbody.JSONBodyError as exc:
        raise BadPayload(f"body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadPayload(f"body must be a JSON object, not {type(value).__name__}")
    return value


def required_string(obj: Mapping[str, Any], key: str, where: str = "body") -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise BadPayload(f"{where} has no {key!r} (a non-empty string)")
    return value


def to_bytes(text: str) -> bytes:
    """Text from a request as bytes, never raising: aiohttp decodes header bytes that are not
    UTF-8 with surrogate escapes, which a plain ``encode()`` refuses."""
    return text.encode("utf-8", "surrogateescape")


def header_value(headers: Mapping[str, str], name: str | None) -> str | None:
    if name is None:
        return None
    value = headers.get(name)
    return value.strip() or None if value is not None else None


def body_digest(*parts: bytes) -> str:
    """A delivery id for providers that send none: the same bytes give the same id."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return f"sha256:{digest.hexdigest()}"


__all__: Sequence[str] = (
    "PERSONAL_DATA",
    "Accepted",
    "BadPayload",
    "Personal",
    "ProviderModel",
    "Request",
    "Source",
    "SourceSettings",
    "Unauthorized",
    "WebhookRejected",
    "body_digest",
    "header_value",
    "hmac_sha256",
    "parse_object",
    "required_string",
    "same",
    "to_bytes",
)
