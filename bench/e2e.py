"""End-to-end latency at a fixed rate, and the peak memory of both processes under it.

An open-loop client: request ``n`` is due at ``t0 + n / rate`` and is sent then whether or not
earlier ones were answered, and its latency counts from that due time, so a stall shows in
the figures instead of slowing the client down (no coordinated omission). The no-op handler
notes when it was called for each delivery id; latency is that time minus the due time (one
machine, one clock). The first second is a warm-up, sent but not counted.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import broker
from bench.context import BenchContext
from bench.http_client import Pool, serialise
from bench.ingress_bench import http_ok
from bench.noop_handler import NAME, RECORD_ENV, read_records
from bench.payloads import WebhookRequest, plain_requests
from bench.procs import (
    CpuUse,
    PeakRss,
    broker_pid,
    check_running,
    child_env,
    free_port,
    hookq_command,
    started,
    wait_until,
)
from bench.report import Row, mb, ms
from bench.stats import percentile
from bench.worker_bench import declare_bench_queues

TARGET_P99_MS = 25.0
WARMUP_SECONDS = 1.0
CONNECTIONS = 256  # the client's limit, as an HTTP client's pool has one
SETTLE_SECONDS = 30.0  # how long the last events may take to reach the handler


@dataclass(frozen=True, slots=True)
class Sent:
    delivery_id: str
    due: float  # Unix time the request was scheduled for
    late: float  # seconds the client started after its due time
    status: int  # 0: no answer (connection error)
    answered: float  # Unix time of the answer


async def run_e2e(ctx: BenchContext) -> list[Row]:
    run = await measure_e2e(ctx)
    rows = _rows(ctx, run.sent[run.warmup :], run.calls, run.peaks)
    rows[0].figures["cpu"] = cpu_figures(run.cpu, len(run.sent))
    rows[0].figures["connections_opened"] = run.connections
    return rows


@dataclass(frozen=True)
class E2eRun:
    sent: list[Sent]
    warmup: int  # the first requests, sent but not counted
    calls: dict[str, float]
    peaks: tuple[int, int]  # ingress, worker peak RSS
    cpu: CpuUse
    connections: int


async def measure_e2e(ctx: BenchContext, label: str = "e2e", **env: str) -> E2eRun:
    """One open-loop run through a real ingress and worker (``env``: more variables for both)."""
    await declare_bench_queues(ctx, NAME)
    record = ctx.run_dir / f"{label}-calls.tsv"
    port = free_port()
    ingress_env = child_env(ctx.hookq_env(HOOKQ_INGRESS_PORT=str(port)) | env)
    worker_env = child_env(
        ctx.hookq_env(
            HOOKQ_HANDLER_MODULES="bench.noop_handler",
            HOOKQ_BUILTIN_HANDLERS="",
            HOOKQ_WORKER_METRICS_PORT=str(free_port()),
        )
        | env
        | {RECORD_ENV: str(record)}
    )
    ingress_log, worker_log = ctx.log_path(f"{label}-ingress"), ctx.log_path(f"{label}-worker")
    warmup = math.ceil(ctx.rate * WARMUP_SECONDS) if ctx.warmup else 0
    measured = math.ceil(ctx.rate * ctx.seconds)
    with (
        started(hookq_command("ingress"), ingress_env, ingress_log) as ingress,
        started(hookq_command("worker", "--handler", NAME), worker_env, worker_log) as worker,
    ):
        await wait_until(http_ok(f"http://127.0.0.1:{port}/readyz"), 30, "ingress")
        await wait_until(_consuming(ctx), 30, "worker")
        # Made (and signed) before the clock starts; stamped now, all within Plain's window.
        requests = plain_requests(warmup + measured, f"pEv_{label}{ctx.names.namespace[-8:]}_")
        pool = Pool("127.0.0.1", port, limit=CONNECTIONS)
        pids = {"ingress": ingress.pid, "worker": worker.pid, "client": os.getpid()}
        if (beam := broker_pid()) is not None:
            pids["broker"] = beam
        with (
            PeakRss(ingress.pid) as ingress_rss,
            PeakRss(worker.pid) as worker_rss,
            CpuUse(pids) as cpu,
        ):
            sent = await open_loop(pool, requests, ctx.rate)
            calls = await _calls(record, [s.delivery_id for s in sent if s.status == 200])
            check_running(ingress, "hookq ingress", ingress_log)
            check_running(worker, "hookq worker", worker_log)
            peaks = ingress_rss.peak, worker_rss.peak
    return E2eRun(sent, warmup, calls, peaks, cpu, pool.opened)


def cpu_figures(cpu: CpuUse, events: int) -> dict[str, float]:
    """CPU milliseconds per event of each process, and how busy the machine was (in cores)."""
    figures = {f"{name}_ms_per_event": 1000 * s / events for name, s in cpu.seconds.items()}
    if cpu.wall > 0:
        figures["machine_busy_cores"] = cpu.machine_busy / cpu.wall
        figures["others_busy_cores"] = (cpu.machine_busy - sum(cpu.seconds.values())) / cpu.wall
    return figures


async def open_loop(pool: Pool, requests: list[WebhookRequest], per_second: float) -> list[Sent]:
    loop = asyncio.get_running_loop()
    raw = [serialise(f"{pool.host}:{pool.port}", r.path, r.headers, r.body) for r in requests]
    start_loop, start_wall = loop.time() + 0.1, time.time() + 0.1
    tasks = []
    try:
        for n, request in enumerate(requests):
            due = start_loop + n / per_second
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            late = max(0.0, loop.time() - due)
            tasks.append(
                asyncio.create_task(
                    _send(pool, raw[n], request.delivery_id, start_wall + n / per_second, late)
                )
            )
        return list(await asyncio.gather(*tasks))
    finally:
        pool.close()


async def _send(pool: Pool, raw: bytes, delivery_id: str, due: float, late: float) -> Sent:
    status = await pool.send(raw)
    return Sent(delivery_id, due, late, status, time.time())


def _consuming(ctx: BenchContext) -> Callable[[], Awaitable[bool]]:
    return functools.partial(broker.consuming, ctx.amqp_url, ctx.names.handler_queue(NAME))


async def _calls(record: Path, expected: list[str]) -> dict[str, float]:
    """The handler's call times, once every answered delivery reached it (or time ran out)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    calls = read_records(str(record))
    while any(d not in calls for d in expected) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        calls = read_records(str(record))
    return calls


