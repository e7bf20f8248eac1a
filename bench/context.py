"""What every part of a run shares: where the services are, its namespace, its sizes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.payloads import LIVECHAT_SECRET, PLAIN_SECRET
from hookq.topology import Names


@dataclass
class BenchContext:
    amqp_url: str
    redis_url: str
    names: Names
    run_dir: Path  # logs of the processes under test, generated scripts, handler records
    seconds: float  # per measured load run
    concurrency: int  # wrk connections
    rate: float  # end-to-end events/s
    worker_events: int  # messages pre-loaded for the worker runs
    warmup: bool
    rounds: int = 1  # ingress and worker: alternating runs of the ceiling and hookq; medians
    prefetch: int = 32  # the worker's (Settings.prefetch by default); the ack-only consumer's too
    declared_queues: list[str] = field(default_factory=list)
    postgres_url: str | None = None  # the inbox part's PostgreSQL
    # What a part leaves to undo at the end of the run (besides queues and Redis keys).
    cleanups: list[Callable[[BenchContext], Awaitable[None]]] = field(default_factory=list)

    def hookq_env(self, **extra: str) -> dict[str, str]:
        """The ``HOOKQ_*`` settings of a hookq process in this run's namespace."""
        env = {
            "HOOKQ_AMQP_URL": self.amqp_url,
            "HOOKQ_REDIS_URL": self.redis_url,
            "HOOKQ_NAMESPACE": self.names.namespace,
            "HOOKQ_SOURCES": "plain,livechat",
            "HOOKQ_PLAIN_SECRETS": PLAIN_SECRET,
            "HOOKQ_LIVECHAT_SECRETS": LIVECHAT_SECRET,
            "HOOKQ_INGRESS_HOST": "127.0.0.1",
            "HOOKQ_PREFETCH": str(self.prefetch),
            "HOOKQ_LOG_LEVEL": "INFO",
            "HOOKQ_LOG_FORMAT": "json",
        }
        env.update(extra)
        return env

    def log_path(self, what: str) -> Path:
        return self.run_dir / f"{what}.log"
