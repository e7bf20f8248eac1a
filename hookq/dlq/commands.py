"""The ``hookq dlq`` subcommands, each an async function of (args, settings) -> exit code.

Arguments, tables and exit codes are this module's; reading, selecting and moving dead letters
are ``hookq.dlq.operations``, which the console calls too."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from aio_pika.abc import AbstractConnection

from hookq import declarations
from hookq.dlq import operations, render, report
from hookq.dlq.browse import LEAN, Reading, Snapshot
from hookq.dlq.cli import EXIT_INCOMPLETE, EXIT_NOTHING, EXIT_OK
from hookq.dlq.queues import connect
from hookq.dlq.records import DeadQueue, DeadRecord, Selection, parse_duration
from hookq.privacy import Privacy
from hookq.settings import Settings
from hookq.topology import Names

PAST = {"replay": "replayed", "purge": "purged"}


class UsageError(Exception):
    """Bad arguments found after parsing; exit code 2."""


async def _snapshots(
    connection: AbstractConnection,
    settings: Settings,
    args: argparse.Namespace,
    reading: Reading = LEAN,
) -> list[Snapshot]:
    read = await operations.read_queues(
        connection, settings, args.handler, wait=args.wait, reading=reading
    )
    for text in read.notes:
        render.note(text)
    return read.snapshots


async def _orphans(
    connection: AbstractConnection, settings: Settings, snapshots: Sequence[Snapshot]
) -> list[declarations.Orphan]:
    """Handler queues that workers declared, that no discovered handler declares now, and that
    nobody consumes: removed handlers whose queues still fill (``hookq.declarations``)."""
    names = Names(settings.namespace)
    deployed = {s.queue.handler for s in snapshots if not s.queue.unrouted}
    recorded = await declarations.read(connection, names)
    others = [history for name, history in recorded.items() if name not in deployed]
    return await declarations.orphans(connection, names, others)


def _selection(args: argparse.Namespace) -> Selection:
    older = getattr(args, "older_than", None)
    try:
        older_than = parse_duration(older) if older else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Selection(
        ids=frozenset(getattr(args, "ids", None) or ()),
        sources=frozenset(getattr(args, "source", None) or ()),
        event_types=frozenset(getattr(args, "event_type", None) or ()),
        error_types=frozenset(getattr(args, "error_type", None) or ()),
        older_than=older_than,
    )


async def stats(args: argparse.Namespace, settings: Settings) -> int:
    async with await connect(settings, "stats") as connection:
        snapshots = await _snapshots(connection, settings, args)
        orphaned = [] if args.handler else await _orphans(connection, settings, snapshots)
    entries = [report.stats(s) for s in snapshots]
    orphans = [report.orphan(o) for o in orphaned]
    if args.json:
        render.print_json({"queues": entries, "orphaned": orphans})
    else:
        render.stats_table(entries)
        if orphans:
            render.orphans_table(orphans)
    missing = args.handler and all(not s.exists for s in snapshots)
    return EXIT_NOTHING if missing else EXIT_OK


async def list_(args: argparse.Namespace, settings: Settings) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    selection, now = _selection(args), time.time()

    def wanted(record: DeadRecord) -> bool:
        return selection.matches(record, now)

    # With --limit, reading stops once enough matched: a flood is not read to show one row.
    reading = Reading(counts=wanted, enough=args.limit)
    async with await connect(settings, "list") as connection:
        snapshots = await _snapshots(connection, settings, args, reading)
    redactor = Privacy.from_settings(settings)
    matched = [r for s in snapshots for r in s.records if wanted(r)]
    rows = [report.row(r, redactor) for r in matched[: args.limit]]
    unread = sum(s.unread for s in snapshots)
    if args.json:
        render.print_json(
            {
                "messages": rows,
                "matched": len(matched),  # among the messages read: all of them unless "unread"
                "unread": unread,
                "queues": [report.queue_summary(s) for s in snapshots],
            }
        )
    else:
        shown = f"{len(rows)} of {len(matched)}" if len(rows) < len(matched) else str(len(rows))
        more = f" (--limit {args.limit} reached; {unread} more not read)" if unread else ""
        render.rows_table(rows, f"dead letters: {shown}{more}")
    return EXIT_OK if rows else EXIT_NOTHING


async def show(args: argparse.Namespace, settings: Settings) -> int:
    # Only the letters asked for are kept with their body: the rest of the queue is not held.
    reading = Reading(whole=lambda record: record.delivery_id == args.delivery_id)
    async with await connect(settings, "show") as connection:
        snapshots = await _snapshots(connection, settings, args, reading)
    redactor = Privacy.from_settings(settings)
    found = [r for s in snapshots for r in s.records if r.delivery_id == args.delivery_id]
    details = [report.detail(r, redactor) for r in found]
    if args.json:
        render.print_json({"messages": details})
    elif not found:
        render.error(f"no dead message with delivery id {args.delivery_id!r}")
    for d in [] if args.json else details:
        render.detail(d)
    return EXIT_OK if found else EXIT_NOTHING


async def replay(args: argparse.Namespace, settings: Settings) -> int:
    if not args.all and not args.ids:
        raise UsageError("say what to replay: --id DELIVERY_ID ... or --all")
    if args.rate is not None and args.rate <= 0:
        raise UsageError("--rate must be positive")
    return await _move(args, settings, "replay")


async def purge(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.all or args.ids or args.handler or args.older_than):
        raise UsageError("say what to purge: --handler, --id, --older-than, or --all")
    if not args.yes and not args.dry_run:
        raise UsageError("purge deletes dead letters for good: add --yes (or try --dry-run)")
    return await _move(args, settings, "purge")


async def _move(args: argparse.Namespace, settings: Settings, verb: str) -> int:
    selection, now = _selection(args), time.time()
    redactor = Privacy.from_settings(settings)
    async with await connect(settings, verb) as connection:
        read = operations.Read(await _snapshots(connection, settings, args))
        planned = operations.planned(read, selection, now)
        if not planned:
            return _nothing(args, verb)
        if args.dry_run:
            return _dry_run(args, verb, planned, redactor)
        options = operations.move_options(selection, getattr(args, "rate", None), args.wait_others)
        total = sum(len(records) for records in planned.values())
        with render.progress(total, verb, enabled=not args.json) as advance:
            moved = await operations.run_moves(
                connection, settings, verb, list(planned), selection, now, options, advance
            )
    for failure in moved.failures:
        render.error(failure)
    return _summarise(args, moved, redactor)


def _nothing(args: argparse.Namespace, verb: str) -> int:
    if args.json:
        render.print_json({"verb": verb, "queues": [], "nothing_matched": True})
    else:
        render.error(f"nothing to {verb}: no dead message matched")
    return EXIT_NOTHING


def _dry_run(
    args: argparse.Namespace,
    verb: str,
    planned: dict[DeadQueue, list[DeadRecord]],
    redactor: Privacy,
) -> int:
    rows = [report.row(r, redactor) for records in planned.values() for r in records]
    if args.json:
        render.print_json({"verb": verb, "dry_run": True, "messages": rows})
    else:
        render.rows_table(rows, f"would {verb} {len(rows)} (dry run: nothing changed)")
    return EXIT_OK


def _summarise(args: argparse.Namespace, moved: operations.Moved, redactor: Privacy) -> int:
    verb = moved.verb
    if args.json:
        render.print_json(
            {
                "verb": verb,
                "run_id": moved.run_id,
                "done": moved.done,
                "queues": [report.moved(r, redactor) for r in moved.results],
                "errors": list(moved.failures),
            }
        )
    else:
        for r in moved.results:
            line = f"{r.queue.handler}: {PAST[verb]} {len(r.done)} from {r.queue.name}"
            if r.came_back:
                why = "found no handler" if r.queue.unrouted else "failed again"
                line += f"; {len(r.came_back)} {why} and are back in {r.queue.name}"
            render.line(line)
            if r.stopped:
                render.note(f"{r.queue.name}: stopped early: {r.stopped}; run again to finish")
    if not moved.complete:
        return EXIT_INCOMPLETE
    return EXIT_OK if moved.done else EXIT_NOTHING
