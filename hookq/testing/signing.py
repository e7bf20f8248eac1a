"""Requests signed as each provider signs them, for any catalogued event or a payload of yours.

    request = signed_request("plain", "thread.chat_sent", secret="my-plain-secret")
    await client.post(request.path, data=request.body, headers=request.headers)

What each source gets (hookq/sources/<source>/webhook.py checks it):

- ``plain``: ``webhookDeliveryAttemptTimestamp`` set to now (Plain sets it on every attempt,
  and the ingress refuses one more than 5 minutes old), the hex HMAC-SHA256 of the body in
  ``Plain-Request-Signature``, and Plain's other ``Plain-*`` headers from the body's fields;
- ``livechat``: the secret as the body's ``secret_key`` (replacing the example's placeholder);
- ``starya``: the HMAC in the configured signature header, over ``{id}.{timestamp}.{body}``
  with the id and timestamp headers when the settings configure them, or with
  ``scheme="bearer"`` an ``Authorization: Bearer`` header;
- ``standard``: ``webhook-id``, ``webhook-timestamp`` and a ``v1`` ``webhook-signature``
  (the Standard Webhooks spec), the secret a ``whsec_`` one.

Every request is checked with the source's own ``accept`` before it is returned: what you get
is a request hookq's ingress takes, and ``accepted`` is what it would queue.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from hookq.sources.base import (
    Accepted,
    Source,
    SourceSettings,
    hmac_sha256,
    parse_object,
)
from hookq.sources.catalogue import example
from hookq.sources.registry import PROVIDERS, settings_type, source_type

Payload = Mapping[str, Any] | bytes | str
Scheme = Literal["hmac", "bearer"]

# Secrets the kit signs with when given none: configure a test ingress with the same
# (``source_settings``) or pass ``secret=`` the one yours has.
SECRETS: Mapping[str, str] = {
    "plain": "hookq-testing-plain-secret",
    "livechat": "hookq-testing-livechat-secret",
    "starya": "hookq-testing-starya-secret",
    "standard": "whsec_" + base64.b64encode(b"hookq-testing-standard-secret").decode(),
}


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """One webhook request: POST ``body`` with ``headers`` to ``path`` of the ingress."""

    source: str
    event_type: str
    body: bytes
    headers: Mapping[str, str]
    accepted: Accepted = field(repr=False)  # what the ingress queues for it

    @property
    def path(self) -> str:
        return f"/webhooks/{self.source}"

    @property
    def delivery_id(self) -> str:
        """The ingress's answer, and the dedupe key."""
        return self.accepted.delivery_id


@dataclass(frozen=True, slots=True)
class _Draft:
    """What a signer needs: the body to sign and how."""

    source: Source
    secret: str
    body: bytes
    now: float
    delivery_id: str | None
    scheme: Scheme

    @property
    def key(self) -> bytes:
        # The source's own reading of a secret (Standard Webhooks decodes its whsec_ base64).
        return self.source.keys((self.secret,))[0]


def source_settings(name: str, secret: str | None = None, **fields: Any) -> SourceSettings:
    """A source's settings with one secret (``SECRETS[name]`` by default) and ``fields`` (e.g.
    StaryaAI's ``id_header``); what is not given is read from ``HOOKQ_<SOURCE>_*``, as the
    ingress reads it."""
    _known(name)
    return settings_type(name)(secrets=[secret or SECRETS[name]], **fields)


def signed_request(
    source: str,
    event_type: str,
    payload: Payload | None = None,
    *,
    secret: str | None = None,
    settings: SourceSettings | None = None,
    now: float | None = None,
    delivery_id: str | None = None,
    scheme: Scheme = "hmac",
) -> SignedRequest:
    """A request for ``source``'s ``event_type``: its catalogue example, or ``payload`` (a JSON
    object, as bytes, text or a mapping), signed with ``secret`` (default: the first of
    ``settings``' secrets, else ``SECRETS[source]``).

    ``settings``: the source's settings where they change the request (StaryaAI's signed
    headers). ``now``: the time to sign (Unix seconds). ``delivery_id``: for the sources whose
    delivery id is a header (Standard Webhooks' ``webhook-id``, StaryaAI's configured id
    header; random when not given): Plain's is the payload's ``id``, LiveChat's a digest of the
    body. ``scheme``: StaryaAI only, ``"hmac"`` or ``"bearer"``.

    Raises ``ValueError`` when the payload is not a ``source``'s ``event_type`` event, and the
    source's ``WebhookRejected`` when its ingress would refuse the request (no event type...).
    """
    _known(source)
    settings = settings or source_settings(source, secret)
    secret = secret or next(iter(settings.secret_values()), None) or SECRETS[source]
    checker = source_type(source)(_with_secret(settings, secret))
    body = example(source, event_type) if payload is None else _json_bytes(payload)
    moment = time.time() if now is None else now
    draft = _Draft(checker, secret, body, moment, delivery_id, scheme)
    body, headers = SIGNERS[source](draft)
    headers = {"Content-Type": "application/json", **headers}
    accepted = checker.accept(headers, body, moment)
    if accepted.event_type != event_type:
        raise ValueError(
            f"the payload is a {source}.{accepted.event_type} event, not {source}.{event_type}"
        )
    return SignedRequest(source, event_type, body, headers, accepted)


