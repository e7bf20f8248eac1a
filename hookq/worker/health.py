"""The worker's HTTP endpoint (``HOOKQ_WORKER_METRICS_HOST``:``HOOKQ_WORKER_METRICS_PORT``):
``/metrics`` (Prometheus), ``/healthz`` (the process is alive) and ``/readyz`` (connected to
the broker, and to Redis and PostgreSQL as far as its handlers need them, every handler's
consumer running; 503 with the reasons otherwise, e.g. ``postgresql unavailable``)."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from hookq.listen import listen
from hookq.worker.metrics import WorkerMetrics

Readiness = Callable[[], list[str]]  # what keeps the worker from being ready; empty: ready


def _json(status: int, payload: object) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")


def health_app(metrics: WorkerMetrics, not_ready: Readiness) -> web.Application:
    async def metrics_view(_request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_request: web.Request) -> web.Response:
        return _json(200, {"status": "alive"})

    async def readyz(_request: web.Request) -> web.Response:
        reasons = not_ready()
        if reasons:
            return _json(503, {"status": "not ready", "reasons": reasons})
        return _json(200, {"status": "ready"})

    app = web.Application()
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def serve_health(
    metrics: WorkerMetrics, not_ready: Readiness, host: str, port: int
) -> web.AppRunner:
    """Listen (or raise ``SettingsError`` naming the port); the caller ``cleanup()``s it."""
    runner = web.AppRunner(health_app(metrics, not_ready), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await listen(runner, host, port, "HOOKQ_WORKER_METRICS_PORT")
    except BaseException:
        await runner.cleanup()
        raise
    return runner
