"""A TCP proxy on 127.0.0.1 between hookq's processes and RabbitMQ, that a scenario cuts and
restores: to everyone behind it, a broker outage, without touching the broker the rest of the
suite shares.

A cut refuses new connections and drops every open one on both sides at once, including one
still being set up, so that no half of a connection outlives it (the broker then requeues what
that connection had unacknowledged, as after a real restart). A stall keeps the connections
open but forwards nothing until ``flow``: a broker that stopped answering. Runs in the test's
event loop: blocking calls must go to threads meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit


def url_via(url: str, port: int) -> str:
    """``url`` with its host and port replaced by 127.0.0.1:``port`` (a proxy's)."""
    parts = urlsplit(url)
    user, _, _host = parts.netloc.rpartition("@")
    where = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{user}@{where}" if user else where))


class CuttableProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        links, self._links = self._links, set()
        for link in links:
            link.cancel()
        await asyncio.gather(*links, return_exceptions=True)

    async def restore(self) -> None:
        await self.start()

    def stall(self) -> None:
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    async def _link(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        upstream_w: asyncio.StreamWriter | None = None
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.target)
            # Either direction ending (or a cut) ends both.
            pipes = [
                asyncio.create_task(self._pipe(client_r, upstream_w)),
                asyncio.create_task(self._pipe(upstream_r, client_w)),
            ]
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
        except (OSError, asyncio.CancelledError):
            # A cut cancels the link: it ends here, normally (asyncio's stream server reports a
            # link task that ends cancelled as an error).
            pass
        finally:
            client_w.transport.abort()
            if upstream_w is not None:
                upstream_w.transport.abort()
            self._links.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
