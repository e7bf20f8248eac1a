"""The ingress application in this process, against the real broker, driven synchronously so
that hypothesis can generate its requests (``@given`` tests are not coroutines).

Its loggers are replaced by ones that keep every line, after the same redaction the production
pipeline applies, so the log scan sees what an operator would.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Mapping, MutableMapping
from types import TracebackType
from typing import Any

import aio_pika
import structlog
from aiohttp.test_utils import TestClient, TestServer

from hookq.ingress.app import create_app
from hookq.ingress.publisher import Publisher
from hookq.log_context import merge_context
from hookq.message import Header
from hookq.privacy import Privacy
from hookq.settings import Settings
from hookq.sources.registry import build_sources
from hookq.topology import Names

LOGGING_PACKAGES = ("ingress", "sources", "hookq")


class LineKeeper:
    """The last structlog processor: keeps each rendered event dict as a line of text."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> str:
        self.lines.append(repr(dict(event_dict)))
        raise structlog.DropEvent


def capture_module_loggers(keeper: LineKeeper) -> dict[tuple[str, str], Any]:
    """Points every ``log`` of the ingress's modules at ``keeper``; returns what to restore."""
    replaced: dict[tuple[str, str], Any] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(LOGGING_PACKAGES):
            continue
        for attr in ("log", "logger"):
            original = getattr(module, attr, None)
            if original is None or not hasattr(original, "bind"):
                continue
            replaced[(name, attr)] = original
            captured = structlog.wrap_logger(
                None,
                processors=[
                    merge_context,
                    structlog.processors.add_log_level,
                    structlog.processors.format_exc_info,
                    Privacy().log_processor,
                    keeper,
                ],
            )
            setattr(module, attr, captured)
    return replaced


class InProcessIngress:
    """``with InProcessIngress(settings) as ingress: ingress.post(...)``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.names = Names(settings.namespace)
        self.runner = asyncio.Runner()
        self.keeper = LineKeeper()
        self.accepted: Counter[str] = Counter()  # delivery ids answered 2xx
        self.statuses: Counter[int] = Counter()
        self._replaced: dict[tuple[str, str], Any] = {}
        self._client: TestClient[Any, Any] | None = None
        self._publisher: Publisher | None = None

    def __enter__(self) -> InProcessIngress:
        self._replaced = capture_module_loggers(self.keeper)
        self.runner.__enter__()
        self.runner.run(self._start())
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.runner.run(self._stop())
        finally:
            self.runner.__exit__(kind, exc, tb)
            for (module, attr), original in self._replaced.items():
                setattr(sys.modules[module], attr, original)

    async def _start(self) -> None:
        self._publisher = Publisher(self.settings, self.names, connection_name="reliability-fuzz")
        await self._publisher.start()
        async with asyncio.timeout(15):
            await self._publisher.wait_connected()
        app = create_app(self.settings, build_sources(self.settings), self._publisher)
        self._client = TestClient(TestServer(app, host="127.0.0.1"))
        await self._client.start_server()

    async def _stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._publisher is not None:
            await self._publisher.close()

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> int:
        """One request; a 2xx's delivery id is counted as accepted."""
        return self.runner.run(self._post(path, body, headers))

    async def _post(self, path: str, body: bytes, headers: Mapping[str, str]) -> int:
        assert self._client is not None
        async with self._client.post(path, data=body, headers=dict(headers)) as response:
            payload = await response.read()
            self.statuses[response.status] += 1
            if 200 <= response.status < 300:
                delivery_id = (await response.json())["delivery_id"]
                self.accepted[delivery_id] += 1
            assert payload is not None
            return response.status

    def published(self) -> Counter[str]:
        """Delivery ids of the messages in the namespace's unrouted queue (consumed)."""
        return self.runner.run(self._drain_unrouted())

    async def _drain_unrouted(self) -> Counter[str]:
        found: Counter[str] = Counter()
        connection = await aio_pika.connect(
            self.settings.amqp_url, client_properties={"connection_name": "reliability-drain"}
        )
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(self.names.unrouted_queue, passive=True)
            while (message := await queue.get(no_ack=True, fail=False)) is not None:
                found[str(message.headers.get(Header.DELIVERY_ID))] += 1
        return found
