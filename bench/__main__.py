"""``python -m bench``: measure hookq against the ceilings, in one run, and print one table.

    python -m bench                       # every part, 10 s load runs (a few minutes)
    python -m bench --quick               # every part, briefly: proves the harness works
    python -m bench --parts ingress,e2e --duration 20
    python -m bench --parts inbox         # the transactional handler against the Redis-deduped

Needs the local RabbitMQ and Redis (or --amqp-url/--redis-url) and wrk (apt-get install wrk);
the inbox part, which runs only when asked for, PostgreSQL (--postgres-url) and py-spy.
Everything runs in a namespace of its own (``bench-<hex>``), deleted at the end, with every
process it started. The table and raw figures are saved under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import broker
from bench.context import BenchContext
from bench.cores import split_cores
from bench.procs import broker_pid
from bench.report import Row, failed, machine, markdown, save
from hookq.logs import configure_logging
from hookq.runtime import run
from hookq.settings import Settings
from hookq.topology import Names

# Each part and the function that runs it (imported on use: a part's failure to import shows as
# its row, not a crash of the rest), in the order they run.
PART_FUNCTIONS = {
    "validation": "bench.validation_part:run_validation",
    "ingress": "bench.ingress_bench:run_ingress",
    "archive": "bench.archive_bench:run_archive",
    "worker": "bench.worker_bench:run_worker",
    "scale": "bench.scale_bench:run_scale",
    "e2e": "bench.e2e:run_e2e",
    "tracing": "bench.tracing_bench:run_tracing",
    "inbox": "bench.inbox_bench:run_inbox",
    "destinations": "bench.destinations_bench:run_destinations",
}
PARTS = tuple(PART_FUNCTIONS)
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
RESULTS = Path(__file__).resolve().parent / "results"

Part = Callable[[BenchContext], Awaitable[list[Row]]]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load run")
    parser.add_argument("--quick", action="store_true", help="1 s runs, small queues: CI smoke")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {PARTS}")
    parser.add_argument("--concurrency", type=int, default=64, help="wrk connections")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per server or consumer, alternated (median)"
    )
    parser.add_argument("--rate", type=float, default=500.0, help="end-to-end events/s")
    parser.add_argument("--worker-events", type=int, default=20_000, help="pre-loaded messages")
    parser.add_argument(
        "--prefetch",
        type=int,
        default=defaults.prefetch,
        help="worker prefetch, for hookq and the ack-only consumer alike (default: hookq's)",
    )
    parser.add_argument("--amqp-url", default=defaults.amqp_url)
    parser.add_argument("--redis-url", default=defaults.redis_url)
    parser.add_argument("--postgres-url", default=defaults.postgres_url or LOCAL_POSTGRES)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where tables are saved")
    parser.add_argument(
        "--split-cores",
        action="store_true",
        help="RabbitMQ (local) on a core of its own, the run on the others (bench.cores)",
    )
    args = parser.parse_args(argv)
    wanted = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = wanted - set(PARTS)
    if unknown:
        known = ", ".join(PARTS)
        parser.error(f"unknown part(s) {sorted(unknown)}; known: {known}")
    # Always in PARTS order: the worker's queues bind the events the ingress part publishes,
    # so an ingress part run after them would find its unrouted keeper empty.
    args.parts = [p for p in PARTS if p in wanted]
    if args.quick:
        args.duration, args.worker_events, args.rounds = 1.0, 1000, 1
    return args


def part_function(name: str) -> Part:
    module, _, function = PART_FUNCTIONS[name].partition(":")
    part: Part = getattr(importlib.import_module(module), function)
    return part


async def run_parts(ctx: BenchContext, parts: list[str]) -> list[Row]:
    rows: list[Row] = []
    try:
        for name in parts:
            started = time.monotonic()
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            try:
                rows += await part_function(name)(ctx)
            except Exception as exc:
                rows.append(failed(name, "(part did not complete)", exc))
            print(f"bench: {name} {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    finally:
        for cleanup in ctx.cleanups:
            try:
                await cleanup(ctx)
            except Exception as exc:
                print(f"bench: cleanup failed: {exc!r}", file=sys.stderr)
        await broker.cleanup(ctx.amqp_url, ctx.redis_url, ctx.names, ctx.declared_queues)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The bench's own hookq objects (the pre-load publisher) log only trouble, to stderr.
    configure_logging(Settings(log_level="WARNING", log_format="console"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = args.results / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    ctx = BenchContext(
        amqp_url=args.amqp_url,
        redis_url=args.redis_url,
        names=Names(broker.new_namespace()),
        run_dir=run_dir,
        seconds=args.duration,
        concurrency=args.concurrency,
        rate=args.rate,
        worker_events=args.worker_events,
        warmup=not args.quick,
        rounds=max(1, args.rounds),
        prefetch=args.prefetch,
        postgres_url=args.postgres_url,
    )
    meta: dict[str, object] = {
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "namespace": ctx.names.namespace,
    }
    with contextlib.ExitStack() as pinning:
        if args.split_cores:
            pid = broker_pid()
            if pid is None:
                print("bench: --split-cores: no local RabbitMQ found", file=sys.stderr)
                return 2
            broker_cores, run_cores = pinning.enter_context(split_cores(pid))
            meta["split_cores"] = {"rabbitmq": sorted(broker_cores), "run": sorted(run_cores)}
        rows = run(run_parts(ctx, args.parts))
    meta["load_average_after"] = machine()["load_average"]
    print(markdown(rows))
    paths = save(rows, meta, args.results, stamp)
    print(f"\nsaved {paths[0]} and {paths[1]}; process logs in {run_dir}", file=sys.stderr)
    return 1 if any("error" in row.figures for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
