"""A minimal HTTP/1.1 client for the open-loop load: pre-serialised requests over keep-alive
connections, one request in flight per connection, new connections opened when all are busy.

It exists to stay out of the way: on two shared cores, aiohttp's client spent about half a
millisecond of CPU per request, CPU the processes under test then did not have. This one
parses only what it needs (status line, Content-Length) from the answers of an aiohttp server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

MAX_HEADER_BYTES = 64 * 1024


def serialise(host: str, path: str, headers: Mapping[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        """Send one request, read its whole answer; its status."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            raise ValueError("answer headers too long")
        status_line, _, rest = head.partition(b"\r\n")
        length = 0
        for line in rest.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return int(status_line.split(b" ", 2)[1])

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Keep-alive connections to one server: idle ones are reused, busy ones never shared, at
    most ``limit`` at once (a request waits for a free one; its latency still counts from its
    due time). Without a limit, a server that falls behind would be sent one connection per
    waiting request, and its memory would measure the client's patience."""

    def __init__(self, host: str, port: int, limit: int = 256) -> None:
        self.host, self.port = host, port
        self._idle: list[Connection] = []
        self._slots = asyncio.Semaphore(limit)
        self.opened = 0

    async def send(self, request: bytes) -> int:
        """The answer's status; 0 when the connection failed."""
        async with self._slots:
            connection = None
            try:
                connection = self._idle.pop() if self._idle else await self._open()
                status = await connection.exchange(request)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                if connection is not None:
                    connection.close()
                return 0
            self._idle.append(connection)
            return status

    async def _open(self) -> Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened += 1
        return Connection(reader, writer)

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()
