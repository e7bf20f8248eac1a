"""The ``hookq events`` subcommands, each an async function of (args, settings) -> exit code.

Arguments, output and exit codes are this module's; the work is the package's API
(``hookq.events``), which the console calls too."""

from __future__ import annotations

import argparse
import secrets
import sys
from datetime import datetime

from hookq.dlq.cli import EXIT_NOTHING, EXIT_OK, EXIT_USAGE
from hookq.events import render
from hookq.events.fate import trace
from hookq.events.finding import search
from hookq.events.replaying import ReplayError, ReplaySummary
from hookq.events.replaying import replay as replay_events
from hookq.events.schema_drift import drift as schema_drift
from hookq.events.selection import Selection, time_or_none
from hookq.privacy import Privacy
from hookq.settings import Settings
from hookq.sources.registry import PROVIDERS


class UsageError(Exception):
    """Bad arguments found after parsing; exit code 2."""


def selection_of(args: argparse.Namespace, now: datetime | None = None) -> Selection:
    """The filters given, with relative times made absolute now (a resumed replay keeps
    them)."""
    try:
        return Selection.typed(
            source=args.source,
            type_pattern=args.type,
            since=args.since,
            until=args.until,
            contains=args.contains,
            ids=getattr(args, "ids", None) or (),
            limit=args.limit,
            now=now,
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
    try:
        since = time_or_none(args.since)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    found = await trace(settings, args.delivery_id, since=since)
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


async def replay(args: argparse.Namespace, settings: Settings) -> int:
    if args.resume:
        given = [
            f
            for f in ("source", "type", "since", "until", "contains", "ids", "limit")
            if getattr(args, f)
        ]
        if given or args.handler or args.all_handlers:
            raise UsageError(
                "--resume takes the replay's own selection and handlers: give no others"
            )
        selection, handlers, replay_id = None, None, args.resume
    else:
        if not args.handler and not args.all_handlers:
            raise UsageError("say where to replay: --handler NAME (repeatable) or --all-handlers")
        selection = selection_of(args)
        handlers = None if args.all_handlers else list(dict.fromkeys(args.handler))
        replay_id = secrets.token_hex(6)
    if args.rate is not None and args.rate <= 0:
        raise UsageError("--rate must be positive")
    try:
        if not args.dry_run and not args.yes and not args.resume:
            planned = await replay_events(
                settings, selection, handlers, replay_id=replay_id, dry_run=True
            )
            if planned.matched and not _confirmed(planned):
                render.error("nothing sent (add --yes to replay without asking)")
                return EXIT_USAGE
        if not args.dry_run:
            render.note(f"replay {replay_id}: if interrupted, finish it with --resume {replay_id}")
        with render.progress_bar("replaying") as bar:

            def advance(sent: int, total: int) -> None:
                if bar is not None:
                    bar.update(bar.task_ids[0], completed=sent, total=total)

            summary = await replay_events(
                settings,
                selection,
                handlers,
                replay_id=replay_id,
                rate=args.rate,
                dry_run=args.dry_run,
                progress=advance,
            )
    except ReplayError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        render.output(summary.to_json())
    else:
        sent = f"would send {summary.planned}" if summary.dry_run else f"sent {summary.sent}"
        render.line(
            f"replay {summary.replay_id}: matched {summary.matched}, {sent} "
            f"(handlers: {', '.join(summary.handlers) or 'none bound'})"
        )
    return EXIT_OK if summary.matched else EXIT_NOTHING


def _confirmed(planned: ReplaySummary) -> bool:
    if not sys.stdin.isatty():
        raise UsageError(
            f"this would replay {planned.matched} event(s) to {', '.join(planned.handlers)}: "
            "add --yes (or try --dry-run)"
        )
    answer = input(f"Replay {planned.matched} event(s) to {', '.join(planned.handlers)}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


async def drift(args: argparse.Namespace, settings: Settings) -> int:
    try:
        since = time_or_none(args.since)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.source is not None and args.source not in PROVIDERS:
        raise UsageError(f"unknown source {args.source!r} (known: {', '.join(PROVIDERS)})")
    found = [d.to_json() for d in await schema_drift(settings, args.source, since)]
    if args.json:
        render.output(found)
    else:
        render.drift_table(found)
    return EXIT_OK if found else EXIT_NOTHING
