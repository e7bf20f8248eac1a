"""The dead-letter operations, as both front ends call them: ``hookq dlq`` (``commands.py``, which
adds arguments, tables and exit codes) and the console (``hookq.console``, which adds pages and
who did it). One implementation of reading, selecting, replaying and purging: neither front end
has its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aio_pika.abc import AbstractConnection

from hookq.dlq import report
from hookq.dlq.browse import LEAN, Reading, Snapshot, browse
from hookq.dlq.move import MoveOptions, MoveResult
from hookq.dlq.purge import purge_queue
from hookq.dlq.queues import check_named, dead_queues
from hookq.dlq.records import DeadQueue, DeadRecord, Selection
from hookq.dlq.replay import HandlerQueueMissing, new_run_id, replay_queue
from hookq.settings import Settings
from hookq.topology import Names

VERBS = ("replay", "purge")
Planned = dict[DeadQueue, list[DeadRecord]]


@dataclass(frozen=True, slots=True)
class Read:
    """What a read of the dead queues saw, and what an operator should be told about it."""

    snapshots: list[Snapshot]
    notes: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[DeadRecord]:
        return [record for snapshot in self.snapshots for record in snapshot.records]


@dataclass(frozen=True, slots=True)
class Moved:
    """What a replay or purge did, queue by queue."""

    verb: str
    run_id: str
    results: list[MoveResult]
    failures: list[str]  # queues that could not be worked on (a handler queue missing)

    @property
    def done(self) -> int:
        return sum(len(result.done) for result in self.results)

    @property
    def complete(self) -> bool:
        return not self.failures and all(result.complete for result in self.results)


async def read_queues(
    connection: AbstractConnection,
    settings: Settings,
    handlers: Sequence[str] | None,
    *,
    wait: float,
    reading: Reading = LEAN,
) -> Read:
    """Browse the dead queues of ``handlers`` (None: every discovered handler and the unrouted
    queue), never changing them. A named handler that has no dead queue and that discovery does
    not find raises ``UnknownHandler``, before anything is read."""
    queues = dead_queues(settings, handlers)
    if handlers:
        await check_named(connection, settings, queues)
    snapshots: list[Snapshot] = []
    notes: list[str] = []
    for queue in queues:
        snapshot = await browse(connection, queue, settings.namespace, wait=wait, reading=reading)
        reading = reading.after(snapshot)
        snapshots.append(snapshot)
        if handlers and not snapshot.exists:
            notes.append(f"{queue.name} does not exist (no dead letters were ever declared for it)")
        if (text := report.partial_note(snapshot)) is not None:
            notes.append(text)
    return Read(snapshots, notes)


def planned(read: Read, selection: Selection, now: float) -> Planned:
    """The selected records of each queue that has any: what a replay or purge would take."""
    chosen = {s.queue: [r for r in s.records if selection.matches(r, now)] for s in read.snapshots}
    return {queue: records for queue, records in chosen.items() if records}


def move_options(selection: Selection, rate: float | None, wait_others: float) -> MoveOptions:
    return MoveOptions(
        run_id=new_run_id(),
        rate=rate,
        # Unfiltered, every message is taken: a small window leaves the rest browsable.
        window=None if selection != Selection() else (2 if rate else 100),
        wait=wait_others,
    )


async def run_moves(
    connection: AbstractConnection,
    settings: Settings,
    verb: str,
    queues: Sequence[DeadQueue],
    selection: Selection,
    now: float,
    options: MoveOptions,
    advance: Callable[[DeadRecord], None] | None = None,
) -> Moved:
    """Replay or purge what ``selection`` picks (its ages as of ``now``, the time it was
    planned) in each of ``queues``: each queue in broker transactions (``hookq.dlq.move``), so
    whatever stops it, every message is in one place."""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")

    def select(record: DeadRecord) -> bool:
        return selection.matches(record, now)

    results: list[MoveResult] = []
    failures: list[str] = []
    names = Names(settings.namespace)
    for queue in queues:
        try:
            if verb == "replay":
                result = await replay_queue(connection, queue, names, select, options, advance)
            else:
                result = await purge_queue(
                    connection, queue, settings.namespace, select, options, advance
                )
        except HandlerQueueMissing as exc:
            failures.append(str(exc))
            continue
        results.append(result)
    return Moved(verb, options.run_id, results, failures)


async def move_selected(
    connection: AbstractConnection,
    settings: Settings,
    verb: str,
    handlers: Sequence[str] | None,
    selection: Selection,
    *,
    wait: float = 3.0,
    wait_others: float = 30.0,
    rate: float | None = None,
) -> Moved:
    """Read, plan and move in one call (what the console runs; the CLI runs the same steps
    with a dry run and a progress bar between them)."""
    read = await read_queues(connection, settings, handlers, wait=wait)
    now = time.time()
    plan = planned(read, selection, now)
    options = move_options(selection, rate, wait_others)
    if not plan:
        return Moved(verb, options.run_id, [], [])
    return await run_moves(connection, settings, verb, list(plan), selection, now, options)
