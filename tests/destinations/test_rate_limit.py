"""The rate limit holds across worker processes together: 60 events to a destination limited
to 10 per second, consumed by two ``hookq worker`` processes, arrive no faster than 10 per
second over any 2-second window."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

from aio_pika.abc import AbstractChannel

from hookq.settings import Settings
from hookq.topology import Names
from tests.destinations.conftest import NAME, WriteFile
from tests.support.events import eventually, publish_event, standard_body
from tests.support.receiver import Receiver
from tests.support.workers import WorkerProcess, worker_env

EVENTS = 60
RATE = 10  # per second
WINDOW = 2.0


def most_in_any_window(times: list[float], window: float) -> int:
    """The most arrivals within any ``window`` seconds (a window opens at each arrival)."""
    times = sorted(times)
    most, end = 0, 0
    for start, opened in enumerate(times):
        while end < len(times) and times[end] < opened + window:
            end += 1
        most = max(most, end - start)
    return most


def test_window_counting() -> None:
    assert most_in_any_window([0.0, 0.1, 1.9, 2.0, 2.05], 2.0) == 4
    assert most_in_any_window([0.1 * i for i in range(21)], 2.0) == 20


async def test_two_worker_processes_share_one_limit(
    settings: Settings,
    write_file: WriteFile,
    receiver: Receiver,
    channel: AbstractChannel,
    names: Names,
    tmp_path: Path,
) -> None:
    path = write_file(receiver.url, rate_limit=f"{RATE}/s")
    env = worker_env(settings, HOOKQ_DESTINATIONS_FILE=str(path))
    with (
        WorkerProcess.start(env, tmp_path / "w1.log") as first,
        WorkerProcess.start(env, tmp_path / "w2.log") as second,
    ):
        await asyncio.to_thread(first.wait_ready)
        await asyncio.to_thread(second.wait_ready)
        queue = await channel.declare_queue(names.handler_queue(NAME), passive=True)
        assert queue.declaration_result.consumer_count == 2
        started = time.monotonic()
        for number in range(EVENTS):
            await publish_event(channel, names, f"evt_rate_{number}", standard_body())
        await eventually(lambda: len(receiver.deliveries) == EVENTS, timeout=30)
        took = time.monotonic() - started
        first.terminate()
        second.terminate()
        assert await asyncio.to_thread(first.wait) == 0
        assert await asyncio.to_thread(second.wait) == 0
    times = [r.at for r in receiver.received]
    assert receiver.refused == []
    assert len(times) == EVENTS  # each once
    most = most_in_any_window(times, WINDOW)
    times.sort()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    print(
        f"rate limit: {EVENTS} events in {took:.2f}s, at most {most} in any {WINDOW:g}s; "
        f"gaps {min(gaps) * 1000:.0f}-{max(gaps) * 1000:.0f} ms"
    )
    # Requests leave at least 110 ms apart (the limit and its 10% margin, RATE_MARGIN): arrivals
    # jitter, and a worker stalled up to 200 ms still keeps within the limit.
    assert most <= RATE * WINDOW
    # And the limit is used: 60 events at 10/s take about 6 s, not much more.
    assert took < (EVENTS / RATE) * 1.5 + 2
