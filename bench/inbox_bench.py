"""A transactional no-op handler against the Redis-deduped one, in one run (``--parts inbox``).

Both handlers bind the same events, so one pre-load (distinct Plain events, published as the
ingress publishes them) fills both queues alike. In alternating rounds a worker process drains
each queue (the same prefetch; the transactional one with a pool as large as its prefetch, so
both run as many messages at once); the median round of each is reported, and their ratio. Then
one more round of each runs under py-spy (not measured: sampling slows it): where each worker's
CPU time goes, with the CPU per event of the worker and of PostgreSQL or Redis beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import asyncpg
import psutil

from bench import profile
from bench.context import BenchContext
from bench.inbox_handlers import REDIS, TRANSACTIONAL
from bench.noop_handler import RECORD_ENV, read_records
from bench.procs import check_running, child_env, free_port, hookq_command, started, wait_until
from bench.report import Row, rate, ratio
from bench.stats import steady_rate
from bench.worker_bench import declare_bench_queues, preload
from hookq.inbox.migrations import migrate
from hookq.inbox.schema import quoted

BUCKETS: list[profile.Bucket] = [
    ("claim: BEGIN, INSERT row, SAVEPOINT", ["inbox/claims.py:InboxClaimer._try"]),
    ("commit: RELEASE, COMMIT", ["inbox/claims.py:InboxClaim._commit"]),
    ("pool: acquire, reset, give back", ["inbox/store.py:Inbox.give_back", "asyncpg/pool.py:"]),
    ("claim (Redis)", ["worker/dedupe.py:RedisClaimer.claim", "worker/dedupe.py:Dedupe.claim"]),
    ("done mark (Redis)", ["worker/dedupe.py:RedisClaim.done", "worker/dedupe.py:Dedupe.mark"]),
    ("Redis round trips", ["worker/script_batch.py:", "redis/"]),
    ("validation", ["worker/validation.py:"]),
    ("settle and ack", ["worker/outcomes.py:"]),
    ("receiving (aio-pika, aiormq)", ["aiormq/", "aio_pika/", "pamqp/"]),
    ("asyncpg, elsewhere", ["asyncpg/"]),
    ("hookq, elsewhere (pipeline, hooks, metrics, logs)", ["hookq/worker/", "hookq/message"]),
]


@dataclass
class Drain:
    times: list[float]
    worker_cpu: float  # seconds
    store_cpu: float  # seconds: PostgreSQL's processes, or Redis's
    profile: dict[str, float]


async def run_inbox(ctx: BenchContext) -> list[Row]:
    if not ctx.postgres_url:
        raise RuntimeError("the inbox part needs PostgreSQL: --postgres-url")
    count = ctx.worker_events
    await _migrate(ctx)
    await declare_bench_queues(ctx, REDIS, TRANSACTIONAL)
    rates: dict[str, list[float]] = {REDIS: [], TRANSACTIONAL: []}
    last: dict[str, Drain] = {}
    for round_number in range(ctx.rounds + 1):
        profiled = round_number == ctx.rounds  # the extra round, under py-spy
        await preload(ctx, count, prefix=f"pEv_i{ctx.names.namespace[-8:]}_{round_number}_")
        for name in (REDIS, TRANSACTIONAL):
            drain = await _drain(ctx, name, count, round_number, profiled)
            if profiled:
                last[name] = drain
            else:
                rates[name].append(steady_rate(drain.times))
    redis_rate, tx_rate = median(rates[REDIS]), median(rates[TRANSACTIONAL])
    share = ratio(tx_rate, redis_rate)
    redis, tx = last[REDIS], last[TRANSACTIONAL]
    return [
        Row(
            "inbox",
            f"events/s from a pre-loaded queue ({count:,}), 1 process, prefetch {ctx.prefetch}: "
            "transactional no-op (pool of as many connections)",
            rate(tx_rate),
            f"{rate(redis_rate)} (Redis-deduped no-op)",
            share,
            figures={"tx_rounds": rates[TRANSACTIONAL], "redis_rounds": rates[REDIS]},
        ),
        Row(
            "inbox",
            "CPU per event: worker / its store (PostgreSQL's processes or Redis)",
            f"{_us(tx.worker_cpu, count)} / {_us(tx.store_cpu, count)} us",
            f"{_us(redis.worker_cpu, count)} / {_us(redis.store_cpu, count)} us",
            figures={"tx": vars(tx) | {"times": None}, "redis": vars(redis) | {"times": None}},
        ),
        Row(
            "inbox",
            "where the transactional worker's CPU goes (py-spy)",
            profile.describe(tx.profile),
        ),
        Row(
            "inbox",
            "where the Redis-deduped worker's CPU goes (py-spy)",
            profile.describe(redis.profile),
        ),
    ]


async def _migrate(ctx: BenchContext) -> None:
    assert ctx.postgres_url is not None
    connection = await asyncpg.connect(ctx.postgres_url)
    try:
        await migrate(connection, ctx.names.namespace)
    finally:
        await connection.close()
    ctx.cleanups.append(_drop_schema)


async def _drop_schema(ctx: BenchContext) -> None:
    assert ctx.postgres_url is not None
    connection = await asyncpg.connect(ctx.postgres_url)
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {quoted(ctx.names.namespace)} CASCADE")
    finally:
        await connection.close()


async def _drain(
    ctx: BenchContext, name: str, count: int, round_number: int, profiled: bool
) -> Drain:
    record = ctx.run_dir / f"inbox-{name}-{round_number}.tsv"
    env = child_env(
        ctx.hookq_env(
            HOOKQ_HANDLER_MODULES="bench.inbox_handlers",
            HOOKQ_BUILTIN_HANDLERS="",
            HOOKQ_WORKER_METRICS_PORT=str(free_port()),
            HOOKQ_POSTGRES_URL=ctx.postgres_url or "",
            HOOKQ_POSTGRES_POOL_SIZE=str(ctx.prefetch),
        )
        | {RECORD_ENV: str(record)}
    )
    log = ctx.log_path(f"inbox-{name}-{round_number}")
    store = _store_processes(name)
    with started(hookq_command("worker", "--handler", name), env, log) as worker:

        async def drained() -> bool:
            check_running(worker, "hookq worker", log)
            return _lines(record) >= count

        sampler = None
        if profiled:
            # Sampling starts once the worker consumes: the drain's steady part is profiled.
            await wait_until(lambda: _consuming(log), 60, "the worker to consume")
            raw = ctx.run_dir / f"inbox-{name}-py-spy.txt"
            sampler = profile.record(worker.pid, max(2.0, count / 2000), raw)
        before = _cpu({"worker": worker.pid}), _store_cpu(store)
        await wait_until(drained, 60 + count / 100, f"{name} worker to drain", 0.1)
        worker_cpu = _cpu({"worker": worker.pid})["worker"] - before[0]["worker"]
        store_cpu = _store_cpu(store) - before[1]
        if sampler is not None:
            await asyncio.to_thread(sampler.wait, 120)
    found = profile.shares(raw, BUCKETS) if profiled and raw.exists() else {}
    return Drain(list(read_records(str(record)).values()), worker_cpu, store_cpu, found)


async def _consuming(log: Path) -> bool:
    text = await asyncio.to_thread(log.read_text, errors="replace")
    return '"worker consuming"' in text


def _store_processes(name: str) -> str:
    return "postgres" if name == TRANSACTIONAL else "redis-server"


def _store_cpu(process_name: str) -> float:
    """CPU seconds of every running process of that name (PostgreSQL's backends included)."""
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == process_name:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
    return total


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        times = psutil.Process(pid).cpu_times()
        out[name] = times.user + times.system
    return out


def _us(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e6:,.0f}"


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 16), b""))
    except FileNotFoundError:
        return 0
