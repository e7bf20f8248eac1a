"""Hypothesis strategies for hostile requests to the ingress.

Each yields a ``Case``: a request and whether it must be refused. A case that carries a valid
credential but a hostile body may be accepted (its body is still an object with a type); every
other case must be answered 4xx. No case may get a 5xx.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import itertools
import time
from dataclasses import dataclass, field, replace

import orjson
from hypothesis import strategies as st

from tests.conftest import LIVECHAT_SECRET, STARYA_SECRET
from tests.reliability import senders

# Delivery ids unique per case (not drawn: hypothesis would shrink them all to one value).
SERIALS = itertools.count()
SOURCES = ("plain", "livechat", "starya", "standard")
CONTENT_TYPES = (
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/json; charset=utf-16",
    "application/octet-stream",
    "",
    "*/*",
)
# Framing headers are left to the raw-socket tests: a client library rewrites or refuses them.
FRAMING = frozenset({"content-length", "transfer-encoding", "host", "connection", "expect"})
HEADER_NAME = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~",
    min_size=1,
    max_size=40,
).filter(lambda name: name.lower() not in FRAMING)
# Latin-1 printable without CR/LF/NUL: what an HTTP client library lets through; the raw-socket
# tests send the rest.
HEADER_VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=200,
)
AUTH_HEADERS = (
    "Plain-Request-Signature",
    "Authorization",
    "X-Starya-Signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "Content-Encoding",
)


# The headers that carry each source's credential, as ``_valid`` signs its requests.
CREDENTIAL_HEADERS: dict[str, tuple[str, ...]] = {
    "plain": ("Plain-Request-Signature",),
    "livechat": (),
    "starya": ("X-Starya-Signature",),
    "standard": ("webhook-id", "webhook-timestamp", "webhook-signature"),
}


@dataclass(frozen=True)
class Case:
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    must_refuse: bool = True


def _signed(source: str, body: bytes, webhook_id: str = "msg_hostile") -> dict[str, str]:
    """A valid credential for ``body`` (for livechat the secret is inside the body)."""
    if source == "plain":
        return {"Plain-Request-Signature": senders.plain_signature(body)}
    if source == "starya":
        mac = hmac.new(STARYA_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Starya-Signature": mac}
    if source == "standard":
        stamp = str(int(time.time()))
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": stamp,
            "webhook-signature": senders.standard_signature(
                webhook_id, stamp, body, senders.standard_key()
            ),
        }
    return {}


@st.composite
def random_requests(draw: st.DrawFn) -> Case:
    """Random bytes to a random path, with random and random-valued credential headers."""
    source = draw(st.sampled_from([*SOURCES, "unknown", "PLAIN", "plain%00", "..%2fplain"]))
    headers = draw(st.dictionaries(HEADER_NAME, HEADER_VALUE, max_size=8))
    for name in draw(st.lists(st.sampled_from(AUTH_HEADERS), max_size=4, unique=True)):
        headers[name] = draw(HEADER_VALUE)
    headers["Content-Type"] = draw(st.sampled_from(CONTENT_TYPES))
    return Case(f"/webhooks/{source}", draw(st.binary(max_size=4096)), headers)


def _nested(depth: int, opener: str) -> str:
    """``depth`` arrays (or objects) inside each other, as JSON text."""
    if opener == "[":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "null" + "}" * depth


HOSTILE_VALUES = st.one_of(
    st.integers(1, 6000).map(lambda d: _nested(d, "[")),
    st.integers(1, 3000).map(lambda d: _nested(d, "{")),
    st.sampled_from(["1e999999", "-1e999999", "1" * 5000, "-0", "NaN", "Infinity", "1.5e-400"]),
    st.integers(min_value=2**63, max_value=2**600).map(str),
    st.sampled_from(['"\\ud800"', '"\\u0000"', '"a\\u2028b"', '"\\uDFFF\\uD800"']),
    st.text(max_size=100).map(lambda t: orjson.dumps(t).decode()),
)
EVENT_TYPES = st.one_of(
    st.just("rel.ok"),  # valid: lets the hostile rest of the body get past the type check
    st.sampled_from(["rel.ok", "#", "*", "a..b", ".", "a.#", "a b", "x" * 400, "a.b.c." * 30]),
    st.text(max_size=60),
)


@st.composite
def signed_hostile_bodies(
    draw: st.DrawFn, event_types: st.SearchStrategy[str] = EVENT_TYPES
) -> Case:
    """A valid credential over a hostile body: deep nesting, huge numbers, bad UTF-8, odd types.

    These may be accepted: what matters is that none is a 5xx and that exactly the accepted ones
    reach the broker."""
    source = draw(st.sampled_from(SOURCES))
    event_type = orjson.dumps(draw(event_types)).decode()
    value = draw(HOSTILE_VALUES)
    type_key = {"plain": "type", "livechat": "action", "starya": "event", "standard": "type"}
    text = f'{{"{type_key[source]}":{event_type},"x":{value}'
    if source == "plain":
        stamp = senders.iso(time.time())
        text += f',"id":"pEv_h{next(SERIALS)}"'
        text += f',"webhookMetadata":{{"webhookDeliveryAttemptTimestamp":"{stamp}"}}'
    if source == "livechat":
        text += f',"secret_key":"{LIVECHAT_SECRET}"'
    body = (text + "}").encode()
    if draw(st.booleans()):
        # Invalid UTF-8 inside a string value, or a byte-order mark in front.
        body = draw(st.sampled_from([body.replace(b'"x"', b'"x\xff\xfe"'), b"\xef\xbb\xbf" + body]))
    webhook_id = f"msg_h{next(SERIALS)}"
    headers = _signed(source, body, webhook_id)
    headers["Content-Type"] = draw(st.sampled_from(CONTENT_TYPES))
    return Case(f"/webhooks/{source}", body, headers, must_refuse=False)


def _valid(source: str, serial: int) -> senders.Request:
    data = {"n": serial, "note": "hostile control"}
    if source == "plain":
        return senders.plain("thread.thread_created", data)
    if source == "livechat":
        return senders.livechat("incoming_event", data)
    if source == "starya":
        return senders.starya("chat.created", data, bearer=None)
    return senders.standard("rel.ok", data)


def _flip(data: bytes, bit: int) -> bytes:
    index = (bit // 8) % len(data)
    return data[:index] + bytes([data[index] ^ (1 << (bit % 8))]) + data[index + 1 :]


@st.composite
def one_bit_off(draw: st.DrawFn) -> Case:
    """A valid request with one bit of its MAC, its secret or its signed body flipped."""
    source = draw(st.sampled_from(SOURCES))
    request = _valid(source, draw(st.integers(0, 10**6)))
    bit = draw(st.integers(0, 10**6))
    headers, body = dict(request.headers), request.body
    target = draw(st.sampled_from(["mac", "body"]))
    if source == "livechat" or target == "body":
        body = _flip(body, bit) if source != "livechat" else _flip_secret(body, bit)
    elif source == "plain":
        mac = bytes.fromhex(headers["Plain-Request-Signature"])
        headers["Plain-Request-Signature"] = _flip(mac, bit).hex()
    elif source == "starya":
        mac = bytes.fromhex(headers["X-Starya-Signature"])
        headers["X-Starya-Signature"] = _flip(mac, bit).hex()
    else:
        version, _, sig = headers["webhook-signature"].partition(",")
        flipped = base64.b64encode(_flip(base64.b64decode(sig), bit)).decode()
        headers["webhook-signature"] = f"{version},{flipped}"
    return Case(request.path, body, headers)


def _flip_secret(body: bytes, bit: int) -> bytes:
    secret = LIVECHAT_SECRET.encode()
    return body.replace(secret, _flip(secret, bit))


@st.composite
def stale_or_future(draw: st.DrawFn) -> Case:
    """Validly signed, but sent from outside the replay window (past or future)."""
    source = draw(st.sampled_from(["plain", "standard"]))
    offset = draw(st.floats(301, 10**9)) * draw(st.sampled_from([-1, 1]))
    at = time.time() + offset
    if source == "plain":
        request = senders.plain("thread.thread_created", {"stale": True}, at=at)
    else:
        request = senders.standard("rel.stale", {"stale": True}, at=at)
    return Case(request.path, request.body, request.headers)


@st.composite
def odd_timestamps(draw: st.DrawFn) -> Case:
    """Validly signed, with a timestamp that is not a sane time at all."""
    if draw(st.booleans()):
        stamp = draw(
            st.one_of(
                st.sampled_from(["", " ", "1e10", "-1", "0x10", "9" * 40, "١٢٣", "12 34", "NaN"]),
                HEADER_VALUE.filter(lambda v: len(v) <= 30),
            )
        )
        request = senders.standard("rel.odd", {"odd": True})
        body, webhook_id = request.body, request.delivery_id
        signature = senders.standard_signature(webhook_id, stamp, body, senders.standard_key())
        headers = dict(request.headers, **{"webhook-timestamp": stamp})
        headers["webhook-signature"] = signature
        return Case(request.path, body, headers)
    stamp = draw(
        st.one_of(
            st.datetimes().map(lambda d: d.isoformat()),
            st.sampled_from(["0001-01-01T00:00:00", "9999-12-31T23:59:59+14:00", "2024-13-45"]),
            st.text(max_size=30),
        )
    )
    body = orjson.dumps(
        {
            "id": "pEv_odd",
            "type": "thread.thread_created",
            "webhookMetadata": {"webhookDeliveryAttemptTimestamp": stamp},
        }
    )
    headers = {"Plain-Request-Signature": senders.plain_signature(body)}
    return Case("/webhooks/plain", body, headers)


@st.composite
def header_tricks(draw: st.DrawFn) -> Case:
    """A valid request whose headers are bent: a credential repeated with a bad value in front,
    odd content types, a claimed compression that is not there, unicode in values."""
    source = draw(st.sampled_from(SOURCES))
    request = _valid(source, draw(st.integers(0, 10**6)))
    headers = dict(request.headers)
    trick = draw(st.sampled_from(["content-type", "encoding", "unicode", "bearer-scheme"]))
    if trick == "content-type":
        headers["Content-Type"] = draw(st.sampled_from(CONTENT_TYPES))
        return replace(Case(request.path, request.body, headers), must_refuse=False)
    if trick == "encoding":
        # An unknown coding may be passed through as is (then the request is valid).
        headers["Content-Encoding"] = draw(st.sampled_from(["gzip", "deflate", "br", "x-foo"]))
        return Case(request.path, request.body, headers, must_refuse=False)
    if trick == "unicode":
        # The source's own credential header, bent: refused. (LiveChat's is in the body: a bent
        # header of another source's changes nothing, and the request stays valid.)
        own = CREDENTIAL_HEADERS[source]
        name = draw(st.sampled_from(own or AUTH_HEADERS[:6]))
        headers[name] = draw(HEADER_VALUE) + "é"
        return Case(request.path, request.body, headers, must_refuse=bool(own))
    headers = {
        "Authorization": draw(st.sampled_from(["Bearer", "Basic x", "bearer  ", "Bearer\t"]))
    }
    return Case("/webhooks/starya", request.body, headers)


def gzip_bomb(decompressed: int) -> bytes:
    """A small body that expands to ``decompressed`` bytes."""
    return gzip.compress(b"\0" * decompressed, compresslevel=9)
