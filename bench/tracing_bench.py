"""What tracing costs: the end-to-end run with tracing off, then on, in one invocation.

On, both processes export every span over OTLP/HTTP to a sink in this process that answers 200
(what a collector does); the figures are the end-to-end latency and the CPU each process spends
per event, off and on, and their ratio. Off, hookq imports nothing of OpenTelemetry: the "off"
run is the e2e part's own configuration.
"""

from __future__ import annotations

from aiohttp import web

from bench.context import BenchContext
from bench.e2e import E2eRun, measure_e2e
from bench.procs import free_port
from bench.report import Row, ms
from bench.stats import percentile


class OtlpSink:
    """Accepts OTLP/HTTP trace exports and counts them."""

    def __init__(self) -> None:
        self.exports = 0
        self.bytes = 0
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> OtlpSink:
        async def traces(request: web.Request) -> web.Response:
            self.exports += 1
            self.bytes += len(await request.read())
            return web.Response(status=200, content_type="application/x-protobuf")

        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/v1/traces", traces)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def run_tracing(ctx: BenchContext) -> list[Row]:
    off = await measure_e2e(ctx, "tracing-off")
    async with OtlpSink() as sink:
        on = await measure_e2e(
            ctx,
            "tracing-on",
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{sink.port}",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_SERVICE_NAME="hookq-bench",
            OTEL_BSP_SCHEDULE_DELAY="200",
        )
    figures_off, figures_on = _figures(off), _figures(on)
    rows = [
        Row(
            "tracing",
            f"end to end p50 / p99 at {ctx.rate:g} events/s: off | on",
            f"{ms(figures_off['p50_ms'], figures_off['p99_ms'])} | "
            f"{ms(figures_on['p50_ms'], figures_on['p99_ms'])}",
            figures={"off": figures_off, "on": figures_on, "otlp_exports": sink.exports},
        )
    ]
    for process in ("ingress", "worker"):
        cpu_off, cpu_on = figures_off[f"{process}_us"], figures_on[f"{process}_us"]
        rows.append(
            Row(
                "tracing",
                f"{process} CPU per event: off | on (every span exported over OTLP)",
                f"{cpu_off:.0f} | {cpu_on:.0f} us",
                ratio=cpu_on / cpu_off if cpu_off else None,
                figures={"off_us": cpu_off, "on_us": cpu_on},
            )
        )
    if sink.exports == 0:
        rows[0].figures["error"] = "tracing on, but nothing was exported"
    return rows


def _figures(run: E2eRun) -> dict[str, float]:
    counted = run.sent[run.warmup :]
    latencies = [
        (run.calls[s.delivery_id] - s.due) * 1000 for s in counted if s.delivery_id in run.calls
    ]
    events = max(1, len(run.sent))
    return {
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "ingress_us": 1e6 * run.cpu.seconds.get("ingress", 0.0) / events,
        "worker_us": 1e6 * run.cpu.seconds.get("worker", 0.0) / events,
    }
