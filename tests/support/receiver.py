"""A destination's receiving end for tests: an aiohttp server on an ephemeral port that checks
every request with the official ``standardwebhooks`` library and answers as scripted.

    receiver = Receiver(secret, script=[500, 500, 200])   # per delivery: 1st, 2nd, 3rd answer
    url = await receiver.start()
    ...
    assert receiver.deliveries["evt_1"] == 3
    await receiver.stop()

A script entry is a status, ``Answer(status, headers, body)``, or ``HANG`` (never answers). A
request the library refuses is kept in ``refused`` and answered 401.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


HANG = Answer(0)  # holds the request until the client gives up


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    wall: float  # time.time()
    delivery_id: str
    headers: dict[str, str]
    body: bytes
    payload: object  # what the library's verify returned


class Receiver:
    def __init__(self, secret: str, script: Sequence[int | Answer] = ()) -> None:
        self.webhook = Webhook(secret)
        self.script = list(script)
        self.received: list[Received] = []  # verified, in arrival order (every attempt)
        self.refused: list[str] = []
        self.deliveries: Counter[str] = Counter()  # requests by webhook-id
        self.down = False  # answer nothing: the connection is refused (server stopped)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        await self._listen()
        return self.url

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        if not self.port:
            server = self._site._server
            assert isinstance(server, asyncio.base_events.Server)
            self.port = server.sockets[0].getsockname()[1]

    async def go_down(self) -> None:
        """Stop listening: connections are refused until ``come_back``."""
        assert self._site is not None
        await self._site.stop()

    async def come_back(self) -> None:
        await self._listen()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = dict(request.headers)
        try:
            payload = self.webhook.verify(body, headers)
        except WebhookVerificationError as exc:
            self.refused.append(str(exc))
            return web.Response(status=401, text="bad signature")
        delivery_id = request.headers["webhook-id"]
        number = self.deliveries[delivery_id]
        self.deliveries[delivery_id] += 1
        self.received.append(
            Received(time.monotonic(), time.time(), delivery_id, headers, body, payload)
        )
        answer = self.script[number] if number < len(self.script) else 200
        if isinstance(answer, int):
            answer = Answer(answer)
        if answer is HANG:
            await asyncio.sleep(3600)
        return web.Response(status=answer.status, headers=answer.headers, text=answer.body)

    def times(self, delivery_id: str) -> list[float]:
        return [r.at for r in self.received if r.delivery_id == delivery_id]
