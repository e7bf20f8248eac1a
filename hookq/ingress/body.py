"""Receiving a request body within bounds: its size, the time it takes, and the bytes of all
bodies held at once.

A refused body costs at most what was read to refuse it: the ingress answers before reading the
rest, and aiohttp then closes the connection (no lingering close, see ``ingress.protocol``)
instead of reading, and decompressing, what is left.
"""

from __future__ import annotations

import asyncio

from aiohttp import StreamReader, hdrs, web

from hookq.sources.base import WebhookRejected


class TooLarge(WebhookRejected):
    status = 413
    code = "too_large"


class BodyTimeout(WebhookRejected):
    status = 408
    code = "body_timeout"


class BadBody(WebhookRejected):
    status = 400
    code = "bad_body"


class Busy(WebhookRejected):
    """Too many bytes of bodies in flight: answered 503 with Retry-After, like a broker outage."""

    status = 503
    code = "busy"


SMALL_BODY = 64 * 1024


class BodyBudget:
    """The bytes of request bodies the ingress holds at once.

    Each request reserves what its body may grow to before reading a byte of it, and gives it
    back once answered (its body is held until the broker confirms). One event loop: no lock.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def reserve(self, size: int) -> None:
        # Large bodies may fill three quarters of the bound: the last quarter is kept for small
        # ones (most webhooks), so that slow senders of large bodies cannot starve them.
        bound = self.limit if size <= SMALL_BODY else self.limit - self.limit // 4
        # An empty budget admits any one body, so a bound below the body limit cannot refuse all.
        if self.held and self.held + size > bound:
            raise Busy(f"over {self.limit} bytes of request bodies in flight; retry later")
        self.held += size

    def release(self, size: int) -> None:
        self.held -= size


def reservation(request: web.Request, limit: int) -> int:
    """What a body may grow to: its announced length, unless it is compressed or chunked."""
    length = request.content_length
    if length is None or hdrs.CONTENT_ENCODING in request.headers:
        return limit
    if length > limit:
        raise TooLarge(f"body over {limit} bytes")
    return length


async def read_body(request: web.Request, limit: int, time_limit: float) -> bytes:
    """The whole body (decompressed), or a ``WebhookRejected``: too large, too slow, cut off or
    not matching its Content-Encoding."""
    payload = request.content
    if payload.is_eof():  # all of it arrived with the headers, the usual case: no timer
        return await _read(payload, limit)
    try:
        async with asyncio.timeout(time_limit):
            return await _read(payload, limit)
    except TimeoutError:
        raise BodyTimeout(f"body not received within {time_limit:g}s") from None


async def _read(payload: StreamReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await payload.readany():
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"body over {limit} bytes")
            chunks.append(chunk)
    except (ConnectionError, web.RequestPayloadError) as exc:
        chunks.clear()
        # The exception stays on the payload, which the request holds, which the traceback's
        # frames hold: a cycle that kept each dropped request (and its body) alive until a full
        # collection. Without its traceback the exception holds no frame: freed at once.
        exc.__traceback__ = None
        cut_off = isinstance(exc, ConnectionError)
        raise BadBody("body cut off" if cut_off else "body does not match its framing") from None
    except BaseException:
        chunks.clear()  # a traceback may keep this frame: it must not keep the body
        raise
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