def _rows(
    ctx: BenchContext, sent: list[Sent], calls: dict[str, float], peaks: tuple[int, int]
) -> list[Row]:
    ok = [s for s in sent if s.status == 200]
    latencies = [(calls[s.delivery_id] - s.due) * 1000 for s in ok if s.delivery_id in calls]
    answers = [(s.answered - s.due) * 1000 for s in ok]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    failures, missing = len(sent) - len(ok), len(ok) - len(latencies)
    span = (sent[-1].due - sent[0].due) if len(sent) > 1 else 0.0
    figures: dict[str, Any] = {
        "sent": len(sent),
        "rate_per_s": (len(sent) - 1) / span if span else 0.0,
        "non_200": failures,
        "handler_missing": missing,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": max(latencies, default=math.nan),
        "answer_p50_ms": percentile(answers, 50),
        "answer_p99_ms": percentile(answers, 99),
        "client_late_p99_ms": percentile([s.late * 1000 for s in sent], 99),
    }
    if failures or missing:
        figures["error"] = f"{failures} requests not answered 200, {missing} never handled"
    where = f"{ctx.rate:g} events/s for {ctx.seconds:g} s ({len(sent):,} Plain events)"
    ingress_peak, worker_peak = peaks
    return [
        Row(
            "end to end",
            f"HTTP request to handler call, p50 / p99, at {where}",
            ms(p50, p99),
            target=f"p99 <= {TARGET_P99_MS:g} ms",
            met=p99 <= TARGET_P99_MS and not (failures or missing),
            figures=figures,
        ),
        Row(
            "end to end",
            "HTTP answer (200 after confirm), p50 / p99",
            ms(figures["answer_p50_ms"], figures["answer_p99_ms"]),
        ),
        Row(
            "memory",
            f"ingress peak RSS at {ctx.rate:g} events/s",
            mb(ingress_peak),
            target="<= 100 MB",
            met=ingress_peak <= 100 * 2**20,
            figures={"peak_rss_bytes": ingress_peak},
        ),
        Row(
            "memory",
            f"worker peak RSS at {ctx.rate:g} events/s",
            mb(worker_peak),
            target="<= 150 MB",
            met=worker_peak <= 150 * 2**20,
            figures={"peak_rss_bytes": worker_peak},
        ),
    ]
