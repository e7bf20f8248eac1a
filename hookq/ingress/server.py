"""``hookq ingress``: run the HTTP edge until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import gc
import signal

import structlog
from aiohttp import web

from hookq.ingress.app import create_app
from hookq.ingress.publisher import Publisher
from hookq.settings import Settings
from hookq.sources.registry import build_sources
from hookq.topology import Names

log = structlog.get_logger("hookq.ingress")


async def serve(settings: Settings) -> None:
    settings.require_source_secrets()
    publisher = Publisher(settings, Names(settings.namespace))
    await publisher.start()
    sources = build_sources(settings)
    for source in sources.values():
        if source.keyless:
            log.warning(
                "INSECURE: source accepts unauthenticated requests (HOOKQ_INSECURE_SOURCES); "
                "never in production",
                source=source.name,
            )
    app = create_app(settings, sources, publisher)
    # No access log: one line per request is the hot path's largest cost; metrics count them.
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    # Everything built so far (modules, the sources' pydantic models) lives as long as the
    # process: out of the collector's sight, full collections no longer walk it per request.
    gc.freeze()
    site = web.TCPSite(runner, settings.ingress_host, settings.ingress_port, backlog=1024)
    await site.start()
    log.info("ingress listening", port=settings.ingress_port, sources=settings.sources)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("ingress stopping")
    # Stops accepting, lets requests in flight finish (their publishes confirm), then closes.
    await runner.cleanup()
    await publisher.close()
