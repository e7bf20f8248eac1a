"""Hostile input to a real ``hookq ingress`` process, over raw sockets on 127.0.0.1: malformed
HTTP, header injection, enormous headers and bodies, a compression bomb, slow clients. The
process never answers 5xx, keeps answering ``/healthz``, stays under its memory bound, and
publishes nothing but the valid control requests."""

from __future__ import annotations

import asyncio
import time

import aio_pika
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import hostile, rawhttp, senders
from tests.reliability.conftest import Scale
from tests.reliability.procs import RSS_BOUND, Fleet, Spawned, http_status
from tests.reliability.summary import SUMMARY

VALID = senders.standard("rel.valid", {"ok": True})


def unrouted_count(settings: Settings) -> int:
    async def count() -> int:
        connection = await aio_pika.connect(settings.amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(
                Names(settings.namespace).unrouted_queue, passive=True
            )
            return queue.declaration_result.message_count or 0

    return asyncio.run(count())


def assert_healthy(process: Spawned, port: int) -> None:
    assert process.alive(), f"ingress died: {process.log_tail()}"
    assert http_status(f"http://127.0.0.1:{port}/healthz") == 200
    rss = process.rss_bytes()
    assert rss < RSS_BOUND, f"ingress RSS {rss / 2**20:.0f} MiB over {RSS_BOUND / 2**20:.0f} MiB"


def send_valid(port: int) -> int | None:
    """A fresh, validly signed request (each has its own webhook-id)."""
    request = senders.standard("rel.valid", {"ok": True})
    return rawhttp.exchange(
        port, [rawhttp.signed_request(request.path, request.body, request.headers)]
    )


CURATED: dict[str, bytes] = {
    "bare LF line ends": b"POST /webhooks/plain HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}",
    "lone CR in a value": rawhttp.request(b"/webhooks/plain", [b"X-A: a\rPlain-Event-Id: 1"]),
    "NUL in a value": rawhttp.request(b"/webhooks/standard", [b"webhook-id: a\x00b"]),
    "DEL in content type": rawhttp.request(b"/webhooks/plain", [b"Content-Type: json\x7f"]),
    "obs-fold continuation": rawhttp.request(
        b"/webhooks/starya", [b"Authorization: Bearer", b" " + senders.WRONG_BEARER.encode()]
    ),
    "space before colon": rawhttp.request(b"/webhooks/plain", [b"Content-Length : 5"], b"hello"),
    "no colon": rawhttp.request(b"/webhooks/plain", [b"JustAName"]),
    "two content lengths": rawhttp.request(
        b"/webhooks/plain", [b"Content-Length: 2", b"Content-Length: 20"], b"{}"
    ),
    "length and chunked": rawhttp.request(
        b"/webhooks/plain",
        [b"Content-Length: 4", b"Transfer-Encoding: chunked"],
        b"0\r\n\r\nPOST /webhooks/plain HTTP/1.1\r\n\r\n",
    ),
    "negative length": rawhttp.request(b"/webhooks/plain", [b"Content-Length: -1"]),
    "huge length": rawhttp.request(b"/webhooks/plain", [b"Content-Length: 99999999999999999999"]),
    "bad chunk size": rawhttp.request(
        b"/webhooks/plain", [b"Transfer-Encoding: chunked"], b"zz\r\n{}\r\n0\r\n\r\n"
    ),
    "chunked, identity": rawhttp.request(
        b"/webhooks/plain", [b"Transfer-Encoding: chunked, identity"], b"2\r\n{}\r\n0\r\n\r\n"
    ),
    "absolute-form target": rawhttp.request(b"http://evil.example/webhooks/plain", [b"Host: x"]),
    "HTTP/0.9": b"GET /healthz\r\n\r\n",
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "unknown method": rawhttp.request(b"/webhooks/plain", [b"Host: x"], method=b"BREW"),
    "non-ascii method": rawhttp.request(b"/webhooks/plain", [b"Host: x"], method=b"P\xd3ST"),
    "invalid utf-8 target": rawhttp.request(b"/webhooks/\xff\xfe", [b"Host: x"]),
    "percent-encoded traversal": rawhttp.request(b"/webhooks/..%2f..%2fhealthz", [b"Host: x"]),
    "control chars in target": rawhttp.request(b"/webhooks/pl\x01ain", [b"Host: x"]),
    "header injection in a signature": rawhttp.request(
        b"/webhooks/plain",
        [b"Plain-Request-Signature: 00\r\nX-Injected: 1", b"Content-Length: 2"],
        b"{}",
    ),
    "only garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),
    "empty line first": b"\r\n\r\n" + rawhttp.request(b"/webhooks/plain", [b"Host: x"]),
}


def raw_requests() -> st.SearchStrategy[bytes]:
    """A request line and headers with random bytes (CR, LF, NUL, high bytes) spliced in."""
    base = rawhttp.request(
        b"/webhooks/plain",
        [b"Host: 127.0.0.1", b"Content-Type: application/json", b"Content-Length: 2"],
        b"{}",
    )
    splice = st.binary(min_size=1, max_size=12) | st.sampled_from(
        [b"\r", b"\n", b"\x00", b"\r\n", b"\r\n\r\n", b":", b" ", b"\xff", b"\t"]
    )
    return st.builds(
        lambda at, insert, cut: base[:at] + insert + base[at + cut :],
        st.integers(0, len(base)),
        splice,
        st.integers(0, 4),
    )


@pytest.fixture
def live_ingress(fleet: Fleet) -> tuple[Spawned, int]:
    return fleet.ingress()


def test_malformed_http_is_refused_without_5xx(
    live_ingress: tuple[Spawned, int], settings: Settings, scale: Scale
) -> None:
    process, port = live_ingress
    answers = {name: rawhttp.exchange(port, [data]) for name, data in CURATED.items()}
    SUMMARY.fuzz_cases += len(CURATED)
    errors = {name: status for name, status in answers.items() if status and status >= 500}
    assert not errors, f"5xx for malformed requests: {errors}"
    # None of them carries a valid credential: each is refused, or the connection closed.
    accepted = {name: status for name, status in answers.items() if status and status < 400}
    assert not accepted, f"malformed requests not refused: {accepted}"
    fuzzed: list[tuple[bytes, int | None]] = []

    @hsettings(
        max_examples=scale.fuzz_examples,
        deadline=None,
        derandomize=not scale.full,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(raw_requests())
    def run(data: bytes) -> None:
        SUMMARY.fuzz_cases += 1
        fuzzed.append((data, rawhttp.exchange(port, [data], timeout=3.0)))

    run()
    assert not [(d, s) for d, s in fuzzed if s and s >= 500], "5xx for a fuzzed request"
    assert any(s == 400 for _d, s in fuzzed), "no fuzzed request was even parsed and refused"
    assert send_valid(port) == 200
    assert_healthy(process, port)
    assert unrouted_count(settings) == 1, "something other than the one valid request published"


def test_enormous_headers_bodies_and_compression_bombs(
    live_ingress: tuple[Spawned, int], settings: Settings
) -> None:
    process, port = live_ingress
    big = b"a" * (1024 * 1024)
    cases: dict[str, list[bytes]] = {
        "100 KiB header value": [rawhttp.request(b"/webhooks/plain", [b"X-Big: " + big[:102400]])],
        "5,000 headers": [
            rawhttp.request(b"/webhooks/plain", [b"X-H%d: v" % i for i in range(5000)])
        ],
        "64 KiB target": [rawhttp.request(b"/webhooks/" + big[:65536], [b"Host: x"])],
        "8 MiB body, announced": [
            rawhttp.request(b"/webhooks/plain", [b"Content-Length: %d" % (8 * len(big))]),
            *([big] * 8),
        ],
        "8 MiB body, chunked": [
            rawhttp.request(b"/webhooks/standard", [b"Transfer-Encoding: chunked"]),
            *([b"100000\r\n" + big + b"\r\n"] * 8),
            b"0\r\n\r\n",
        ],
    }
    bomb = hostile.gzip_bomb(64 * len(big))  # 64 MiB of zeros in about 64 KiB
    signed = senders.standard("rel.bomb", {}, body=bomb)
    cases["64 MiB gzip bomb, signed"] = [
        rawhttp.request(
            b"/webhooks/standard",
            [
                b"Content-Encoding: gzip",
                b"Content-Length: %d" % len(bomb),
                *[f"{k}: {v}".encode() for k, v in signed.headers.items()],
            ],
            bomb,
        )
    ]
    answers = {name: rawhttp.exchange(port, chunks, timeout=10.0) for name, chunks in cases.items()}
    SUMMARY.fuzz_cases += len(cases)
    assert not {n: s for n, s in answers.items() if s is None or s < 400 or s >= 500}, answers
    assert send_valid(port) == 200
    assert_healthy(process, port)
    assert unrouted_count(settings) == 1


def test_slow_clients_do_not_starve_others(
    live_ingress: tuple[Spawned, int], settings: Settings
) -> None:
    """Slowloris: connections that send headers, or a body, a byte at a time for a few seconds.
    Meanwhile health checks and valid webhooks are answered."""
    process, port = live_ingress
    slow_head = rawhttp.request(b"/webhooks/plain", [b"Host: x", b"X-Slow: " + b"s" * 200])
    slow_body = rawhttp.signed_request(VALID.path, VALID.body, VALID.headers)
    clients = [rawhttp.SlowClient(port, slow_head) for _ in range(60)]
    clients += [rawhttp.SlowClient(port, slow_body) for _ in range(20)]
    SUMMARY.fuzz_cases += len(clients)
    health: list[int] = []
    posted: list[int | None] = []
    end = time.monotonic() + 5.0
    try:
        while time.monotonic() < end:
            tick = time.monotonic() + 0.3
            for client in clients:
                client.dribble()
            health.append(http_status(f"http://127.0.0.1:{port}/healthz", timeout=5.0))
            posted.append(send_valid(port))
            rawhttp.wait_until(tick)
    finally:
        for client in clients:
            client.finish()
    assert health, "no health check was made"
    assert all(status == 200 for status in health), health
    assert posted, "no valid request was sent"
    assert all(status == 200 for status in posted), posted
    assert not [c.status for c in clients if c.status is not None and c.status >= 500]
    assert_healthy(process, port)
    # The valid requests, and none of the slow ones (never finished) reached the broker.
    assert unrouted_count(settings) == len(posted)
