"""HTTP destinations: forwarding throughput against a minimal forwarder, and the latency from
the provider's request to the destination's receipt.

Throughput: two queues declared as the worker declares a handler's, bound by the same pattern,
pre-loaded with the same Plain events (through hookq's publisher, as the ingress publishes).
The reference (``bench.forwarder_reference``: aio-pika + one aiohttp session, POST and ack, no
signing, dedupe or validation) drains one; a ``hookq worker`` running one destination (signed
deliveries, dedupe, validation, the circuit and rate gate) drains the other, each to its own
``bench.destination_receiver`` answering 200 at once, with the same prefetch. Rounds alternate,
medians are reported; the rate is taken over receipts after the first tenth.

Latency: an open-loop client sends Plain requests at ``LATENCY_RATE`` to a real ingress; a worker
forwards them to the receiver; latency is receipt minus the request's due time (one machine,
one clock), the first second a warm-up.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import median

from bench import broker
from bench.context import BenchContext
from bench.e2e import open_loop
from bench.http_client import Pool
from bench.ingress_bench import http_ok
from bench.noop_handler import read_records
from bench.payloads import plain_requests
from bench.procs import (
    check_running,
    child_env,
    free_port,
    hookq_command,
    python_module,
    started,
    wait_until,
)
from bench.report import Row, ms, rate, ratio
from bench.stats import percentile, steady_rate
from bench.worker_bench import preload
from hookq.destinations.config import DEFAULT_MAX_ATTEMPTS
from hookq.handlers.api import Backoff
from hookq.settings import Settings
from hookq.testing.signing import SECRETS
from hookq.topology import declare_handler

NAME = "bench-dest"
REFERENCE_QUEUE = "bench-dest-ref"
PATTERNS = ("plain.#",)
TARGET_RATIO = 0.5
WARMUP_SECONDS = 1.0
# The latency run's rate: well inside one worker's forwarding throughput on a loaded 2-core
# machine, so that it measures the path, not a queue building up.
LATENCY_RATE = 50.0
SETTLE_SECONDS = 30.0


async def run_destinations(ctx: BenchContext) -> list[Row]:
    count = max(1000, ctx.worker_events // 4)
    await _declare(ctx)
    hookq_rates: list[float] = []
    reference_rates: list[float] = []
    for number in range(ctx.rounds):
        await preload(ctx, count, prefix=f"pEv_d{ctx.names.namespace[-8:]}_{number}_")
        reference_rates.append(steady_rate(await _drain(ctx, count, f"reference-{number}")))
        hookq_rates.append(steady_rate(await _drain(ctx, count, f"hookq-{number}")))
    hookq_rate, reference_rate = median(hookq_rates), median(reference_rates)
    share = ratio(hookq_rate, reference_rate)
    rows = [
        Row(
            "destinations",
            f"events/s forwarded from a pre-loaded queue ({count:,}) to a receiver answering "
            f"200, 1 process, prefetch {ctx.prefetch}",
            rate(hookq_rate),
            f"{rate(reference_rate)} (aio-pika + aiohttp forwarder)",
            share,
            f">= {TARGET_RATIO}x reference",
            share is not None and share >= TARGET_RATIO,
            {
                "hookq_events_per_s": hookq_rate,
                "reference_events_per_s": reference_rate,
                "hookq_rounds": hookq_rates,
                "reference_rounds": reference_rates,
            },
        )
    ]
    rows.append(await _latency(ctx))
    return rows


async def _declare(ctx: BenchContext) -> None:
    delays = Backoff().tiers(DEFAULT_MAX_ATTEMPTS)
    limit = Settings().delivery_limit
    connection = await broker.connect(ctx.amqp_url, "bench-destinations-declare")
    async with connection:
        channel = await connection.channel()
        await declare_handler(channel, ctx.names, NAME, PATTERNS, delays, limit)
        await declare_handler(channel, ctx.names, REFERENCE_QUEUE, PATTERNS, (), limit)
    for name in (NAME, REFERENCE_QUEUE):
        ctx.declared_queues += [ctx.names.handler_queue(name), ctx.names.dead_queue(name)]


def _destinations_file(ctx: BenchContext, url: str, label: str) -> Path:
    path = ctx.run_dir / f"destinations-{label}.toml"
    path.write_text(
        f'[[destination]]\nname = "{NAME}"\nurl = "{url}"\npatterns = {list(PATTERNS)!r}\n'.replace(
            "'", '"'
        )
        + f'secrets = ["{SECRETS["standard"]}"]\n'
    )
    return path


def _worker_env(ctx: BenchContext, url: str, label: str) -> dict[str, str]:
    return child_env(
        ctx.hookq_env(
            HOOKQ_DESTINATIONS_FILE=str(_destinations_file(ctx, url, label)),
            HOOKQ_BUILTIN_HANDLERS="",
            HOOKQ_WORKER_METRICS_PORT=str(free_port()),
        )
    )


async def _drain(ctx: BenchContext, count: int, label: str) -> list[float]:
    """Receipt times of ``count`` events forwarded by the reference or by hookq."""
    out = ctx.run_dir / f"destination-{label}.tsv"
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    receiver_command = python_module("bench.destination_receiver", f"--port={port}", f"--out={out}")
    if label.startswith("reference"):
        forwarder = python_module(
            "bench.forwarder_reference",
            f"--amqp-url={ctx.amqp_url}",
            f"--queue={ctx.names.handler_queue(REFERENCE_QUEUE)}",
            f"--prefetch={ctx.prefetch}",
            f"--url={url}",
        )
        env = child_env({})
    else:
        forwarder = hookq_command("worker", "--handler", NAME)
        env = _worker_env(ctx, url, label)
    log = ctx.log_path(f"destination-{label}")
    with (
        started(receiver_command, child_env({}), ctx.log_path(f"receiver-{label}")),
        started(forwarder, env, log) as process,
    ):

        async def drained() -> bool:
            check_running(process, label, log)
            return len(read_records(str(out))) >= count

        await wait_until(drained, 60 + count / 100, f"{label} to forward {count}", 0.2)
    return list(read_records(str(out)).values())


async def _latency(ctx: BenchContext) -> Row:
    out = ctx.run_dir / "destination-latency.tsv"
    receiver_port, ingress_port = free_port(), free_port()
    url = f"http://127.0.0.1:{receiver_port}/hooks"
    warmup = math.ceil(LATENCY_RATE * WARMUP_SECONDS) if ctx.warmup else 0
    measured = math.ceil(LATENCY_RATE * ctx.seconds)
    ingress_env = child_env(ctx.hookq_env(HOOKQ_INGRESS_PORT=str(ingress_port)))
    worker_log = ctx.log_path("destination-latency-worker")
    with (
        started(
            python_module("bench.destination_receiver", f"--port={receiver_port}", f"--out={out}"),
            child_env({}),
            ctx.log_path("receiver-latency"),
        ),
        started(hookq_command("ingress"), ingress_env, ctx.log_path("destination-ingress")),
        started(
            hookq_command("worker", "--handler", NAME),
            _worker_env(ctx, url, "latency"),
            worker_log,
        ) as worker,
    ):
        await wait_until(http_ok(f"http://127.0.0.1:{ingress_port}/readyz"), 30, "ingress")
        await wait_until(_consuming(ctx), 30, "worker")
        requests = plain_requests(warmup + measured, f"pEv_dl{ctx.names.namespace[-8:]}_")
        pool = Pool("127.0.0.1", ingress_port, limit=256)
        sent = await open_loop(pool, requests, LATENCY_RATE)
        answered = [s for s in sent if s.status == 200]
        deadline = time.monotonic() + SETTLE_SECONDS
        arrivals = read_records(str(out))
        while any(s.delivery_id not in arrivals for s in answered):
            if time.monotonic() > deadline:
                break
            check_running(worker, "hookq worker", worker_log)
            await asyncio.sleep(0.2)
            arrivals = read_records(str(out))
    counted = [s for s in sent[warmup:] if s.status == 200]
    latencies = [
        (arrivals[s.delivery_id] - s.due) * 1000 for s in counted if s.delivery_id in arrivals
    ]
    missing = len(counted) - len(latencies)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    figures: dict[str, object] = {
        "sent": len(sent) - warmup,
        "non_200": len(sent) - len(answered),
        "never_arrived": missing,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": max(latencies, default=math.nan),
    }
    if missing or len(sent) != len(answered):
        figures["error"] = f"{len(sent) - len(answered)} not answered 200, {missing} never arrived"
    return Row(
        "destinations",
        f"provider request -> destination receipt, p50 / p99, {LATENCY_RATE:g} events/s for "
        f"{ctx.seconds:g} s (ingress + worker + receiver)",
        ms(p50, p99),
        met=None,
        figures=figures,
    )


def _consuming(ctx: BenchContext) -> Callable[[], Awaitable[bool]]:
    return functools.partial(broker.consuming, ctx.amqp_url, ctx.names.handler_queue(NAME))
