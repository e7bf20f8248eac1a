"""Prometheus metrics of one worker process (a registry of its own, so tests can build many),
served by ``hookq.worker.health``, and the hook that keeps them."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from hookq.sources.base import Source
from hookq.worker.hooks import Delivery, Hook
from hookq.worker.outcomes import Outcome

OTHER = "other"  # the event_type label of every type a source's catalogue does not list


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


class MetricsHook(Hook):
    """The worker's metrics, as the first hook: every outcome counted, every run timed.

    The ``event_type`` label takes the types of the source's catalogue and ``other``: any sender
    with a credential could otherwise grow the label set (and ``/metrics``) without bound."""

    def __init__(self, metrics: WorkerMetrics, sources: Mapping[str, Source]) -> None:
        self._metrics = metrics
        self._catalogued = {name: frozenset(source.events) for name, source in sources.items()}
        self._durations: dict[str, Histogram] = {}

    @property
    def name(self) -> str:
        return "metrics"

    def settled(self, delivery: Delivery, outcome: Outcome) -> None:
        source = delivery.source if delivery.source in self._catalogued else OTHER
        self._metrics.count(source, self.event_type_label(delivery), delivery.handler, outcome)
        if delivery.run_seconds is not None:
            child = self._durations.get(delivery.handler)
            if child is None:
                child = self._durations[delivery.handler] = self._metrics.handler_seconds.labels(
                    delivery.handler
                )
            child.observe(delivery.run_seconds)

    def event_type_label(self, delivery: Delivery) -> str:
        known = self._catalogued.get(delivery.source)
        return delivery.event_type if known and delivery.event_type in known else OTHER
