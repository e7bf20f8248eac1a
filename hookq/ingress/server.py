"""``hookq ingress``: run the HTTP edge until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import gc
import signal

import structlog

from hookq.ingress.app import create_app
from hookq.ingress.metrics import IngressMetrics
from hookq.ingress.protocol import make_runner
from hookq.ingress.publisher import Publisher
from hookq.listen import listen
from hookq.settings import Settings, SettingsError
from hookq.sources.registry import build_sources
from hookq.topology import Names

log = structlog.get_logger("hookq.ingress")


async def serve(settings: Settings, child: int | None = None) -> None:
    """``child``: one of a supervisor's processes (``--processes``), sharing the port with
    the others (SO_REUSEPORT) and summing their metrics."""
    settings.require_source_secrets()
    sources = build_sources(settings)
    for source in sources.values():
        if source.keyless:
            log.warning(
                "INSECURE: source accepts unauthenticated requests (HOOKQ_INSECURE_SOURCES); "
                "never in production",
                source=source.name,
            )
    publisher = Publisher(settings, Names(settings.namespace))
    metrics = IngressMetrics(multiprocess=child is not None)
    runner = make_runner(create_app(settings, sources, publisher, metrics), settings)
    await runner.setup()
    # Listening before the broker is reached: a port in use is said at once, not after the
    # broker answered (or never, while it does not); until connected, /readyz and publishes
    # answer 503.
    try:
        await listen(
            runner,
            settings.ingress_host,
            settings.ingress_port,
            "HOOKQ_INGRESS_PORT",
            backlog=1024,
            reuse_port=child is not None,
        )
    except SettingsError:
        await runner.cleanup()
        raise
    await publisher.start()
    # Everything built so far (modules, the sources' pydantic models) lives as long as the
    # process: out of the collector's sight, full collections no longer walk it per request.
    gc.freeze()
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
