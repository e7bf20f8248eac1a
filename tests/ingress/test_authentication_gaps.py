"""Authentication cases a mutation audit found untested (issue 12, items 19-21): a secure source
with no secret accepts no credential, however well-formed; a Standard timestamp too far in the
future is refused by the authentication itself. (The valid signature anywhere in the list:
tests/ingress/test_standard_differential.py.)"""

from __future__ import annotations

import time

import pytest

from hookq.sources.base import Source, Unauthorized
from hookq.sources.livechat import LivechatSource
from hookq.sources.plain import PlainSource
from hookq.sources.standard import StandardSource
from hookq.sources.standard.config import StandardSettings
from hookq.sources.starya import StaryaSource
from tests.conftest import STANDARD_SECRET
from tests.ingress import signing
from tests.ingress.signing import Request

PLAIN_EVENT = {"id": "pEv_gap", "type": "thread.chat_sent", "payload": {}}
LIVECHAT_EVENT = {"webhook_id": "wh1", "action": "incoming_chat", "payload": {}}
STARYA_EVENT = {"event": "chat.created", "data": {"id": "c1"}}
STANDARD_EVENT = {"type": "invoice.paid", "data": {"n": 1}}

# For each source, requests whose credentials are well-formed, non-empty and valid for the
# test secrets: only a source that has no secret at all sees them.
CREDENTIALED: list[tuple[type[Source], Request]] = [
    (PlainSource, signing.plain_request(PLAIN_EVENT)),
    (LivechatSource, signing.livechat_request(LIVECHAT_EVENT)),
    (StaryaSource, signing.starya_bearer(STARYA_EVENT)),
    (StaryaSource, signing.starya_signed(STARYA_EVENT)),
    (StandardSource, signing.standard_request(STANDARD_EVENT)),
]


@pytest.mark.parametrize(
    ("cls", "request_"),
    CREDENTIALED,
    ids=["plain", "livechat", "starya-bearer", "starya-hmac", "standard"],
)
def test_a_secure_source_without_secret_accepts_no_credential(
    cls: type[Source], request_: Request
) -> None:
    body, headers = request_
    keyless = cls(insecure=False)
    with pytest.raises(Unauthorized):
        keyless.accept(headers, body, time.time())


@pytest.mark.parametrize("ahead", [301, 3600, 10**7])
def test_a_future_standard_timestamp_is_refused(ahead: int) -> None:
    body, headers = signing.standard_request(STANDARD_EVENT, sent_at=time.time() + ahead)
    source = StandardSource(StandardSettings(secrets=[STANDARD_SECRET]))
    with pytest.raises(Unauthorized, match="from now"):
        source.accept(headers, body, time.time())
    # The same request, read when it was sent, is accepted: only the time refuses it.
    assert source.accept(headers, body, time.time() + ahead).event_type == "invoice.paid"
