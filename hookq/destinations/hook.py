"""The destinations' gate: before a destination's message is taken, its circuit must let it
through and its rate limit give it a slot (``hookq.destinations.state``).

A message waits here, unacked, before it is validated or claimed: it burns no attempt (its
``hookq-attempt`` is not raised and the broker does not redeliver it, so its queue's delivery
count does not move), and once the handler's prefetch window is full of waiting messages the
broker stops sending more: the rest wait in the queue. Each handler has its own channel and
prefetch, so a waiting destination holds up no other handler.

Redis unreachable: the gate waits for it rather than failing the message (a requeue would
count towards the queue's delivery limit).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import structlog
from prometheus_client import Counter, Gauge

from hookq.destinations.delivery import Forwarder
from hookq.destinations.state import Circuit
from hookq.redis_client import REDIS_DOWN
from hookq.worker.hooks import Delivery, Hook, Stage
from hookq.worker.inflight import InFlight
from hookq.worker.metrics import WorkerMetrics

log = structlog.get_logger("hookq.destinations")

MAX_POLL = 1.0  # seconds between two looks at a closed gate: a reset is seen within it


class DestinationHook(Hook):
    def __init__(
        self,
        forwarders: Sequence[Forwarder],
        metrics: WorkerMetrics | None,
        in_flight: InFlight | None = None,
    ) -> None:
        self._in_flight = in_flight
        self._by_handler = {f.destination.name: f for f in forwarders}
        self._transports = {id(f.transport): f.transport for f in forwarders}
        registry = metrics.registry if metrics is not None else None
        self._circuit = Gauge(
            "hookq_destination_circuit",
            "A destination's circuit as this worker last saw it: 0 closed, 1 open, "
            "2 half-open (probing), 3 disabled (answered 410 Gone)",
            ["destination"],
            registry=registry,
        )
        self._held = Gauge(
            "hookq_destination_held",
            "Messages this worker holds unacked at a destination's gate (circuit or rate limit)",
            ["destination"],
            registry=registry,
        )
        self._probes = Counter(
            "hookq_destination_probes",
            "Messages this worker sent as a half-open circuit's probe",
            ["destination"],
            registry=registry,
        )
        for name in self._by_handler:
            self._circuit.labels(name).set(0)
            self._held.labels(name).set(0)
            self._probes.labels(name)

    @property
    def name(self) -> str:
        return "destinations"

    def around(self, stage: Stage, delivery: Delivery) -> AbstractAsyncContextManager[Any] | None:
        if stage is not Stage.MESSAGE:
            return None
        forwarder = self._by_handler.get(delivery.handler)
        return None if forwarder is None else self._admitted(forwarder)

    @contextlib.asynccontextmanager
    async def _admitted(self, forwarder: Forwarder) -> AsyncIterator[None]:
        held = self._held.labels(forwarder.destination.name)
        held.inc()
        try:
            # Waiting outside any handler: a stopping worker cancels it at once (the message
            # goes back to the queue) instead of giving it the shutdown grace.
            with self._in_flight.waiting() if self._in_flight else contextlib.nullcontext():
                await self._through_circuit(forwarder)
                wait = await self._retrying(forwarder, forwarder.state.reserve)
                if wait > 0:
                    await asyncio.sleep(wait)
        finally:
            held.dec()
        yield

    async def _through_circuit(self, forwarder: Forwarder) -> None:
        gauge = self._circuit.labels(forwarder.destination.name)
        while True:
            admission = await self._retrying(forwarder, forwarder.state.admit)
            gauge.set(admission.circuit)
            if admission.wait <= 0:
                if admission.circuit is Circuit.HALF_OPEN:
                    self._probes.labels(forwarder.destination.name).inc()
                return
            await asyncio.sleep(min(admission.wait, MAX_POLL))

    async def _retrying(self, forwarder: Forwarder, call: Any) -> Any:
        while True:
            try:
                return await call()
            except REDIS_DOWN as exc:
                log.warning(
                    "redis unreachable: destination waits",
                    destination=forwarder.destination.name,
                    error=f"{type(exc).__name__}: {exc}",
                )
                await asyncio.sleep(MAX_POLL)

    async def close(self) -> None:
        for transport in self._transports.values():
            await transport.close()
