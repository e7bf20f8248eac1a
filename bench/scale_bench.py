"""One process against two (``--processes 2``), for the ingress and for the worker, with the CPU
each run left to RabbitMQ.

The ingress: wrk with signed Plain events against ``hookq ingress`` and then ``hookq ingress
--processes 2`` (children sharing the port), the same requests and connections. The worker: the
same pre-load drained by ``hookq worker`` and then ``hookq worker --processes 2`` (children
sharing the queue). Rounds alternate the two forms; the median round of each is reported.

On a 2-core machine whose RabbitMQ and Redis run beside hookq, a second process competes with
them for the same cores: the CPU columns say where each run's time went (hookq's processes,
RabbitMQ's VM, and what the machine left idle), so that the ratio reads with them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import psutil

from bench import broker
from bench.context import BenchContext
from bench.ingress_bench import http_ok
from bench.noop_handler import NAME, RECORD_ENV, read_records
from bench.payloads import plain_request
from bench.procs import (
    CpuUse,
    broker_pid,
    check_running,
    child_env,
    free_port,
    hookq_command,
    started,
    wait_until,
)
from bench.report import Row, rate, ratio
from bench.stats import steady_rate
from bench.worker_bench import count_lines, declare_bench_queues, preload
from bench.wrk import run_wrk
from hookq.topology import Names, declare_exchanges

FORMS = (1, 2)  # processes


@dataclass(frozen=True)
class Run:
    rate: float  # requests or events per second
    hookq_cores: float  # CPU seconds of hookq's processes per second of the run
    broker_cores: float
    idle_cores: float  # what the whole machine left idle


async def run_scale(ctx: BenchContext) -> list[Row]:
    # A namespace of its own: the worker part's queues, bound to every Plain event, must not
    # take copies of what this part publishes (nor this part's queue theirs).
    own = dataclasses.replace(
        ctx, names=Names(f"{ctx.names.namespace}-scale"), declared_queues=[], cleanups=[]
    )

    async def cleanup(_ctx: BenchContext) -> None:
        await broker.cleanup(own.amqp_url, own.redis_url, own.names, own.declared_queues)

    ctx.cleanups.append(cleanup)
    return [await _ingress(own), await _worker(own)]


async def _ingress(ctx: BenchContext) -> Row:
    connection = await broker.connect(ctx.amqp_url, "bench-scale-setup")
    runs: dict[int, list[Run]] = {form: [] for form in FORMS}
    async with connection:
        await declare_exchanges(await connection.channel(), ctx.names)
        for round_number in range(ctx.rounds):
            for processes in FORMS:
                port = free_port()
                env = child_env(ctx.hookq_env(HOOKQ_INGRESS_PORT=str(port)))
                # A log per run: its "publisher ready" lines say when every child is connected.
                log = ctx.log_path(f"scale-ingress-{processes}-{round_number}")
                command = hookq_command("ingress", "--processes", str(processes))
                with started(command, env, log) as ingress:
                    await wait_until(http_ok(f"http://127.0.0.1:{port}/readyz"), 60, "ingress")
                    await wait_until(_said("publisher ready", log, processes), 60, "children")
                    url = f"http://127.0.0.1:{port}"
                    if ctx.warmup:
                        await asyncio.to_thread(
                            run_wrk,
                            url,
                            [plain_request()],
                            seconds=1,
                            connections=ctx.concurrency,
                            script_dir=ctx.run_dir,
                        )
                    pids = _hookq_pids(ingress.pid)
                    with _cpu(pids) as cpu:
                        result = await asyncio.to_thread(
                            run_wrk,
                            url,
                            [plain_request()],
                            seconds=ctx.seconds,
                            connections=ctx.concurrency,
                            script_dir=ctx.run_dir,
                        )
                    check_running(ingress, "hookq ingress", log)
                await broker.purge(connection, ctx.names.unrouted_queue)
                if result.errors:
                    raise RuntimeError(f"ingress --processes {processes}: {result.errors} errors")
                runs[processes].append(_run(result.rps, cpu, pids))
    return _row("ingress", "requests/s (Plain, wrk)", runs)


async def _worker(ctx: BenchContext) -> Row:
    await declare_bench_queues(ctx, NAME)
    count = ctx.worker_events
    runs: dict[int, list[Run]] = {form: [] for form in FORMS}
    for round_number in range(ctx.rounds):
        for processes in FORMS:
            await preload(ctx, count, prefix=f"pEv_s{processes}_{round_number}_")
            record = ctx.run_dir / f"scale-worker-{processes}-{round_number}.tsv"
            env = child_env(
                ctx.hookq_env(
                    HOOKQ_HANDLER_MODULES="bench.noop_handler",
                    HOOKQ_BUILTIN_HANDLERS="",
                    HOOKQ_WORKER_METRICS_PORT="0",
                )
                | {RECORD_ENV: str(record)}
            )
            log = ctx.log_path(f"scale-worker-{processes}-{round_number}")
            command = hookq_command("worker", "--handler", NAME, "--processes", str(processes))
            with started(command, env, log) as worker:
                # Measured from the first event to the last: the children start together.
                await wait_until(_lines_at_least(record, 1), 120, "first event")
                pids = _hookq_pids(worker.pid)
                with _cpu(pids) as cpu:
                    await wait_until(_lines_at_least(record, count), 60 + count / 100, "drain")
                check_running(worker, "hookq worker", log)
            times = list(read_records(str(record)).values())
            runs[processes].append(_run(steady_rate(times), cpu, pids))
    return _row("worker", f"events/s draining {count:,} pre-loaded", runs)


def _row(part: str, measure: str, runs: dict[int, list[Run]]) -> Row:
    one, two = (sorted(runs[form], key=lambda r: r.rate)[len(runs[form]) // 2] for form in FORMS)
    return Row(
        f"{part} processes",
        f"{measure}: 2 processes against 1; CPU cores used by hookq / RabbitMQ / left idle",
        f"{rate(two.rate)} ({_cores(two)})",
        f"{rate(one.rate)} with 1 process ({_cores(one)})",
        ratio(two.rate, one.rate),
        figures={
            f"{form}_processes": {
                "rate": r.rate,
                "hookq_cores": r.hookq_cores,
                "broker_cores": r.broker_cores,
                "idle_cores": r.idle_cores,
                "rounds": [x.rate for x in runs[form]],
            }
            for form, r in ((1, one), (2, two))
        }
        | {"median_rate_1": median(x.rate for x in runs[1])},
    )


def _cores(run: Run) -> str:
    return f"{run.hookq_cores:.2f} / {run.broker_cores:.2f} / {run.idle_cores:.2f} cores"


def _hookq_pids(pid: int) -> dict[str, int]:
    """The process itself and its children (a supervisor's workers or ingresses)."""
    children = psutil.Process(pid).children(recursive=True)
    return {"hookq-0": pid} | {f"hookq-{n + 1}": child.pid for n, child in enumerate(children)}


def _cpu(pids: dict[str, int]) -> CpuUse:
    found = broker_pid()
    return CpuUse(pids | ({"broker": found} if found else {}))


def _run(per_second: float, cpu: CpuUse, pids: dict[str, int]) -> Run:
    wall = max(cpu.wall, 1e-9)
    hookq = sum(cpu.seconds.get(name, 0.0) for name in pids)
    cores = psutil.cpu_count() or 1
    return Run(
        per_second,
        hookq / wall,
        cpu.seconds.get("broker", math.nan) / wall,
        max(0.0, cores - cpu.machine_busy / wall),
    )


def _said(line: str, log: Path, times: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        text = await asyncio.to_thread(log.read_text, errors="replace")
        return text.count(f'"{line}"') >= times

    return check


def _lines_at_least(path: Path, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return count_lines(path) >= count

    return check
