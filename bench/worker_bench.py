"""Worker throughput from a pre-loaded queue, hookq beside the ack-only consumer and a
FastStream subscriber (``bench.faststream_consumer``).

Three queues are declared exactly as the worker declares a handler's queue (quorum, same
arguments) and bound by the same patterns: the no-op handler's and the two references'. One
pre-load, through hookq's own publisher (so the messages are what the ingress publishes, with
distinct Plain ids so that dedupe lets each through), fills all three with the same messages. Then
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
FASTSTREAM_QUEUE = "bench-faststream"
TARGET_RATIO = 0.6
FASTSTREAM_TARGET = 1.3  # hookq against a FastStream subscriber that does no dedupe
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
    await declare_bench_queues(ctx, NAME, CEILING_QUEUE, FASTSTREAM_QUEUE)
    hookq_rates: list[float] = []
    ceiling_rates: list[float] = []
    faststream_rates: list[float] = []
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
        faststream_rates.append(steady_rate(await _faststream(ctx, count, round_number)))
        peak = max(peak, round_peak)
    hookq_rate, ceiling_rate = median(hookq_rates), median(ceiling_rates)
    faststream_rate = median(faststream_rates)
    share = ratio(hookq_rate, ceiling_rate)
    against_faststream = ratio(hookq_rate, faststream_rate)
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
            "worker",
            f"the same, against FastStream {_faststream_version()} (typed subscriber, no dedupe)",
            rate(hookq_rate),
            f"{rate(faststream_rate)} (FastStream subscriber)",
            against_faststream,
            f">= {FASTSTREAM_TARGET}x reference",
            against_faststream is not None and against_faststream >= FASTSTREAM_TARGET,
            {"faststream_events_per_s": faststream_rate, "faststream_rounds": faststream_rates},
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
    return await _reference(ctx, count, ("bench.ceilings", "consumer"), CEILING_QUEUE, round_number)


async def _faststream(ctx: BenchContext, count: int, round_number: int) -> list[float]:
    module = ("bench.faststream_consumer",)
    return await _reference(ctx, count, module, FASTSTREAM_QUEUE, round_number)


async def _reference(
    ctx: BenchContext, count: int, module: tuple[str, ...], queue: str, round_number: int
) -> list[float]:
    """The completion times of a reference consumer draining ``queue``."""
    out = ctx.run_dir / f"{queue}-{round_number}.tsv"
    command = python_module(
        *module,
        f"--amqp-url={ctx.amqp_url}",
        f"--queue={ctx.names.handler_queue(queue)}",
        f"--prefetch={ctx.prefetch}",
        f"--count={count}",
        f"--out={out}",
    )
    log = ctx.log_path(queue)
    with started(command, child_env({}), log) as process:
        await wait_until(_exited(process), _drain_limit(count), f"{queue} consumer to finish")
        check_exit = process.returncode
    if check_exit != 0 or not out.exists():
        raise RuntimeError(f"{queue} consumer failed ({check_exit}); see {log}")
    return [float(line.split("\t")[1]) for line in out.read_text().splitlines()]


def _faststream_version() -> str:
    from importlib.metadata import version

    return version("faststream")


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
            return count_lines(record) >= count

        await wait_until(drained, _drain_limit(count), "hookq worker to drain", 0.1)
        peak = rss.peak
    return list(read_records(str(record)).values()), peak


def _drain_limit(count: int) -> float:
    return 60 + count / 200  # generous: a slow machine must not fail the run, only show it


def _exited(process: subprocess.Popen[bytes]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return process.poll() is not None

    return check


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 16), b""))
    except FileNotFoundError:
        return 0
