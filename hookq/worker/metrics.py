"""Prometheus metrics of one worker process (a registry of its own, so tests can build many),
served at ``GET /metrics`` on ``HOOKQ_WORKER_METRICS_PORT`` (0: not served)."""

from __future__ import annotations

import enum

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Outcome(enum.StrEnum):
    PROCESSED = "processed"  # the handler returned
    DUPLICATE = "duplicate"  # already done, or another delivery of it is in flight
    RETRIED = "retried"  # sent to a delay tier
    DEAD = "dead"  # dead-lettered: rejected, out of attempts
    INVALID = "invalid"  # dead-lettered: the payload failed validation


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "hookq_worker_events",
            "Messages handled, by source, event type, handler and outcome",
            ["source", "event_type", "handler", "outcome"],
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "hookq_worker_handler_seconds",
            "Time spent in a handler's run, whatever its outcome",
            ["handler"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "hookq_worker_in_flight",
            "Messages this worker is processing",
            registry=self.registry,
        )
        self.redis_available = Gauge(
            "hookq_worker_redis_available",
            "1 while Redis answers; 0 while the worker is paused waiting for it",
            registry=self.registry,
        )
        self.redis_available.set(1)
        self._children: dict[tuple[str, str, str, str], Counter] = {}

    def count(self, source: str, event_type: str, handler: str, outcome: Outcome) -> None:
        # The labelled child is looked up once (prometheus_client takes a lock per lookup).
        key = (source, event_type, handler, outcome.value)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.events.labels(*key)
        child.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


async def serve_metrics(
    metrics: WorkerMetrics,
    port: int,
    host: str = "0.0.0.0",  # noqa: S104 - scraped from outside the container
) -> web.AppRunner:
    """Start the ``/metrics`` endpoint; the caller ``cleanup()``s the returned runner."""

    async def handle(_request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
