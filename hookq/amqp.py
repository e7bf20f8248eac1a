"""What the ingress and the worker share about talking to RabbitMQ."""

from __future__ import annotations

import aio_pika
import aiormq

# Everything a confirmed publish can raise when the broker did not take the message: the
# caller answers 503 (ingress) or requeues the original (worker), never acknowledges it.
PUBLISH_FAILURES = (
    TimeoutError,
    ConnectionError,
    aio_pika.exceptions.AMQPError,
    aiormq.exceptions.AMQPError,
    RuntimeError,  # aiormq raises it for a write on a closing transport
)

# Seconds between reconnection attempts of a robust connection: short, because providers
# retry a 503 for minutes at most, and a worker away from its queues is work piling up.
RECONNECT_INTERVAL = 1.0
