"""What every provider module supplies: how it authenticates, where its event type and delivery
id are, and its typed event models.

A provider is one package under ``sources/`` with a ``Source`` subclass; ``sources.registry``
lists them. The ingress calls ``accept`` on the raw request; the worker calls ``parse`` on the
queued body.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from hookq.sources import jsonbody


class ProviderModel(BaseModel):
    """Base of every event model: fields a provider adds later are kept, never an error."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


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


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """The settings one source needs, cut from ``Settings`` by ``sources.registry``."""

    secrets: tuple[str, ...]
    insecure: bool = False
    timestamp_tolerance: float = 300.0
    id_header: str | None = None
    signature_header: str | None = None


class Source(ABC):
    name: ClassVar[str]
    # Event type -> its model. Types not listed are validated against ``envelope`` only.
    events: ClassVar[Mapping[str, type[BaseModel]]]
    envelope: ClassVar[type[BaseModel]]

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self._keys = tuple(to_bytes(secret) for secret in config.secrets)

    @abstractmethod
    def accept(self, headers: Mapping[str, str], body: bytes, now: float) -> Accepted:
        """Authenticate and identify one request; raise ``WebhookRejected`` to refuse it.

        ``headers`` is case-insensitive (aiohttp's ``CIMultiDictProxy``); ``now`` is Unix time.
        """

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
            if [error["type"] for error in exc.errors()] != ["json_invalid"]:
                raise
            try:
                value = jsonbody.loads(body)
            except jsonbody.JSONBodyError:
                raise exc from None
        return model.model_validate(value)

    # Helpers shared by the providers ------------------------------------------------------

    def require_any_key(self, check: Callable[[bytes], bool], what: str) -> None:
        """Pass if any configured key satisfies ``check``; insecure sources pass keyless."""
        if not self._keys and self.config.insecure:
            return
        # Every key is tried (no early exit) so timing says nothing about which one matched.
        matched = [check(key) for key in self._keys]
        if not any(matched):
            raise Unauthorized(f"{what} does not match any configured secret")


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
    "Accepted",
    "BadPayload",
    "ProviderModel",
    "Source",
    "SourceConfig",
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
