"""A worker: one robust RabbitMQ connection, one channel and consumer per handler queue.

Each handler has a channel of its own (its prefetch, its confirms): a slow or failing handler
fills only its own prefetch window and never delays another. The robust connection reconnects
after an outage and re-declares and re-consumes every queue by itself; messages that were in
flight on the lost channel are redelivered by the broker and recognised by dedupe.

Handlers are deduped in Redis, or, when transactional, by their inbox rows in PostgreSQL
(``hookq.inbox``): a worker waits at start for the stores its handlers need, and only those (a
deployment whose handlers are all transactional runs without Redis).

``Worker`` is what tests run in-process; ``serve`` is the ``hookq worker`` process around it.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import structlog
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web

from hookq.amqp import connect_robust
from hookq.declarations import declaring
from hookq.handlers.api import HandlerSpec
from hookq.redis_client import redis_client, wait_for_redis
from hookq.settings import Settings, SettingsError, env_name
from hookq.sources.base import Source
from hookq.sources.registry import build_sources
from hookq.topology import Names, declare_exchanges, declare_handler
from hookq.worker.consumers import Consumer
from hookq.worker.deadlines import Deadlines
from hookq.worker.dedupe import Dedupe, RedisClaimer
from hookq.worker.health import serve_health
from hookq.worker.hook_registry import builtin_hooks, team_hooks
from hookq.worker.hooks import Hook, Hooks
from hookq.worker.inflight import InFlight
from hookq.worker.metrics import MetricsHook, WorkerMetrics
from hookq.worker.outbox import Outbox
from hookq.worker.outcomes import Settler
from hookq.worker.pipeline import Claimer, Pipeline
from hookq.worker.redis_gate import RedisGate
from hookq.worker.validation import Validator

if TYPE_CHECKING:
    from hookq.inbox.store import Inbox

log = structlog.get_logger("hookq.worker")


def check_timeouts(specs: Mapping[str, HandlerSpec], settings: Settings) -> None:
    """A claim must outlive any run, or a slow run's event could run twice at once."""
    too_slow = [s.name for s in specs.values() if s.timeout >= settings.claim_lease]
    if too_slow:
        raise SettingsError(
            f"handler timeout must be below {env_name('claim_lease')} "
            f"({settings.claim_lease:g}s): {', '.join(sorted(too_slow))}"
        )
    if any(s.transactional for s in specs.values()) and not settings.postgres_url:
        transactional = sorted(s.name for s in specs.values() if s.transactional)
        raise SettingsError(
            f"{env_name('postgres_url')} is not set: transactional handlers need PostgreSQL "
            f"({', '.join(transactional)})"
        )


