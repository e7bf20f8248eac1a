"""Ingress throughput and latency, hookq beside the minimal confirmed publisher.

Both servers run at once as their own processes in the run's namespace and publish to the
same exchange, whose unrouted keeper queue takes every message (no handler is bound, so the
broker does the same work for both). wrk drives each in turn with the same requests at the
same concurrency; the keeper queue is purged between runs so each starts from the same state.
The ingress runs with the event archive off (``HOOKQ_ARCHIVE=off``), so that the broker does the
same work for both; what the archive costs is the ``archive`` part's measure
(``bench.archive_bench``).
"""

from __future__ import annotations

import asyncio
import math
import subprocess
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
from aio_pika.abc import AbstractRobustConnection

from bench import broker
from bench.context import BenchContext
from bench.payloads import WebhookRequest, livechat_requests, plain_request
from bench.procs import (
    CpuUse,
    PeakRss,
    broker_pid,
    check_running,
    child_env,
    free_port,
    hookq_command,
    python_module,
    started,
    wait_until,
)
from bench.report import Row, mb, ms, rate, ratio
from bench.wrk import WrkResult, run_wrk
from hookq.topology import declare_exchanges

TARGET_RATIO = 0.85

Requests = Callable[[], Sequence[WebhookRequest]]
KINDS: tuple[tuple[str, Requests], ...] = (
    ("plain", lambda: [plain_request()]),
    ("livechat", livechat_requests),
)


def http_ok(url: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as response,
            ):
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    return check


def port_open(port: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        await writer.wait_closed()
        return True

    return check


async def run_ingress(ctx: BenchContext) -> list[Row]:
    connection = await broker.connect(ctx.amqp_url, "bench-ingress-setup")
    async with connection:
        await declare_exchanges(await connection.channel(), ctx.names)
        hookq_port, ceiling_port = free_port(), free_port()
        hookq_env = child_env(
            ctx.hookq_env(HOOKQ_INGRESS_PORT=str(hookq_port), HOOKQ_ARCHIVE="off")
        )
        ceiling_cmd = python_module(
            "bench.ceilings",
            "publisher",
            f"--port={ceiling_port}",
            f"--amqp-url={ctx.amqp_url}",
            f"--exchange={ctx.names.events_exchange}",
        )
        with (
            started(hookq_command("ingress"), hookq_env, ctx.log_path("ingress")) as ingress,
            started(ceiling_cmd, child_env({}), ctx.log_path("ceiling-publisher")) as ceiling,
        ):
            await wait_until(http_ok(f"http://127.0.0.1:{hookq_port}/readyz"), 30, "ingress")
            await wait_until(port_open(ceiling_port), 30, "ceiling publisher")
            rows: list[Row] = []
            with PeakRss(ingress.pid) as rss:
                for kind, make in KINDS:
                    ceiling_runs, hookq_runs = [], []
                    # Rounds alternate the two servers, so a neighbour's burst of load on a
                    # shared machine hits both alike; the median round of each is reported.
                    for _ in range(ctx.rounds):
                        ceiling_runs.append(
                            await _load(ctx, ceiling, ceiling_port, make, connection)
                        )
                        hookq_runs.append(await _load(ctx, ingress, hookq_port, make, connection))
                    rows += _rows(ctx, kind, median(hookq_runs), median(ceiling_runs))
                check_running(ingress, "hookq ingress", ctx.log_path("ingress"))
                check_running(ceiling, "ceiling publisher", ctx.log_path("ceiling-publisher"))
            rows.append(
                Row(
                    "memory",
                    f"ingress peak RSS under wrk ({ctx.concurrency} connections)",
                    mb(rss.peak),
                    target="<= 100 MB",
                    met=rss.peak <= 100 * 2**20,
                    figures={"peak_rss_bytes": rss.peak},
                )
            )
            return rows


@dataclass(frozen=True)
class LoadRun:
    wrk: WrkResult
    # CPU microseconds per answered request, of the server under test and of RabbitMQ: where
    # a difference in throughput comes from (docs/benchmarks.md).
    server_us: float
    broker_us: float


async def _load(
    ctx: BenchContext,
    server: subprocess.Popen[bytes],
    port: int,
    make: Requests,
    connection: AbstractRobustConnection,
) -> LoadRun:
    url = f"http://127.0.0.1:{port}"
    if ctx.warmup:
        await asyncio.to_thread(
            run_wrk, url, make(), seconds=1, connections=ctx.concurrency, script_dir=ctx.run_dir
        )
    broker_process = broker_pid()
    pids = {"server": server.pid} | ({"broker": broker_process} if broker_process else {})
    with CpuUse(pids) as cpu:
        result = await asyncio.to_thread(
            run_wrk,
            url,
            make(),  # made just before the run: Plain's timestamp must be fresh
            seconds=ctx.seconds,
            connections=ctx.concurrency,
            script_dir=ctx.run_dir,
        )
    queued, _consumers = await broker.queue_counts(connection, ctx.names.unrouted_queue)
    await broker.purge(connection, ctx.names.unrouted_queue)
    if result.errors or queued < result.requests:
        raise RuntimeError(
            f"{url}: {result.errors} errors, {queued} queued for {result.requests} answered"
        )
    per_request = 1e6 / max(result.requests, 1)
    return LoadRun(
        result,
        cpu.seconds.get("server", math.nan) * per_request,
        cpu.seconds.get("broker", math.nan) * per_request,
    )


def _rows(ctx: BenchContext, kind: str, hookq: LoadRun, ceiling: LoadRun) -> list[Row]:
    share = ratio(hookq.wrk.rps, ceiling.wrk.rps)
    figures = {"hookq": _figures(hookq), "ceiling": _figures(ceiling)}
    return [
        Row(
            f"ingress {kind}",
            f"requests/s, {ctx.concurrency} connections",
            rate(hookq.wrk.rps),
            f"{rate(ceiling.wrk.rps)} (minimal confirmed publisher)",
            share,
            f">= {TARGET_RATIO}x reference",
            share is not None and share >= TARGET_RATIO,
            figures,
        ),
        Row(
            f"ingress {kind}",
            "latency p50 / p99",
            ms(hookq.wrk.p50_ms, hookq.wrk.p99_ms),
            ms(ceiling.wrk.p50_ms, ceiling.wrk.p99_ms),
        ),
        Row(
            f"ingress {kind}",
            "CPU per request: server / RabbitMQ",
            f"{hookq.server_us:.0f} / {hookq.broker_us:.0f} us",
            f"{ceiling.server_us:.0f} / {ceiling.broker_us:.0f} us",
        ),
    ]


def median(runs: list[LoadRun]) -> LoadRun:
    return sorted(runs, key=lambda run: run.wrk.rps)[len(runs) // 2]


def _figures(run: LoadRun) -> dict[str, float]:
    result = run.wrk
    return {
        "requests": result.requests,
        "seconds": result.seconds,
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "max_ms": result.max_ms,
        "errors": result.errors,
        "server_cpu_us_per_request": run.server_us,
        "broker_cpu_us_per_request": run.broker_us,
    }
