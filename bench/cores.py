"""``--split-cores``: RabbitMQ on a core of its own, everything else of the run on the others.

On a small machine the broker, wrk and the processes under test share the cores, so what the
broker spends per request (the archive's stream write, ``bench.archive_bench``) comes out of
the ingress's throughput. A broker deployed on a host of its own takes none of the ingress's
CPU; pinning it to one core and the run (this process's threads, hence wrk, hookq and the
references it starts: children inherit the affinity) to the rest measures that case on one
machine. Every thread's affinity is put back afterwards.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def threads(pid: int) -> list[int]:
    """The thread ids of a process (Linux: its ``/proc/<pid>/task`` entries)."""
    return [int(entry.name) for entry in Path(f"/proc/{pid}/task").iterdir()]


@contextlib.contextmanager
def split_cores(broker: int) -> Iterator[tuple[set[int], set[int]]]:
    """Pin every thread of ``broker`` to the first core this process may use and this
    process's threads to the others; yields (broker's cores, the run's cores)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise RuntimeError("--split-cores needs at least two cores")
    broker_cores, run_cores = {cores[0]}, set(cores[1:])
    pinned = {tid: broker_cores for tid in threads(broker)}
    pinned |= {tid: run_cores for tid in threads(os.getpid())}
    before: dict[int, set[int]] = {}
    try:
        for tid, mask in pinned.items():
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                before[tid] = os.sched_getaffinity(tid)
                os.sched_setaffinity(tid, mask)
        yield broker_cores, run_cores
    finally:
        for tid, mask in before.items():
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(tid, mask)
