"""The ``hookq events`` subcommands, each an async function of (args, settings) -> exit code.

Arguments, output and exit codes are this module's; the work is the package's API
(``hookq.events``), which the console calls too."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from hookq.events import render
from hookq.events.cli import EXIT_NOTHING, EXIT_OK
from hookq.events.fate import trace
from hookq.events.finding import search
from hookq.events.selection import Selection, parse_time
from hookq.privacy import Privacy
from hookq.settings import Settings

INTERRUPTED = {
    "replay": "interrupted: run it again with --resume REPLAY_ID (the id printed at its start) "
    "to finish it; nothing is skipped or run twice"
}


class UsageError(Exception):
    """Bad arguments found after parsing; exit code 2."""


def selection_of(args: argparse.Namespace, now: datetime | None = None) -> Selection:
    """The filters given, with relative times made absolute now (a resumed replay keeps
    them)."""
    now = now or datetime.now(UTC)
    try:
        return Selection(
            source=args.source,
            type_pattern=args.type,
            since=parse_time(args.since, now) if args.since else None,
            until=parse_time(args.until, now) if args.until else None,
            contains=args.contains,
            ids=frozenset(getattr(args, "ids", None) or ()),
            limit=args.limit,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


async def list_(args: argparse.Namespace, settings: Settings) -> int:
    found = await search(settings, selection_of(args))
    rows = [render.row(event) for event in found]
    if args.json:
        render.output(rows)
    else:
        render.events_table(rows)
    return EXIT_OK if rows else EXIT_NOTHING


async def show(args: argparse.Namespace, settings: Settings) -> int:
    found = await trace(settings, args.delivery_id)
    if found is None:
        if args.json:
            render.output(None)
        render.error(f"no archived event with delivery id {args.delivery_id!r}")
        return EXIT_NOTHING
    shown = render.detail(found, Privacy.from_settings(settings))
    if args.json:
        render.output(shown)
    else:
        render.show(shown)
    return EXIT_OK