def _known(name: str) -> None:
    if name not in PROVIDERS:
        raise ValueError(f"unknown source {name!r} (known: {', '.join(PROVIDERS)})")


def _with_secret(settings: SourceSettings, secret: str) -> SourceSettings:
    """``settings`` with ``secret`` among its secrets: the check accepts what we sign."""
    values = settings.secret_values()
    if secret in values:
        return settings
    return type(settings).model_validate(
        {**settings.model_dump(exclude={"secrets"}), "secrets": [secret]}
    )


def _json_bytes(payload: Payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return _dump(dict(payload))


def _dump(value: dict[str, Any]) -> bytes:
    # ASCII escapes: exact for every JSON value the ingress reads (big integers, lone
    # surrogates), which orjson is not.
    return json.dumps(value, separators=(",", ":")).encode()


def _hex(key: bytes, *parts: bytes) -> str:
    return hmac_sha256(key, *parts).hex()


def _no_delivery_id(draft: _Draft, where: str) -> None:
    if draft.delivery_id is not None:
        raise ValueError(f"{draft.source.name} sends no delivery id of its own: {where}")


# Signers: one per source, (draft) -> (body, headers) ---------------------------------------

PLAIN_HEADERS = {  # Plain's headers that repeat a field of the body (not signed: informative)
    "Plain-Event-Id": ("id",),
    "Plain-Event-Type": ("type",),
    "Plain-Workspace-Id": ("workspaceId",),
    "Plain-Webhook-Target-Id": ("webhookMetadata", "webhookTargetId"),
    "Plain-Webhook-Target-Version": ("webhookMetadata", "webhookTargetVersion"),
    "Plain-Webhook-Delivery-Attempt-Id": ("webhookMetadata", "webhookDeliveryAttemptId"),
    "Plain-Webhook-Delivery-Attempt-Number": ("webhookMetadata", "webhookDeliveryAttemptNumber"),
    "Plain-Webhook-Delivery-Attempt-Timestamp": (
        "webhookMetadata",
        "webhookDeliveryAttemptTimestamp",
    ),
}


def plain_time(seconds: float) -> str:
    """A time as Plain writes it: ISO 8601, milliseconds, ``Z``."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sign_plain(draft: _Draft) -> tuple[bytes, dict[str, str]]:
    from hookq.sources.plain.webhook import SIGNATURE_HEADER

    _no_delivery_id(draft, "it is the payload's 'id'")
    event = parse_object(draft.body)
    metadata = event.get("webhookMetadata")
    if not isinstance(metadata, dict):
        metadata = event["webhookMetadata"] = {}
    metadata["webhookDeliveryAttemptTimestamp"] = plain_time(draft.now)
    body = _dump(event)
    headers = {SIGNATURE_HEADER: _hex(draft.key, body)}
    for header, path in PLAIN_HEADERS.items():
        value: Any = event
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if isinstance(value, str | int) and not isinstance(value, bool):
            headers[header] = str(value)
    return body, headers


def _sign_livechat(draft: _Draft) -> tuple[bytes, dict[str, str]]:
    from hookq.sources.livechat.strip import without_member
    from hookq.sources.livechat.webhook import SECRET_FIELD

    _no_delivery_id(draft, "hookq uses a digest of the body")
    parse_object(draft.body)  # a JSON object, or BadPayload
    # The secret goes first, every other byte stays as it was (hookq cuts it out the same way).
    rest = without_member(draft.body, SECRET_FIELD)
    opening = rest.index(b"{") + 1
    inner = rest[opening:].lstrip()
    separator = b"" if inner.startswith(b"}") else b","
    member = _dump({SECRET_FIELD: draft.secret})[1:-1]
    return rest[:opening] + member + separator + rest[opening:], {}


def _sign_starya(draft: _Draft) -> tuple[bytes, dict[str, str]]:
    from hookq.sources.starya.config import StaryaSettings

    settings = draft.source.settings
    assert isinstance(settings, StaryaSettings)
    if draft.scheme == "bearer":
        _no_delivery_id(draft, "a bearer request dedupes on its body")
        return draft.body, {"Authorization": f"Bearer {draft.secret}"}
    headers: dict[str, str] = {}
    if settings.id_header is not None:
        headers[settings.id_header] = draft.delivery_id or f"evt_{uuid.uuid4().hex}"
    else:
        _no_delivery_id(draft, "configure HOOKQ_STARYA_ID_HEADER to send one")
    if settings.timestamp_header is not None:
        headers[settings.timestamp_header] = str(int(draft.now))
    prefix = b"".join(value.encode() + b"." for value in headers.values())
    headers[settings.signature_header] = f"sha256={_hex(draft.key, prefix, draft.body)}"
    return draft.body, headers


def _sign_standard(draft: _Draft) -> tuple[bytes, dict[str, str]]:
    from hookq.sources.standard.webhook import sign

    webhook_id = draft.delivery_id or f"msg_{uuid.uuid4().hex}"
    return draft.body, sign((draft.key,), webhook_id, int(draft.now), draft.body)


SIGNERS: Mapping[str, Callable[[_Draft], tuple[bytes, dict[str, str]]]] = {
    "plain": _sign_plain,
    "livechat": _sign_livechat,
    "starya": _sign_starya,
    "standard": _sign_standard,
}
