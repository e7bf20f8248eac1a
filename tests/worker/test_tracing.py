"""OpenTelemetry tracing: off unless OTEL_TRACES_EXPORTER turns it on; on, the caller's trace
continues through the ingress, the message and the worker, down to a handler's own spans."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from aio_pika.abc import AbstractChannel
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.message import Header
from hookq.settings import Settings, SettingsError, load_settings
from hookq.sources.standard.models import StandardEvent
from hookq.worker.tracing import TracingHook
from tests.ingress import signing
from tests.ingress.test_ingress import running_ingress
from tests.support.events import eventually
from tests.worker.conftest import StartWorker

CALLER_TRACE = 0x0AF7651916CD43DD8448EB211C80319C
CALLER_SPAN = 0xB7AD6B7169203331
TRACEPARENT = f"00-{CALLER_TRACE:032x}-{CALLER_SPAN:016x}-01"

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans of this test, kept in memory (the process's tracer provider is set once)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def named(spans: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [span for span in spans.get_finished_spans() if span.name == name]
    assert len(found) == 1, [span.name for span in spans.get_finished_spans()]
    return found[0]


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_one_trace_from_the_callers_request_to_the_handlers_own_span(
    settings: Settings,
    channel: AbstractChannel,
    start_worker: StartWorker,
    spans: InMemorySpanExporter,
) -> None:
    traced = settings.model_copy(update={"otel_traces_exporter": "console"})
    tracer = trace.get_tracer("team-code")
    seen: list[str] = []

    async def sync(event: StandardEvent, ctx: HandlerContext) -> None:
        with tracer.start_as_current_span("crm.update"):
            seen.append(ctx.delivery_id)

    spec = HandlerSpec(name="traced", patterns=("standard.#",), func=sync)
    worker = await start_worker(traced, spec)
    assert [hook.name for hook in worker.hooks.all] == ["tracing", "metrics"]
    async with running_ingress(traced) as ingress:
        body, headers = signing.standard_request({"type": "invoice.paid"}, msg_id="msg_t1")
        response = await ingress.post(
            "/webhooks/standard", data=body, headers=headers | {"traceparent": TRACEPARENT}
        )
        assert response.status == 200
        await eventually(lambda: seen == ["msg_t1"])
        await eventually(lambda: any(s.name == "hookq.settle" for s in spans.get_finished_spans()))

    server = named(spans, "POST /webhooks/{source}")
    process = named(spans, f"process {settings.namespace}.traced")
    stages = {
        name: named(spans, f"hookq.{name}") for name in ("validate", "claim", "run", "settle")
    }
    own = named(spans, "crm.update")
    # One trace, the caller's.
    for span in (server, process, own, *stages.values()):
        assert span.context is not None
        assert span.context.trace_id == CALLER_TRACE
    assert server.kind is SpanKind.SERVER
    assert parent_of(server) == CALLER_SPAN
    assert process.kind is SpanKind.CONSUMER
    assert server.context is not None
    assert parent_of(process) == server.context.span_id
    assert process.context is not None
    assert {parent_of(span) for span in stages.values()} == {process.context.span_id}
    assert stages["run"].context is not None
    assert parent_of(own) == stages["run"].context.span_id
    attributes: dict[str, Any] = dict(process.attributes or {})
    assert attributes["messaging.system"] == "rabbitmq"
    assert attributes["messaging.destination.name"] == f"{settings.namespace}.traced"
    assert attributes["messaging.rabbitmq.destination.routing_key"] == "standard.invoice.paid"
    assert attributes["hookq.delivery_id"] == "msg_t1"
    assert attributes["hookq.outcome"] == "processed"


async def test_off_by_default_no_hook_and_no_trace_context_in_the_message(
    settings: Settings, start_worker: StartWorker
) -> None:
    assert not settings.tracing_enabled

    async def ok(event: StandardEvent, ctx: HandlerContext) -> None:
        return None

    worker = await start_worker(settings, HandlerSpec(name="plain", patterns=("x.y",), func=ok))
    assert [hook.name for hook in worker.hooks.all] == ["metrics"]
    assert not any(isinstance(hook, TracingHook) for hook in worker.hooks.all)


def test_tracing_is_imported_only_when_on() -> None:
    code = (
        "import sys\n"
        "from hookq.settings import load_settings\n"
        "from hookq.worker.hook_registry import builtin_hooks\n"
        "builtin_hooks(load_settings())\n"
        "print('hookq.tracing' in sys.modules, 'hookq.worker.tracing' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKQ_", "OTEL_"))}
    off = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert off.stdout.strip() == "False False"
    on = subprocess.run(
        [sys.executable, "-c", code],
        env=env | {"OTEL_TRACES_EXPORTER": "console"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert on.stdout.strip() == "True True"


def test_an_unknown_exporter_is_refused_at_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin-please")
    with pytest.raises(SettingsError, match=r"^invalid settings:\n  OTEL_TRACES_EXPORTER: .*"):
        load_settings()


def test_the_trace_context_header_names_are_the_w3c_ones() -> None:
    assert (Header.TRACEPARENT, Header.TRACESTATE) == ("traceparent", "tracestate")
