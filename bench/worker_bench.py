"""Worker throughput from a pre-loaded queue, hookq beside the ack-only consumer.

Two queues are declared exactly as the worker declares a handler's queue (quorum, same
arguments) and bound by the same patterns: the no-op handler's and the ceiling's. One
pre-load, through hookq's own publisher (so the messages are what the ingress publishes, with
distinct Plain ids so that dedupe lets each through), fills both with the same messages. Then
each consumer, a process of its own with the same prefetch, drains its queue; the rate is
taken over the completion times after the first tenth (start-up is not the steady state).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import median

from bench import broker
from bench.context import BenchContext
from bench.noop_handler import NAME, RECORD_ENV, noop, read_records
from bench.payloads import PLAIN_SECRET, plain_requests
from bench.procs import (
    PeakRss,
    check_running,
    child_env,
    free_port,
    hookq_command,
    python_module,
    started,
    wait_until,
)
from bench.report import Row, mb, rate, ratio
from bench.stats import steady_rate
from hookq.handlers.api import spec_of
from hookq.ingress.publisher import Publisher
from hookq.settings import Settings
from hookq.sources.plain import PlainSource
from hookq.sources.plain.config import PlainSettings
from hookq.topology import declare_handler

CEILING_QUEUE = "bench-ceiling"
TARGET_RATIO = 0.5
PRELOAD_BATCH = 500


async def declare_bench_queues(ctx: BenchContext, *handlers: str) -> None:
    """The handlers' queues, declared with the worker's arguments (idempotent)."""
    spec = spec_of(noop)
    assert spec is not None
    delivery_limit = Settings().delivery_limit
    connection = await broker.connect(ctx.amqp_url, "bench-declare")
    async with connection:
        channel = await connection.channel()
        for name in handlers:
            delays = spec.retry_delays if name == NAME else ()
            await declare_handler(channel, ctx.names, name, spec.patterns, delays, delivery_limit)
            ctx.declared_queues += [ctx.names.handler_queue(name), ctx.names.dead_queue(name)]


async def preload(ctx: BenchContext, count: int, prefix: str) -> None:
    """``count`` distinct Plain events, published as the ingress publishes them."""
    settings = Settings(amqp_url=ctx.amqp_url, namespace=ctx.names.namespace)
    source = PlainSource(PlainSettings(secrets=[PLAIN_SECRET]))
    publisher = Publisher(settings, ctx.names, connection_name="bench-preload")
    await publisher.start()
    try:
        async with asyncio.timeout(30):
            await publisher.wait_connected()
        requests = plain_requests(count, prefix)
        now = time.time()
        for start in range(0, count, PRELOAD_BATCH):
            batch = requests[start : start + PRELOAD_BATCH]
            await asyncio.gather(
                *(
                    publisher.publish("plain", source.accept(r.headers, r.body, now), now)
                    for r in batch
                )
            )
    finally:
        await publisher.close()


async def run_worker(ctx: BenchContext) -> list[Row]:
    count = ctx.worker_events
    await declare_bench_queues(ctx, NAME, CEILING_QUEUE)
    hookq_rates: list[float] = []
    ceiling_rates: list[float] = []
    peak = 0
    # Rounds alternate the two consumers, each round with a fresh pre-load (distinct ids, so
    # dedupe lets every event through), and the median round of each is reported: one drain
    # takes seconds, and a neighbour's burst of load must not decide the ratio.
    for round_number in range(ctx.rounds):
        prefix = f"pEv_w{ctx.names.namespace[-8:]}_{round_number}_"
        await preload(ctx, count, prefix=prefix)
        ceiling_rates.append(steady_rate(await _ceiling(ctx, count, round_number)))
        hookq_times, round_peak = await _hookq(ctx, count, round_number)
        hookq_rates.append(steady_rate(hookq_times))
        peak = max(peak, round_peak)
    hookq_rate, ceiling_rate = median(hookq_rates), median(ceiling_rates)
    share = ratio(hookq_rate, ceiling_rate)
    return [
        Row(
            "worker",
            f"events/s from a pre-loaded queue ({count:,}), 1 process, prefetch {ctx.prefetch}",
            rate(hookq_rate),
            f"{rate(ceiling_rate)} (ack-only consumer)",
            share,
            f">= {TARGET_RATIO}x reference",
            share is not None and share >= TARGET_RATIO,
            {
                "hookq_events_per_s": hookq_rate,
                "ceiling_events_per_s": ceiling_rate,
                "hookq_rounds": hookq_rates,
                "ceiling_rounds": ceiling_rates,
            },
        ),
        Row(
            "memory",
            "worker peak RSS draining the queue",
            mb(peak),
            target="<= 150 MB",
            met=peak <= 150 * 2**20,
            figures={"peak_rss_bytes": peak},
        ),
    ]


async def _ceiling(ctx: BenchContext, count: int, round_number: int) -> list[float]:
    out = ctx.run_dir / f"ceiling-consumer-{round_number}.tsv"
    command = python_module(
        "bench.ceilings",
        "consumer",
        f"--amqp-url={ctx.amqp_url}",
        f"--queue={ctx.names.handler_queue(CEILING_QUEUE)}",
        f"--prefetch={ctx.prefetch}",
        f"--count={count}",
        f"--out={out}",
    )
    log = ctx.log_path("ceiling-consumer")
    with started(command, child_env({}), log) as process:
        await wait_until(_exited(process), _drain_limit(count), "ceiling consumer to finish")
        check_exit = process.returncode
    if check_exit != 0 or not out.exists():
        raise RuntimeError(f"ceiling consumer failed ({check_exit}); see {log}")
    return [float(line.split("\t")[1]) for line in out.read_text().splitlines()]


async def _hookq(ctx: BenchContext, count: int, round_number: int) -> tuple[list[float], int]:
    record = ctx.run_dir / f"worker-calls-{round_number}.tsv"
    env = child_env(
        ctx.hookq_env(
            HOOKQ_HANDLER_MODULES="bench.noop_handler",
            HOOKQ_BUILTIN_HANDLERS="",
            HOOKQ_WORKER_METRICS_PORT=str(free_port()),
        )
        | {RECORD_ENV: str(record)}
    )
    log = ctx.log_path("worker")
    with (
        started(hookq_command("worker", "--handler", NAME), env, log) as worker,
        PeakRss(worker.pid) as rss,
    ):

        async def drained() -> bool:
            check_running(worker, "hookq worker", log)
            return _lines(record) >= count

        await wait_until(drained, _drain_limit(count), "hookq worker to drain", 0.1)
        peak = rss.peak
    return list(read_records(str(record)).values()), peak


def _drain_limit(count: int) -> float:
    return 60 + count / 200  # generous: a slow machine must not fail the run, only show it


def _exited(process: subprocess.Popen[bytes]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return process.poll() is not None

    return check


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 16), b""))
    except FileNotFoundError:
        return 0
