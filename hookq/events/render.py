"""What ``hookq events`` prints: the ``--json`` shapes and the rich tables.

Every value comes from a provider's payload (or a handler's error) and is hostile: it is masked
by the privacy policy (``hookq.privacy``) before anything shows it, and reaches rich only as
``rich.text.Text`` made safe (``hookq.dlq.render.cell``, ``hookq.display``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from hookq.display import json_text, safe
from hookq.dlq.render import cell, print_json, stdout
from hookq.dlq.render import note as note
from hookq.events.archive import ArchivedEvent
from hookq.events.fate import Trace
from hookq.privacy import Privacy

PROGRAM = "hookq events"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def row(event: ArchivedEvent) -> dict[str, Any]:
    """One event in ``list --json``."""
    return {
        "delivery_id": event.delivery_id,
        "source": event.source,
        "event_type": event.event_type,
        "received_at": iso(event.received_at),
        "size": event.size,
        "offset": event.offset,
    }


def detail(found: Trace, privacy: Privacy) -> dict[str, Any]:
    """``show --json``: the event masked, its deliveries, and each bound handler's fate."""
    body, is_json = privacy.body(found.event.body)
    return row(found.event) | {
        "deliveries": found.deliveries,
        "provider_headers": privacy.value(dict(found.event.provider_headers)),
        "body": body if is_json else None,
        "body_text": None if is_json else body,
        "handlers": [
            fate.to_json() | ({"reason": privacy.text(fate.reason)} if fate.reason else {})
            for fate in found.handlers
        ],
    }


def events_table(rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        stdout().print(cell("no archived event matches"))
        return
    table = Table()
    for column in ("received at", "source", "event type", "delivery id"):
        table.add_column(column, overflow="fold")
    table.add_column("size", justify="right")
    for r in rows:
        table.add_row(
            cell(r["received_at"]),
            cell(r["source"]),
            cell(r["event_type"]),
            cell(r["delivery_id"]),
            cell(r["size"]),
        )
    stdout().print(table)
    stdout().print(cell(f"{len(rows)} event(s)"))


def drift_table(rows: Sequence[Mapping[str, Any]]) -> None:
    table = Table()
    for column in ("source", "event type", "new field"):
        table.add_column(column, overflow="fold")
    table.add_column("count", justify="right")
    for column in ("first seen", "last seen"):
        table.add_column(column, no_wrap=True)
    for r in rows:
        field = Text("(event type not in the catalogue)", style="yellow")
        table.add_row(
            cell(r["source"]),
            cell(r["event_type"]),
            field if r.get("unknown_event_type") else cell(r["field"]),
            cell(r["count"]),
            cell(r["first_seen"]),
            cell(r["last_seen"]),
        )
    stdout().print(table if rows else cell("no drift: every archived payload fits its model"))


def show(shown: Mapping[str, Any]) -> None:
    console = stdout()
    for key in ("delivery_id", "source", "event_type", "received_at", "size", "deliveries"):
        console.print(Text.assemble((f"{key}: ", "bold"), cell(shown[key])))
    table = Table(title="handlers bound now")
    for column in ("handler", "state", "detail"):
        table.add_column(column, overflow="fold")
    for fate in shown["handlers"]:
        table.add_row(cell(fate["handler"]), _state(fate["state"]), cell(_fate_detail(fate)))
    console.print(table if shown["handlers"] else cell("no handler is bound to it now"))
    if shown["provider_headers"]:
        console.print(Text("provider headers:", style="bold"))
        console.print(Text(safe(json_text(shown["provider_headers"]), lines=True)))
    console.print(Text("body:", style="bold"))
    body = shown["body"] if shown["body"] is not None else shown["body_text"]
    text = json_text(body) if shown["body"] is not None else str(body)
    console.print(Text(safe(text, lines=True)))


_COLOURS = {"done": "green", "running": "cyan", "retrying": "yellow", "dead": "red"}


def _state(state: str) -> Text:
    return Text(state, style=_COLOURS.get(state, ""))


def _fate_detail(fate: Mapping[str, Any]) -> str:
    if fate["state"] == "retrying":
        return f"attempt {fate.get('attempt')}, next try {fate.get('next_try')}"
    if fate["state"] == "dead":
        return f"{fate.get('reason') or 'reason not in the dead queue now'} ({fate.get('at')})"
    if fate["state"] == "done":
        return f"at {fate.get('at')}"
    if fate["state"] == "running":
        return "a worker holds its claim"
    return "not delivered to it yet"


def line(text: str) -> None:
    stdout().print(cell(text))


def error(text: str) -> None:
    print(f"{PROGRAM}: {safe(text)}", file=sys.stderr)


def output(data: Any) -> None:
    print_json(data)


@contextmanager
def progress_bar(what: str) -> Iterator[Progress | None]:
    """A bar on a terminal (stderr), nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console

    bar = Progress(
        TextColumn(safe(what)),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
    )
    with bar:
        bar.add_task(what, total=None)
        yield bar
