"""A flood of large dead letters does not make the operators' tools unusable (issue 12, item 14).

An authenticated sender can fill a handler's dead queue with 1 MB letters. ``hookq dlq list
--limit 1`` used to read every letter with its body and keep them all: 203 MB RSS for 132
letters. Memory must follow what is shown, not what is dead: ``list --limit 1`` reads one
letter, and ``stats`` (which reads them all) drops each body as it arrives.

The bound is relative to the same command on an empty queue (the interpreter and hookq's
imports, about 80 MB here, vary by machine): 100 letters of 1 MB were 100 to 105 MB over that
baseline before; now it is 0 to 15 MB, the same for 20, 100 or 132 letters (allocator arenas,
one letter's frames in flight, records without bodies), so it does not grow with the flood.
``FLOOD_MARGIN`` leaves room for allocator noise and a few letters in flight, and still fails
on anything that keeps a quarter of the flood. ``list --limit 1`` must also stop receiving: the
bytes it reads (``/proc/self/io``) are about one letter more than on the empty queue.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from dataclasses import dataclass

import aio_pika
import orjson

from hookq.settings import Settings
from hookq.topology import Names
from tests.worker.test_dlq_records import HANDLER, dead_message, declare, publish_dead, ready
from tests.worker.test_dlq_replay import cli_env

LETTERS = 100
LETTER_BYTES = 1 << 20
FLOOD_MARGIN = 25 * 2**20  # a quarter of the flood

# ``hookq`` as an operator runs it, reporting last its peak RSS (ru_maxrss, KiB on Linux) and
# the bytes it read (``rchar``: files and sockets, so the broker's deliveries included).
MEASURED_SCRIPT = """\
import re, resource, sys
from hookq.cli import main
code = main()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
read = re.search(r"rchar: (\\d+)", open("/proc/self/io").read()).group(1)
sys.stderr.write(f"\\npeak-rss-kib {peak} read-bytes {read}\\n")
sys.exit(code)
"""


@dataclass(frozen=True)
class Measured:
    result: subprocess.CompletedProcess[str]
    peak_rss: int
    read: int


def measured_dlq(settings: Settings, *args: str) -> Measured:
    result = subprocess.run(
        [sys.executable, "-c", MEASURED_SCRIPT, "dlq", *args, "--handler", HANDLER],
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r"peak-rss-kib (\d+) read-bytes (\d+)", result.stderr)
    assert found, result.stderr
    return Measured(result, int(found.group(1)) * 1024, int(found.group(2)))


def flood(settings: Settings, letters: int) -> None:
    names = Names(settings.namespace)
    # Short words, not one long run of letters: this measures browsing, not redaction.
    body = orjson.dumps({"blob": "ab " * (LETTER_BYTES // 3)})

    async def publish() -> None:
        async with await aio_pika.connect(settings.amqp_url) as connection:
            for start in range(0, letters, 10):
                batch = [dead_message(f"big-{n}", body=body) for n in range(start, start + 10)]
                await publish_dead(connection, names, batch)

    asyncio.run(publish())


def declared(settings: Settings) -> None:
    async def declare_queues() -> None:
        async with await aio_pika.connect(settings.amqp_url) as connection:
            await declare(connection, Names(settings.namespace))

    asyncio.run(declare_queues())


def left_in_queue(settings: Settings) -> int:
    async def count() -> int:
        async with await aio_pika.connect(settings.amqp_url) as connection:
            return await ready(connection, Names(settings.namespace).dead_queue(HANDLER))

    return asyncio.run(count())


def delete_queue(settings: Settings) -> None:
    # 100 MB in the shared broker: not left until the session's clean-up.
    async def delete() -> None:
        async with await aio_pika.connect(settings.amqp_url) as connection:
            channel = await connection.channel()
            await channel.queue_delete(Names(settings.namespace).dead_queue(HANDLER))

    asyncio.run(delete())


def test_list_limit_1_and_stats_over_a_flood_of_1mb_letters_stay_near_the_baseline(
    settings: Settings,
) -> None:
    declared(settings)
    empty = measured_dlq(settings, "list")
    assert empty.result.returncode == 1, empty.result.stderr  # nothing matched: empty queue
    flood(settings, LETTERS)
    try:
        listed = measured_dlq(settings, "list", "--limit", "1")
        stats = measured_dlq(settings, "stats", "--json")
        left = left_in_queue(settings)
    finally:
        delete_queue(settings)

    assert listed.result.returncode == 0, listed.result.stderr
    assert "big-0" in listed.result.stdout
    assert "big-1 " not in listed.result.stdout
    assert f"{LETTERS - 1} more not read" in listed.result.stdout
    assert stats.result.returncode == 0, stats.result.stderr
    assert orjson.loads(stats.result.stdout)["queues"][0]["dead"] == LETTERS
    assert left == LETTERS  # browsing took nothing
    for command, run in (("list --limit 1", listed), ("stats", stats)):
        over = run.peak_rss - empty.peak_rss
        assert over < FLOOD_MARGIN, (
            f"{command}: peak RSS {run.peak_rss / 2**20:.0f} MiB, {over / 2**20:.0f} MiB over "
            f"the empty-queue baseline (bound {FLOOD_MARGIN / 2**20:.0f} MiB)"
        )
    # list --limit 1 stopped receiving: it read about one letter, not the flood.
    extra_read = listed.read - empty.read
    assert extra_read < 5 * LETTER_BYTES, f"list --limit 1 read {extra_read / 2**20:.0f} MiB more"
    assert stats.read - empty.read > 0.9 * LETTERS * LETTER_BYTES  # what reading them all costs
