"""Prometheus metrics of one ingress process (a registry of its own, so tests can build many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "IngressMetrics"]


class IngressMetrics:
    def __init__(self, multiprocess: bool = False) -> None:
        """``multiprocess``: one of several ingress processes sharing a port (``--processes``):
        whichever answers a scrape renders the sum of all of them, from the files
        prometheus_client keeps in ``PROMETHEUS_MULTIPROC_DIR`` (set by the supervisor)."""
        self._multiprocess = multiprocess
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hookq_ingress_requests",
            "Webhook requests by source and HTTP status",
            ["source", "status"],
            registry=self.registry,
        )
        self.publish_seconds = Histogram(
            "hookq_ingress_publish_seconds",
            "Time from publish to broker confirm",
            ["source"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, int], Counter] = {}
        self._publish_children: dict[str, Histogram] = {}

    # Per request, through a cache of the labelled children: ``labels()`` takes a lock and
    # builds a key each time, a visible share of a request's cost (bench/). Sources and
    # statuses are few, so the caches stay small.
    def count_request(self, source: str, status: int) -> None:
        child = self._request_children.get((source, status))
        if child is None:
            child = self._request_children[(source, status)] = self.requests.labels(
                source, str(status)
            )
        child.inc()

    def observe_publish(self, source: str, seconds: float) -> None:
        child = self._publish_children.get(source)
        if child is None:
            child = self._publish_children[source] = self.publish_seconds.labels(source)
        child.observe(seconds)

    def render(self) -> bytes:
        if not self._multiprocess:
            return generate_latest(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
