"""Signed webhook requests for each source, as the providers send them, and the personal data and
secrets the log scan looks for.

Built by hand from the providers' published schemes (not with hookq's own code), so a test that
uses them checks the ingress against the specification rather than against itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from tests.conftest import LIVECHAT_SECRET, PLAIN_SECRET, STANDARD_SECRET, STARYA_SECRET
from tests.fixtures import REFERENCE

# Personal data carried by the payloads this suite sends (never a real person's).
CPF = "529.982.247-25"
EMAIL = "maria.reliability@example.com"
PHONE = "+55 11 98877-6655"
BIRTH_DATE = "1987-03-14"
# A LiveChat secret_key that matches no configured secret: it must not reach a log either.
WRONG_LIVECHAT_KEY = "livechat-wrong-key-7f3a9c"
WRONG_BEARER = "starya-wrong-bearer-4be1d2"

SECRETS = (PLAIN_SECRET, LIVECHAT_SECRET, STARYA_SECRET, STANDARD_SECRET)
# What the log scan must never find, by a label that a failure report may show.
FORBIDDEN: dict[str, str] = {
    "plain secret": PLAIN_SECRET,
    "livechat secret_key": LIVECHAT_SECRET,
    "starya secret": STARYA_SECRET,
    "standard secret": STANDARD_SECRET,
    "standard secret key": STANDARD_SECRET.removeprefix("whsec_"),
    "wrong livechat secret_key": WRONG_LIVECHAT_KEY,
    "wrong bearer token": WRONG_BEARER,
    "cpf": CPF,
    "cpf digits": CPF.replace(".", "").replace("-", ""),
    "email": EMAIL,
    "phone": PHONE,
    "phone digits": PHONE.replace(" ", "").replace("-", ""),
}


@dataclass(frozen=True)
class Request:
    """One POST to ``/webhooks/{source}``; ``delivery_id`` is what the ingress should answer."""

    source: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delivery_id: str = ""

    @property
    def path(self) -> str:
        return f"/webhooks/{self.source}"


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def standard_key(secret: str = STANDARD_SECRET) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def standard_signature(webhook_id: str, stamp: str, body: bytes, key: bytes) -> str:
    mac = hmac.new(key, f"{webhook_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def standard(
    event_type: str,
    data: object,
    webhook_id: str | None = None,
    at: float | None = None,
    body: bytes | None = None,
) -> Request:
    """A Standard Webhooks delivery; the same ``webhook_id`` is a provider's retry."""
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    stamp = str(int(time.time() if at is None else at))
    if body is None:
        body = orjson.dumps({"type": event_type, "timestamp": iso(time.time()), "data": data})
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": stamp,
        "webhook-signature": standard_signature(webhook_id, stamp, body, standard_key()),
        "Content-Type": "application/json",
    }
    return Request("standard", body, headers, webhook_id)


def plain_body(event_id: str, event_type: str, payload: object, at: float) -> bytes:
    return orjson.dumps(
        {
            "id": event_id,
            "type": event_type,
            "timestamp": iso(at),
            "workspaceId": "w_01reliability",
            "payload": payload,
            "webhookMetadata": {
                "webhookTargetId": "whTarget_01reliability",
                "webhookTargetVersion": "2024-09-18",
                "webhookDeliveryAttemptId": f"whAttempt_{uuid.uuid4().hex}",
                "webhookDeliveryAttemptNumber": 1,
                "webhookDeliveryAttemptTimestamp": iso(at),
            },
        }
    )


def plain_signature(body: bytes, secret: str = PLAIN_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def plain(
    event_type: str, payload: object, event_id: str | None = None, at: float | None = None
) -> Request:
    event_id = event_id or f"pEv_{uuid.uuid4().hex}"
    body = plain_body(event_id, event_type, payload, time.time() if at is None else at)
    headers = {
        "Plain-Request-Signature": plain_signature(body),
        "Plain-Event-Id": event_id,
        "Plain-Event-Type": event_type,
        "Content-Type": "application/json",
    }
    return Request("plain", body, headers, event_id)


def livechat(action: str, payload: object, secret_key: str = LIVECHAT_SECRET) -> Request:
    body = orjson.dumps(
        {
            "webhook_id": uuid.uuid4().hex,
            "secret_key": secret_key,
            "action": action,
            "organization_id": "390e44e6-f1e6-0368c-z6ddb-74g14508c2ex",
            "payload": payload,
            "additional_data": {},
        }
    )
    return Request("livechat", body, {"Content-Type": "application/json"})


def starya(event: str, data: object, bearer: str | None = STARYA_SECRET) -> Request:
    body = orjson.dumps({"event": event, "timestamp": iso(time.time()), "data": data})
    headers = {"Content-Type": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    else:
        headers["X-Starya-Signature"] = hmac.new(
            STARYA_SECRET.encode(), body, hashlib.sha256
        ).hexdigest()
    return Request("starya", body, headers)


def starya_user(user_id: str | None = None) -> dict[str, object]:
    """A StaryaAI user as ``user.created`` carries it: full of personal data."""
    return {
        "id": user_id or uuid.uuid4().hex,
        "name": "Maria Reliability",
        "email": EMAIL,
        "birthDate": BIRTH_DATE,
        "cpf": CPF,
        "phone": PHONE,
        "gender": "female",
        "metadata": {"contact": f"{EMAIL} / {PHONE}"},
    }


def livechat_customer() -> dict[str, object]:
    return {
        "chat": {
            "id": "PJ0MRSHTDG",
            "users": [{"id": "c1", "type": "customer", "email": EMAIL, "name": "Maria"}],
        },
        "note": f"customer phone {PHONE}, CPF {CPF}",
    }


LIVECHAT_FIXTURES = REFERENCE / "livechat" / "fixtures-v3.5"


def livechat_incoming_chat(secret_key: str = LIVECHAT_SECRET) -> Request:
    """LiveChat's real ``incoming_chat`` example, its customer made ours (email, phone, CPF)."""
    envelope = orjson.loads((LIVECHAT_FIXTURES / "incoming_chat.json").read_bytes())
    customer = envelope["payload"]["chat"]["users"][0]
    customer.update(email=EMAIL, name=f"Maria {PHONE}", session_fields=[{"cpf": CPF}])
    return livechat("incoming_chat", envelope["payload"], secret_key)


def personal_data_traffic() -> tuple[list[Request], list[Request]]:
    """Requests full of personal data and secrets: ``(accepted, refused)`` by the ingress.

    Some accepted ones do not validate against their source's model, so the worker dead-letters
    them with its validation errors: those must not quote the values either."""
    user = starya_user()
    updated = dict(starya_user(str(user["id"])), oldState=starya_user(str(user["id"])))
    invalid_user = dict(starya_user(), birthDate=f"born {BIRTH_DATE}", gender=None)
    accepted = [
        starya("user.created", user),
        starya("user.updated", updated, bearer=None),
        starya("user.created", invalid_user),
        livechat_incoming_chat(),
        livechat("incoming_event", livechat_customer()),
        plain("customer.customer_created", {"customer": {"email": {"email": EMAIL}}}),
        standard("crm.contact", {"email": EMAIL, "phone": PHONE, "cpf": CPF}),
    ]
    refused = [
        starya("user.created", user, bearer=WRONG_BEARER),
        livechat_incoming_chat(secret_key=WRONG_LIVECHAT_KEY),
        livechat("incoming_event", livechat_customer(), secret_key=""),
        Request("plain", accepted[5].body, {"Plain-Request-Signature": "00" * 32}),
        standard("crm.contact", {"email": EMAIL}, at=time.time() - 3600),
    ]
    return accepted, refused
