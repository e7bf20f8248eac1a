"""The worker's spans, as a hook (``hookq.tracing`` says when tracing is on, and how)."""

from __future__ import annotations

import contextlib
from contextlib import AbstractAsyncContextManager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.propagate import extract
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from hookq.message import trace_context
from hookq.settings import Settings
from hookq.tracing import configure, tracer
from hookq.worker.hooks import Delivery, Hook, Stage
from hookq.worker.outcomes import Outcome

_FAILED = frozenset({Outcome.DEAD, Outcome.INVALID, Outcome.RETRIED})


class TracingHook(Hook):
    """The worker's spans, as a hook (the outermost: its spans enclose the other hooks')."""

    def __init__(self, settings: Settings) -> None:
        configure(settings)
        self._namespace = settings.namespace

    @property
    def name(self) -> str:
        return "tracing"

    def around(self, stage: Stage, delivery: Delivery) -> AbstractAsyncContextManager[Any]:
        if stage is Stage.MESSAGE:
            return self._message_span(delivery)
        return self._stage_span(stage, delivery)

    @contextlib.asynccontextmanager
    async def _message_span(self, delivery: Delivery) -> Any:
        parent = extract(trace_context(delivery.headers))
        queue = f"{self._namespace}.{delivery.handler}"
        envelope = delivery.envelope
        attributes: dict[str, Any] = {
            "messaging.system": "rabbitmq",
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": queue,
            "messaging.consumer.group.name": delivery.handler,
            "hookq.handler": delivery.handler,
        }
        if envelope is not None:
            attributes |= {
                "messaging.message.id": envelope.message_id,
                "messaging.rabbitmq.destination.routing_key": envelope.routing_key,
                "hookq.source": envelope.source,
                "hookq.event_type": envelope.event_type,
                "hookq.delivery_id": envelope.delivery_id,
                "hookq.attempt": envelope.attempt,
            }
        token = otel_context.attach(parent)
        try:
            with tracer().start_as_current_span(
                f"process {queue}", kind=SpanKind.CONSUMER, attributes=attributes
            ) as span:
                delivery.extra["span"] = span
                yield
        finally:
            otel_context.detach(token)

    @contextlib.asynccontextmanager
    async def _stage_span(self, stage: Stage, delivery: Delivery) -> Any:
        with tracer().start_as_current_span(f"hookq.{stage.value}"):
            yield

    def settled(self, delivery: Delivery, outcome: Outcome) -> None:
        span = delivery.extra.get("span")
        if not isinstance(span, Span):
            return
        span.set_attribute("hookq.outcome", outcome.value)
        if outcome in _FAILED and delivery.failure is not None:
            span.set_status(Status(StatusCode.ERROR, delivery.failure.error_type))
