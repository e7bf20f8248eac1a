"""Hypothesis strategies for the edge attacks of issue 12 (items 1-4), so that the next variant
of each is found by the suite: compression bombs, malformed header lines (whose answer must not
echo them), huge or odd timestamps, uploads cut off, slow requests and idle connections.

Each yields raw bytes to send and what must follow: an answer (with the statuses allowed), or
the server ending the connection by itself within its timeouts.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from hypothesis import strategies as st

from tests.reliability import rawhttp, senders

# In every malformed line: an answer that repeats input would carry it back.
MARKER = b"echo-marker-7c1f"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Answered:
    """Send ``data``: the answer's status must be in ``allowed`` and its body JSON."""

    data: bytes
    allowed: frozenset[int]
    label: str


@dataclass(frozen=True)
class Stalled:
    """Send ``data`` and stop: the server must end the connection by itself (an answer first,
    a 408, is allowed). ``abort``: the client resets the connection instead, at once."""

    data: bytes
    label: str
    abort: bool = False


def _compress(encoding: str, size: int) -> bytes:
    """``size`` zero bytes in the given Content-Encoding."""
    wbits = {"gzip": 31, "deflate": 15}[encoding]
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    chunk = bytes(MIB)
    parts = [compressor.compress(chunk) for _ in range(size // MIB)]
    return b"".join([*parts, compressor.flush()])


@st.composite
def compression_bombs(draw: st.DrawFn) -> Answered:
    """A small compressed body that inflates past the 1 MiB limit, to any route, framed with a
    Content-Length or chunked: refused (413, or the route's own 404/405) without inflating the
    rest."""
    encoding = draw(st.sampled_from(["gzip", "deflate"]))
    bomb = _compress(encoding, draw(st.sampled_from([2, 8, 32, 96])) * MIB)
    target, method, allowed = draw(
        st.sampled_from(
            [
                (b"/webhooks/standard", b"POST", {413}),
                (b"/webhooks/plain", b"POST", {413}),
                (b"/webhooks/nowhere", b"POST", {404}),
                (b"/healthz", b"POST", {405}),
                (b"/elsewhere", b"PUT", {404}),
            ]
        )
    )
    headers = [b"Host: 127.0.0.1", b"Content-Encoding: " + encoding.encode()]
    if draw(st.booleans()):
        headers.append(b"Content-Length: %d" % len(bomb))
        body = bomb
    else:
        headers.append(b"Transfer-Encoding: chunked")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(bomb), bomb)
    request = rawhttp.request(target, headers, body, method=method)
    return Answered(request, frozenset(allowed), f"{encoding} bomb to {target.decode()}")


# Bytes that make a header line malformed, wherever they are put.
BAD_BYTES = [b"\x00", b"\x01", b"\x7f", b"\xff", b" ", b"\t", b"(", b"@", b"\r", b"\x0b"]


@st.composite
def malformed_header_lines(draw: st.DrawFn) -> Answered:
    """A request with one header line broken (bad bytes in its name, no colon, space before the
    colon, over-long name or value), the line carrying ``MARKER``: refused with a JSON 400 that
    does not repeat it."""
    form = draw(st.sampled_from(["name", "no colon", "space before colon", "long", "long name"]))
    if form == "name":
        bad = draw(st.sampled_from(BAD_BYTES))
        line = b"X-" + bad + b"Name: " + MARKER
    elif form == "no colon":
        line = b"X-Name-" + MARKER
    elif form == "space before colon":
        line = b"X-Name : " + MARKER
    elif form == "long":
        line = b"X-Long: " + MARKER + b"v" * draw(st.integers(8200, 70_000))
    else:
        line = b"X-" + b"n" * draw(st.integers(8200, 20_000)) + MARKER + b": v"
    target = draw(st.sampled_from([b"/webhooks/standard", b"/webhooks/plain", b"/healthz"]))
    lines = [b"Host: 127.0.0.1", line, b"Content-Length: 2"]
    lines.insert(draw(st.integers(0, 2)), lines.pop(1))
    request = rawhttp.request(target, lines, b"{}")
    return Answered(request, frozenset({400}), f"malformed header: {form}")


@st.composite
def huge_timestamps(draw: st.DrawFn) -> Answered:
    """A Standard request whose webhook-timestamp is a huge or odd number (hundreds of digits,
    exponents, infinities), signed over it: refused 401, never a 500."""
    stamp = draw(
        st.one_of(
            st.integers(300, 4000).map(lambda n: "9" * n),
            st.integers(300, 4000).map(lambda n: "-" + "1" * n),
            st.sampled_from(["1e308", "1e309", "-1e309", "inf", "nan", "1" + "0" * 400 + ".5"]),
            st.integers(min_value=2**64, max_value=2**2000).map(str),
        )
    )
    request = senders.standard("rel.huge", {"n": 1})
    key = senders.standard_key()
    headers = dict(request.headers)
    headers["webhook-timestamp"] = stamp
    headers["webhook-signature"] = senders.standard_signature(
        request.delivery_id, stamp, request.body, key
    )
    data = rawhttp.signed_request(request.path, request.body, headers)
    return Answered(data, frozenset({401}), f"huge timestamp {stamp[:8]}... ({len(stamp)} chars)")


@st.composite
def cut_off_uploads(draw: st.DrawFn) -> Stalled:
    """A body announced and partly sent, then the connection reset: nothing held after."""
    size = draw(st.sampled_from([64 * 1024, 512 * 1024, MIB]))
    sent = draw(st.integers(0, size - 1))
    target = draw(st.sampled_from([b"/webhooks/standard", b"/webhooks/nowhere"]))
    head = rawhttp.request(target, [b"Host: 127.0.0.1", b"Content-Length: %d" % size])
    return Stalled(head + b"x" * sent, "cut-off upload", abort=True)


@st.composite
def slow_requests(draw: st.DrawFn) -> Stalled:
    """A request that stops: in its request line, its headers, before its body, in its body
    or in a chunk. The server ends each after its keep-alive or body timeout."""
    full = rawhttp.request(
        b"/webhooks/standard",
        [b"Host: 127.0.0.1", b"Content-Type: application/json", b"Content-Length: 500"],
        b"{" + b" " * 499,
    )
    head_end = full.index(b"\r\n\r\n") + 4
    where = draw(st.sampled_from(["request line", "headers", "before body", "body", "chunk"]))
    if where == "request line":
        data = full[: draw(st.integers(1, full.index(b"\r\n")))]
    elif where == "headers":
        data = full[: draw(st.integers(full.index(b"\r\n") + 2, head_end - 1))]
    elif where == "before body":
        data = full[:head_end]
    elif where == "body":
        data = full[: draw(st.integers(head_end + 1, len(full) - 1))]
    else:
        data = rawhttp.request(
            b"/webhooks/standard", [b"Host: 127.0.0.1", b"Transfer-Encoding: chunked"], b"100\r\n{"
        )
    return Stalled(data, f"slow: stops in the {where}")


def idle_floods() -> st.SearchStrategy[int]:
    """How many keep-alive connections open and send nothing."""
    return st.integers(50, 1500)
