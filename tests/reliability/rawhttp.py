"""Raw HTTP/1.1 over a socket to 127.0.0.1: the malformed requests no client library sends."""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import time
from collections.abc import Iterable

STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3})")


def exchange(port: int, chunks: Iterable[bytes], timeout: float = 5.0) -> int | None:
    """Send ``chunks`` and read the answer: its status, or None if the server closed (or
    stayed silent for ``timeout``) without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server may close while we still send (e.g. after refusing the headers)
        return read_status(sock, timeout)


def read_status(sock: socket.socket, timeout: float) -> int | None:
    sock.settimeout(timeout)
    received = b""
    with contextlib.suppress(OSError):
        while b"\r\n" not in received:
            data = sock.recv(4096)
            if not data:
                break
            received += data
    match = STATUS_LINE.match(received)
    return int(match.group(1)) if match else None


def answer(port: int, data: bytes, timeout: float = 10.0) -> tuple[int | None, bytes]:
    """Send ``data``; the answer's status (None: closed without one) and everything the
    server sent until it closed or went quiet for ``timeout``."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        received = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                received += chunk
                if _complete(received):
                    break
    match = STATUS_LINE.match(received)
    return (int(match.group(1)) if match else None), received


def _complete(received: bytes) -> bool:
    head, separator, body = received.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(separator) and length is not None and len(body) >= int(length.group(1))


def request(
    target: bytes, headers: Iterable[bytes], body: bytes = b"", method: bytes = b"POST"
) -> bytes:
    """A request assembled as given: nothing is validated or escaped."""
    head = b"".join(h + b"\r\n" for h in headers)
    return method + b" " + target + b" HTTP/1.1\r\n" + head + b"\r\n" + body


def signed_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [b"Host: 127.0.0.1", b"Connection: close", b"Content-Length: %d" % len(body)]
    lines += [f"{k}: {v}".encode() for k, v in headers.items()]
    return request(path.encode(), lines, body)


class SlowClient:
    """A connection that sends its request a few bytes at a time (slowloris)."""

    def __init__(self, port: int, data: bytes, step: int = 1) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.data, self.step, self.sent = data, step, 0
        self.closed_by_server = False
        self.status: int | None = None

    def dribble(self) -> None:
        if self.closed_by_server or self.sent >= len(self.data):
            return
        try:
            self.sent += self.sock.send(self.data[self.sent : self.sent + self.step])
        except OSError:
            self.closed_by_server = True

    def finish(self, timeout: float = 0.05) -> None:
        """Take whatever answer already arrived (an unfinished request has none), and close."""
        with contextlib.suppress(OSError):
            self.sock.setblocking(True)
            self.status = read_status(self.sock, timeout)
        self.sock.close()


def wait_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """A well-formed POST (http.client): its status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
