"""The event archive's costs (issue 14): the ingress with the archive on against the same ingress
with it off, in one run, and how long listing a one-hour window of 100,000 archived events takes.

Ingress: two ``hookq ingress`` processes in the run's namespace, one with ``HOOKQ_ARCHIVE=on``
(publishing to ``<ns>.ingress``: the archive stream and, through it, the events exchange) and
one with ``off`` (to the events exchange, as before). wrk drives each in turn with the same
Plain requests at the same concurrency, rounds alternated; the medians are compared. Every
event reaches the unrouted keeper in both cases (no handler is bound), purged between runs.

Listing: 100,000 events received over the last hour, after 20,000 received two to three hours
ago, are appended to the archive stream (as the ingress would, headers included); then
``hookq.events.search`` lists that hour's.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika

from bench import broker
from bench.context import BenchContext
from bench.ingress_bench import _load, http_ok, median
from bench.payloads import plain_request
from bench.procs import check_running, child_env, free_port, hookq_command, started, wait_until
from bench.report import Row, ms, rate, ratio
from hookq.events import Selection, search
from hookq.message import event_headers
from hookq.settings import Settings
from hookq.topology import ArchiveRetention, Names, declare_archive, declare_exchanges

TARGET_RATIO = 0.9
WINDOW_EVENTS = 100_000
OLDER_EVENTS = 20_000
BATCH = 1000  # publishes awaiting confirms at once while filling the archive


async def run_archive(ctx: BenchContext) -> list[Row]:
    return [*await _ingress(ctx), await _listing(ctx)]


async def _ingress(ctx: BenchContext) -> list[Row]:
    connection = await broker.connect(ctx.amqp_url, "bench-archive-setup")
    async with connection:
        await declare_exchanges(await connection.channel(), ctx.names)
        on_port, off_port = free_port(), free_port()
        on_env = child_env(ctx.hookq_env(HOOKQ_INGRESS_PORT=str(on_port), HOOKQ_ARCHIVE="on"))
        off_env = child_env(ctx.hookq_env(HOOKQ_INGRESS_PORT=str(off_port), HOOKQ_ARCHIVE="off"))
        with (
            started(hookq_command("ingress"), on_env, ctx.log_path("ingress-archive-on")) as on,
            started(hookq_command("ingress"), off_env, ctx.log_path("ingress-archive-off")) as off,
        ):
            await wait_until(http_ok(f"http://127.0.0.1:{on_port}/readyz"), 30, "ingress on")
            await wait_until(http_ok(f"http://127.0.0.1:{off_port}/readyz"), 30, "ingress off")
            on_runs, off_runs = [], []
            for _ in range(ctx.rounds):
                make = lambda: [plain_request()]  # noqa: E731 - fresh timestamps per run
                off_runs.append(await _load(ctx, off, off_port, make, connection))
                on_runs.append(await _load(ctx, on, on_port, make, connection))
            check_running(on, "ingress (archive on)", ctx.log_path("ingress-archive-on"))
            check_running(off, "ingress (archive off)", ctx.log_path("ingress-archive-off"))
    with_archive, without = median(on_runs), median(off_runs)
    share = ratio(with_archive.wrk.rps, without.wrk.rps)
    return [
        Row(
            "archive",
            f"ingress requests/s, archive on vs off ({ctx.concurrency} connections)",
            rate(with_archive.wrk.rps),
            f"{rate(without.wrk.rps)} (HOOKQ_ARCHIVE=off)",
            share,
            f">= {TARGET_RATIO}x off",
            share is not None and share >= TARGET_RATIO,
            {
                "on_rps": with_archive.wrk.rps,
                "off_rps": without.wrk.rps,
                "on_broker_cpu_us_per_request": with_archive.broker_us,
                "off_broker_cpu_us_per_request": without.broker_us,
            },
        ),
        Row(
            "archive",
            "ingress latency p50 / p99, archive on vs off",
            ms(with_archive.wrk.p50_ms, with_archive.wrk.p99_ms),
            ms(without.wrk.p50_ms, without.wrk.p99_ms),
        ),
        Row(
            "archive",
            "RabbitMQ CPU per request, archive on vs off",
            f"{with_archive.broker_us:.0f} us",
            f"{without.broker_us:.0f} us",
        ),
    ]


async def _listing(ctx: BenchContext) -> Row:
    # A namespace of its own (deleted at the end of the run): the window then holds only the
    # events put there for it, whatever the ingress parts archived in the run's namespace.
    names = Names(f"{ctx.names.namespace}-list")

    async def delete(ctx: BenchContext) -> None:
        await broker.cleanup(ctx.amqp_url, ctx.redis_url, names, [names.archive_stream])

    ctx.cleanups.append(delete)
    window = WINDOW_EVENTS if ctx.seconds > 1 else WINDOW_EVENTS // 50  # --quick: 2,000
    older = OLDER_EVENTS if ctx.seconds > 1 else OLDER_EVENTS // 50
    now = time.time()
    connection = await aio_pika.connect(ctx.amqp_url)
    async with connection:
        await declare_archive(connection, names, ArchiveRetention("7D", None, None))
        channel = await connection.channel(publisher_confirms=True)
        times = [now - 3 * 3600 + i * 3600 / older for i in range(older)]
        times += [now - 3600 + 60 + i * (3600 - 120) / window for i in range(window)]
        started_at = time.monotonic()
        for start in range(0, len(times), BATCH):
            await asyncio.gather(
                *(_append(channel, names, at) for at in times[start : start + BATCH])
            )
        filled = time.monotonic() - started_at
    settings = Settings(amqp_url=ctx.amqp_url, redis_url=ctx.redis_url, namespace=names.namespace)
    # The hour before the fill began: filling takes a minute or more on a loaded machine.
    since = datetime.fromtimestamp(now, UTC) - timedelta(hours=1)
    started_at = time.monotonic()
    found = await search(settings, Selection(since=since))
    seconds = time.monotonic() - started_at
    if len(found) != window:
        raise RuntimeError(f"listed {len(found)} events of the last hour, expected {window}")
    return Row(
        "archive",
        f"list a 1-hour window of {window:,} archived events ({older:,} older before it)",
        f"{seconds:.1f} s",
        target="seconds, not minutes",
        met=seconds < 60,
        figures={"events": window, "older": older, "seconds": seconds, "fill_seconds": filled},
    )


async def _append(channel: aio_pika.abc.AbstractChannel, names: Names, at: float) -> None:
    delivery_id = uuid.uuid4().hex
    body = (
        b'{"type":"thread.chat_sent","id":"%s","payload":{"note":"bench"}}' % delivery_id.encode()
    )
    message = aio_pika.Message(
        body,
        headers=event_headers("plain", "thread.chat_sent", delivery_id, at),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
    await channel.default_exchange.publish(message, routing_key=names.archive_stream)