class Worker:
    def __init__(
        self,
        settings: Settings,
        specs: Mapping[str, HandlerSpec],
        *,
        prefetch: int | None = None,
        sources: dict[str, Source] | None = None,
        metrics: WorkerMetrics | None = None,
        hooks: Sequence[Hook] | None = None,
        connection_name: str = "hookq-worker",
        adopt: Collection[str] = (),
        deployed: Collection[str] | None = None,
    ) -> None:
        """``hooks``: a team's hooks (default: those of ``HOOKQ_HOOKS`` and the entry points);
        the built-ins (tracing when on, metrics) are added around them. ``adopt``: handlers
        whose queue this worker takes over from another origin; ``deployed``: every handler of
        this deployment (default: ``specs``), so that the others recorded are orphans
        (``hookq.declarations``)."""
        check_timeouts(specs, settings)
        self.settings = settings
        self.specs = dict(specs)
        self.names = Names(settings.namespace)
        self.metrics = metrics or WorkerMetrics()
        self.in_flight = InFlight()
        self._deadlines = Deadlines()
        # Read when scraped: nothing to update per message.
        self.metrics.in_flight.set_function(lambda: len(self.in_flight))
        self._prefetch = prefetch or settings.prefetch
        self._sources = sources if sources is not None else build_sources(settings)
        self.hooks = Hooks(
            [
                *builtin_hooks(settings, self.specs, self.metrics, self.in_flight),
                *(team_hooks(settings) if hooks is None else hooks),
                MetricsHook(self.metrics, self._sources),
            ]
        )
        self._validator = Validator(self._sources)
        self._connection_name = connection_name
        self._adopt = frozenset(adopt)
        self._deployed = frozenset(self.specs if deployed is None else deployed)
        # Made but never connected when every handler is transactional (Redis not needed).
        self._redis = redis_client(settings.redis_url)
        self.gate = RedisGate(self._redis, self.in_flight, on_change=self._redis_changed)
        self._dedupe = Dedupe(
            self._redis, self.gate, self.names, settings.claim_lease, settings.dedupe_ttl
        )
        self.needs_redis = any(not spec.transactional for spec in self.specs.values())
        self.inbox: Inbox | None = None
        if any(spec.transactional for spec in self.specs.values()):
            from hookq.inbox.store import Inbox  # asyncpg: only for transactional handlers

            self.inbox = Inbox(settings, self.in_flight)
        self._connection: AbstractRobustConnection | None = None
        self._consumers: list[Consumer] = []
        self._started = False
        self._closed = False

    def _redis_changed(self, available: bool) -> None:
        self.metrics.redis_available.set(1 if available else 0)

    async def start(self) -> None:
        """Wait for Redis and PostgreSQL (those the handlers need) and the broker, declare
        every handler's topology and consume. A missing or outdated inbox schema raises
        ``SchemaError`` (a ``SettingsError``: exit 2) before anything is consumed."""
        log.info("worker hooks", hooks=[hook.name for hook in self.hooks.all])
        if self.needs_redis:
            await wait_for_redis(self._redis, self.settings.redis_url)
            self.gate.watch()
        if self.inbox is not None:
            await self.inbox.start()
        self._connection = await connect_robust(self.settings.amqp_url, self._connection_name)
        # Recorded first, so that a foreign handler is refused before its queue is bound;
        # bindings no longer declared are removed once the queues are declared.
        async with declaring(
            self.settings.amqp_url,
            f"{self._connection_name}-declarations",
            self.names,
            self.specs,
            adopt=self._adopt,
            deployed=self._deployed,
        ):
            for spec in self.specs.values():
                await self._consume(self._connection, spec)
        self._started = True
        log.info("worker consuming", handlers=sorted(self.specs), prefetch=self._prefetch)

    def not_ready(self) -> list[str]:
        """What keeps this worker from doing its work now (empty: ready), for ``/readyz``."""
        reasons = []
        connection = self._connection
        if not self._started:
            needed = [*(["Redis"] if self.needs_redis else []), "the broker"]
            if self.inbox is not None:
                needed.insert(-1, "PostgreSQL")
            reasons.append(f"starting: waiting for {', '.join(needed[:-1])} and {needed[-1]}")
        elif connection is None or connection.is_closed or not connection.connected.is_set():
            reasons.append("broker not connected")
        else:
            stopped = [c.queue.name for c in self._consumers if not c.running]
            if stopped:
                reasons.append(f"not consuming {', '.join(stopped)}")
        if self.needs_redis and not self.gate.available:
            reasons.append("redis unavailable")
        if self.inbox is not None and not self.inbox.gate.available:
            reasons.append("postgresql unavailable")
        if self.in_flight.stopping:
            reasons.append("stopping")
        return reasons

    async def _consume(self, connection: AbstractRobustConnection, spec: HandlerSpec) -> None:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.set_qos(prefetch_count=self._prefetch)
        queue = await declare_handler(
            channel,
            self.names,
            spec.name,
            spec.patterns,
            spec.retry_delays,
            self.settings.delivery_limit,
        )
        _events, direct = await declare_exchanges(channel, self.names)
        claimer: Claimer
        if spec.transactional:
            assert self.inbox is not None
            claimer = self.inbox.claimer(spec, self.in_flight)
        else:
            claimer = RedisClaimer(self._dedupe, spec.name, self.in_flight)
        pipeline = Pipeline(
            spec,
            validator=self._validator,
            claimer=claimer,
            settler=Settler(spec, self.names, Outbox(direct, self.settings.publish_timeout)),
            hooks=self.hooks,
            in_flight=self.in_flight,
            deadlines=self._deadlines,
        )
        self._consumers.append(await Consumer.start(channel, queue, pipeline))

    async def stop(self) -> None:
        """Stop consuming, let handlers in flight finish within the grace, requeue the rest."""
        if self._closed:
            return
        for consumer in self._consumers:
            try:
                # Bounded: a robust channel waits for a reconnection that may never come.
                async with asyncio.timeout(5.0):
                    await consumer.cancel()
            except Exception as exc:  # a lost connection: its deliveries are requeued anyway
                log.warning("consumer cancel failed", queue=consumer.queue.name, error=repr(exc))
        self._consumers.clear()
        waiting = len(self.in_flight)
        late = await self.in_flight.drain(self.settings.shutdown_grace)
        log.info("worker drained", in_flight=waiting, requeued_after_grace=late)
        await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # A hard stop: runs still going are interrupted (requeued, their claims released),
        # not left to finish as they are when only the connection drops.
        await self.in_flight.drain(grace=0)
        await self.gate.close()
        await self._dedupe.close()
        if self.inbox is not None:
            await self.inbox.close()
        if self._connection is not None:
            await self._connection.close()
        await self._deadlines.close()
        await self.hooks.close()
        await self._redis.aclose()


async def serve(
    settings: Settings,
    specs: Mapping[str, HandlerSpec],
    prefetch: int | None,
    hooks: Sequence[Hook] | None = None,
    *,
    adopt: Collection[str] = (),
    deployed: Collection[str] | None = None,
) -> None:
    """Run a worker until SIGTERM or SIGINT, with its health and metrics endpoint, which is
    bound before any connection is made: a port in use fails at once (``SettingsError``)."""
    worker = Worker(settings, specs, prefetch=prefetch, hooks=hooks, adopt=adopt, deployed=deployed)
    health: web.AppRunner | None = None
    if settings.worker_metrics_port:
        health = await serve_health(
            worker.metrics,
            worker.not_ready,
            settings.worker_metrics_host,
            settings.worker_metrics_port,
        )
    # What start-up built (modules, the sources' pydantic models: ~100,000 objects) lives as
    # long as the process: frozen, full collections stop walking it. Unfrozen, each took ~50 ms
    # and ran every ~1,700 events, a stall of every message in flight (docs/benchmarks.md).
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        starting = asyncio.create_task(worker.start())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()  # stopped while waiting for the broker: nothing consumed yet
        else:
            starting.result()  # a failed start raises here
            await stopping
            log.info("worker stopping")
            await worker.stop()
    finally:
        await worker.close()
        if health is not None:
            await health.cleanup()
    log.info("worker stopped")


def select(specs: Mapping[str, HandlerSpec], wanted: Sequence[str]) -> dict[str, HandlerSpec]:
    """The handlers named in ``wanted`` (all when empty); ``KeyError`` names an unknown one."""
    if not wanted:
        return dict(specs)
    unknown = [name for name in wanted if name not in specs]
    if unknown:
        raise KeyError(", ".join(unknown))
    return {name: specs[name] for name in wanted}
