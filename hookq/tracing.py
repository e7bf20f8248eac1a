"""OpenTelemetry tracing: off unless OpenTelemetry's own variables turn it on
(``OTEL_TRACES_EXPORTER=otlp`` or ``console``; ``OTEL_SERVICE_NAME``,
``OTEL_EXPORTER_OTLP_ENDPOINT``... are read by the SDK as usual).

The ingress continues the caller's ``traceparent`` (or starts a trace) with a server span per
webhook and puts its context in the message headers (``hookq.message.Header.TRACEPARENT``);
the worker's spans (one per message, and validate, claim, run and settle inside it) are its
children (``hookq.worker.tracing``), with the messaging semantic conventions' attributes; a
handler's own spans nest under its run. Imported only when tracing is on: off, hookq pays
nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind

from hookq.settings import Settings

TRACER_NAME = "hookq"


def configure(settings: Settings) -> None:
    """Install the tracer provider once per process, exporting as ``OTEL_TRACES_EXPORTER``
    says (a comma-separated list of ``otlp`` and ``console``)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create())
    for name in settings.otel_traces_exporter.split(","):
        if name == "none":
            continue
        # The console exporter is for looking: each span at once. OTLP is batched.
        processor = SimpleSpanProcessor if name == "console" else BatchSpanProcessor
        provider.add_span_processor(processor(_exporter(name)))
    trace.set_tracer_provider(provider)


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    # The settings refuse any other name at start-up (hookq.settings).
    raise ValueError(f"OTEL_TRACES_EXPORTER: {name!r} is not supported (otlp, console, none)")


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


# The ingress ------------------------------------------------------------------------------


@contextlib.contextmanager
def receiving(
    headers: Mapping[str, str], source: str, route: str
) -> Iterator[tuple[Span, dict[str, str]]]:
    """The ingress's server span for one webhook, continuing the caller's trace; yields it and
    the trace context to put in the message headers."""
    parent = extract(dict(headers))
    with tracer().start_as_current_span(
        f"POST {route}",
        context=parent,
        kind=SpanKind.SERVER,
        attributes={"http.request.method": "POST", "http.route": route, "hookq.source": source},
    ) as span:
        carrier: dict[str, str] = {}
        inject(carrier)
        yield span, carrier
