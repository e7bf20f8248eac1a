"""A running ingress served as ``hookq ingress`` serves it (its runner, protocol and bounds),
for the tests that speak raw HTTP to it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hookq.ingress.app import create_app
from hookq.ingress.metrics import IngressMetrics
from hookq.ingress.protocol import make_runner
from hookq.ingress.publisher import Publisher
from hookq.settings import Settings
from hookq.sources.base import Source
from hookq.sources.registry import build_sources
from hookq.topology import Names


class IngressTestServer(TestServer):
    """aiohttp's test server, with the ingress's own runner."""

    def __init__(self, app: web.Application, settings: Settings) -> None:
        super().__init__(app, host="127.0.0.1")
        self.settings = settings

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        return make_runner(self.app, self.settings, **kwargs)


@dataclass
class Edge:
    client: TestClient[Any, Any]
    metrics: IngressMetrics

    @property
    def port(self) -> int:
        port = self.client.port
        assert port is not None
        return port

    def count(self, source: str, status: int) -> float:
        value = self.metrics.registry.get_sample_value(
            "hookq_ingress_requests_total", {"source": source, "status": str(status)}
        )
        return value or 0.0


@contextlib.asynccontextmanager
async def running_edge(
    settings: Settings, sources: dict[str, Source] | None = None
) -> AsyncIterator[Edge]:
    publisher = Publisher(settings, Names(settings.namespace), connection_name="test-edge")
    await publisher.start()
    async with asyncio.timeout(10):
        await publisher.wait_connected()
    metrics = IngressMetrics()
    app = create_app(settings, sources or build_sources(settings), publisher, metrics)
    client = TestClient(IngressTestServer(app, settings))
    await client.start_server()
    try:
        yield Edge(client, metrics)
    finally:
        await client.close()
        await publisher.close()
