"""Every answer of the ingress's edge is JSON ``{"error", "message"}`` that repeats no input,
every 5xx is counted, and a body is read within its bounds (size, time, bytes in flight).

Raw HTTP over asyncio streams: the server runs in the test's own event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping

import orjson
import pytest

from hookq.settings import Settings
from hookq.sources.base import Accepted, Request, Source
from hookq.sources.registry import build_sources
from hookq.sources.standard import StandardSource
from tests.ingress.edge import Edge, running_edge
from tests.reliability import senders

SECRET_LOOKING = b"hunter2-do-not-echo"


@pytest.fixture
async def edge(settings: Settings) -> AsyncIterator[Edge]:
    async with running_edge(settings) as running:
        yield running


async def exchange(port: int, data: bytes, wait: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Send ``data``; the answer's status, headers (lower-case names) and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(wait):
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines[1:] if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        return int(lines[0].split()[1]), headers, body
    finally:
        writer.close()


def raw(request_line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    """A request as given; HTTP/1.1 needs a Host header, which is added first."""
    lines = [request_line, b"Host: 127.0.0.1", *headers]
    return b"".join(line + b"\r\n" for line in lines) + b"\r\n" + body


def assert_json_error(headers: Mapping[str, str], body: bytes, code: str | None = None) -> None:
    assert headers["content-type"].startswith("application/json"), headers
    answer = orjson.loads(body)
    assert set(answer) == {"error", "message"}, answer
    if code is not None:
        assert answer["error"] == code, answer
    assert SECRET_LOOKING not in body


PARSER_REFUSALS = {
    "bad header line": raw(b"POST /webhooks/plain HTTP/1.1", b"X-Bad\x01Name: " + SECRET_LOOKING),
    "header without a colon": raw(b"POST /webhooks/plain HTTP/1.1", SECRET_LOOKING),
    "header line too long": raw(
        b"POST /webhooks/plain HTTP/1.1", b"X-Long: " + SECRET_LOOKING + b"a" * 9000
    ),
    "request line too long": raw(b"POST /webhooks/" + SECRET_LOOKING + b"a" * 9000 + b" HTTP/1.1"),
    "bad method": raw(b"P\xd3ST" + SECRET_LOOKING + b" /webhooks/plain HTTP/1.1"),
    "bad version": raw(b"POST /webhooks/plain HTTP/9." + SECRET_LOOKING),
    "bad content length": raw(
        b"POST /webhooks/plain HTTP/1.1", b"Content-Length: 1" + SECRET_LOOKING
    ),
}


@pytest.mark.parametrize("name", sorted(PARSER_REFUSALS))
async def test_parser_refusals_are_json_without_the_offending_line(edge: Edge, name: str) -> None:
    status, headers, body = await exchange(edge.port, PARSER_REFUSALS[name])
    assert status == 400
    assert_json_error(headers, body, "bad_http")
    assert edge.count("unparsed", 400) == 1


@pytest.mark.parametrize(
    ("request_line", "status", "code"),
    [
        (b"GET /webhooks/plain HTTP/1.1", 405, "method_not_allowed"),
        (b"POST /nowhere/" + SECRET_LOOKING + b" HTTP/1.1", 404, "not_found"),
        (b"POST /webhooks/" + SECRET_LOOKING + b" HTTP/1.1", 404, "unknown_source"),
        (b"POST /webhooks/" + SECRET_LOOKING + b"/x HTTP/1.1", 404, "not_found"),
        (b"DELETE /healthz HTTP/1.1", 405, "method_not_allowed"),
    ],
)
async def test_routing_answers_are_json(
    edge: Edge, request_line: bytes, status: int, code: str
) -> None:
    answer, headers, body = await exchange(edge.port, raw(request_line, b"Content-Length: 0"))
    assert answer == status
    assert_json_error(headers, body, code)
    if status == 405:
        assert "allow" in headers


async def test_a_309_digit_timestamp_is_a_401(edge: Edge) -> None:
    request = senders.standard("rel.huge", {"n": 1})
    headers = dict(request.headers, **{"webhook-timestamp": "9" * 309})
    response = await edge.client.post(request.path, data=request.body, headers=headers)
    assert response.status == 401
    assert_json_error(response.headers, await response.read(), "unauthorized")


class Broken(Source):
    """A source with a bug: its accept raises what no refusal expects."""

    name = "standard"
    settings_type = StandardSource.settings_type
    events = StandardSource.events
    envelope = StandardSource.envelope

    def authenticate(self, request: Request) -> None:
        raise OverflowError("int too large to convert to float")

    def identify(self, request: Request) -> Accepted:
        raise AssertionError("never reached")


async def test_an_unexpected_error_is_a_counted_json_500(settings: Settings) -> None:
    sources = {**build_sources(settings), "standard": Broken()}
    async with running_edge(settings, sources) as edge:
        response = await edge.client.post("/webhooks/standard", data=b"{}")
        assert response.status == 500
        assert_json_error(response.headers, await response.read(), "internal_error")
        assert edge.count("standard", 500) == 1


async def test_an_unexpected_error_outside_the_webhook_route_is_a_counted_json_500(
    edge: Edge, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> bytes:
        raise RuntimeError("the registry broke")

    monkeypatch.setattr(edge.metrics, "render", broken)
    response = await edge.client.get("/metrics")
    assert response.status == 500
    assert_json_error(response.headers, await response.read(), "internal_error")
    assert edge.count("none", 500) == 1


async def test_a_body_over_the_limit_is_413_and_the_connection_closed(edge: Edge) -> None:
    limit = 1024 * 1024
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    writer.write(raw(b"POST /webhooks/standard HTTP/1.1", b"Content-Length: %d" % (limit + 1)))
    await writer.drain()
    async with asyncio.timeout(5):
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413")
        await reader.read(4096)  # the JSON body
        # Closed without reading the body (no lingering close): EOF, not a wait.
        assert await reader.read() == b""
    writer.close()


async def test_a_slow_body_is_408_after_the_body_timeout(settings: Settings) -> None:
    async with running_edge(settings.model_copy(update={"ingress_body_timeout": 0.5})) as edge:
        reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
        writer.write(raw(b"POST /webhooks/standard HTTP/1.1", b"Content-Length: 100", body=b"{"))
        await writer.drain()
        started = time.monotonic()
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), head
        assert 0.4 < time.monotonic() - started < 3
        writer.close()


async def test_bodies_over_the_in_flight_bound_are_503_with_retry_after(
    settings: Settings,
) -> None:
    bound = settings.model_copy(update={"max_bodies_in_flight_bytes": 200_000})
    async with running_edge(bound) as edge:
        # A large body that stays unfinished holds 150,000 bytes of the bound.
        _, writer = await asyncio.open_connection("127.0.0.1", edge.port)
        writer.write(raw(b"POST /webhooks/standard HTTP/1.1", b"Content-Length: 150000"))
        await writer.drain()
        await asyncio.sleep(0.2)
        big = raw(b"POST /webhooks/standard HTTP/1.1", b"Content-Length: 100000", body=b"x" * 10)
        status, headers, body = await exchange(edge.port, big)
        assert status == 503
        assert_json_error(headers, body, "busy")
        assert headers["retry-after"] == str(settings.retry_after)
        assert edge.count("standard", 503) == 1
        # A small webhook still fits: the last quarter of the bound is kept for small bodies.
        request = senders.standard("rel.small", {"n": 1})
        response = await edge.client.post(request.path, data=request.body, headers=request.headers)
        assert response.status == 200, await response.text()
        writer.close()


async def test_an_idle_connection_is_closed_after_the_keepalive_timeout(
    settings: Settings,
) -> None:
    quick = settings.model_copy(update={"ingress_keepalive_timeout": 0.5})
    async with running_edge(quick) as edge:
        idle = await asyncio.open_connection("127.0.0.1", edge.port)
        slow = await asyncio.open_connection("127.0.0.1", edge.port)
        slow[1].write(b"POST /webhooks/plain HTTP/1.1\r\nHost: x\r\n")  # headers never ended
        started = time.monotonic()
        async with asyncio.timeout(5):
            assert await idle[0].read() == b""
            assert await slow[0].read() == b""
        assert time.monotonic() - started < 3
        for _, writer in (idle, slow):
            writer.close()
