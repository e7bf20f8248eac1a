"""The edge attacks of issue 12 (items 1-4) as reusable pieces: each opens its own raw sockets
to 127.0.0.1 and is bounded in count and time.

- ``BombLoop``: one connection after another sends a gzip body under the size limit that
  inflates far past it (CPU on the event loop).
- ``aborted_uploads``: connections that send all of a body but its last byte, then close
  (memory pinned by dropped requests).
- ``held_bodies``: connections that send most of a body and then hold it (memory in flight).
- ``idle_connections``: keep-alive connections that send nothing (descriptors).
- ``timed_signed_posts``: a legitimate signed webhook at a steady pace, its latencies.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from tests.reliability import rawhttp, senders


def gzip_bomb_stream(inflated: int, chunk: int = 1 << 20) -> bytes:
    """A gzip member of ``inflated`` zero bytes, built without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    zeros = bytes(chunk)
    parts = [compressor.compress(zeros) for _ in range(inflated // chunk)]
    parts.append(compressor.flush())
    return b"".join(parts)


def bomb_request(bomb: bytes, path: bytes = b"/webhooks/standard") -> bytes:
    headers = [
        b"Host: 127.0.0.1",
        b"Content-Type: application/json",
        b"Content-Encoding: gzip",
        b"Content-Length: %d" % len(bomb),
    ]
    return rawhttp.request(path, headers, bomb)


class BombLoop:
    """A thread that sends compression bombs, one connection after another, until stopped.

    ``answers`` records the status of each (None: closed without one)."""

    def __init__(self, port: int, bomb: bytes, path: bytes = b"/webhooks/standard") -> None:
        self.port = port
        self.request = bomb_request(bomb, path)
        self.answers: list[int | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BombLoop:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.answers.append(rawhttp.exchange(self.port, [self.request], timeout=10.0))


def aborted_uploads(port: int, connections: int, size: int) -> None:
    """``connections`` requests announcing ``size`` bytes, each closed one byte short."""
    head = rawhttp.request(
        b"/webhooks/standard",
        [b"Host: 127.0.0.1", b"Content-Type: application/json", b"Content-Length: %d" % size],
    )
    data = head + b"x" * (size - 1)
    outgoing = []
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.setblocking(False)
        outgoing.append(Outgoing(sock, memoryview(data)))
    _send_all(list(outgoing), deadline=time.monotonic() + 30)
    for sock in (out.sock for out in outgoing):
        # RST, not FIN: the abrupt end a crashed or killed sender gives.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()


@dataclass
class Outgoing:
    sock: socket.socket
    rest: memoryview


def _send_all(pending: list[Outgoing], deadline: float) -> None:
    """Send every connection's remaining bytes, round robin, without blocking on any one."""
    while pending and time.monotonic() < deadline:
        progressed = False
        for out in list(pending):
            try:
                sent = out.sock.send(out.rest[: 1 << 16])
            except BlockingIOError:
                continue
            except OSError:  # the server closed it (refused): nothing more to send
                pending.remove(out)
                continue
            progressed = True
            out.rest = out.rest[sent:]
            if not out.rest:
                pending.remove(out)
        if not progressed:
            time.sleep(0.005)


@contextlib.contextmanager
def held_bodies(port: int, connections: int, size: int) -> Iterator[list[socket.socket]]:
    """``connections`` requests that send ``size`` - 1 bytes of their body and then wait."""
    socks = []
    try:
        for _ in range(connections):
            with contextlib.suppress(OSError):
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        pending = []
        head = rawhttp.request(
            b"/webhooks/standard",
            [b"Host: 127.0.0.1", b"Content-Type: application/json", b"Content-Length: %d" % size],
        )
        for sock in socks:
            sock.setblocking(False)
            pending.append(Outgoing(sock, memoryview(head + b"x" * (size - 1))))
        _send_all(pending, deadline=time.monotonic() + 20)
        yield socks
    finally:
        for sock in socks:
            sock.close()


@contextlib.contextmanager
def idle_connections(port: int, connections: int) -> Iterator[list[socket.socket]]:
    """``connections`` connections that send nothing."""
    socks: list[socket.socket] = []
    try:
        for _ in range(connections):
            with contextlib.suppress(OSError):
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        yield socks
    finally:
        for sock in socks:
            sock.close()


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed this connection (EOF or reset), without waiting."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def timed_signed_posts(port: int, count: int, pause: float) -> list[tuple[int | None, float]]:
    """``count`` fresh signed Standard Webhooks requests, ``pause`` seconds apart: each one's
    status and seconds from connect to answer."""
    results = []
    for _ in range(count):
        request = senders.standard("rel.edge", {"ok": True})
        data = rawhttp.signed_request(request.path, request.body, request.headers)
        started = time.perf_counter()
        status = rawhttp.exchange(port, [data], timeout=30.0)
        results.append((status, time.perf_counter() - started))
        time.sleep(pause)
    return results


def gzip_small(body: bytes) -> bytes:
    return gzip.compress(body)
