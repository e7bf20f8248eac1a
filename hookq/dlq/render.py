"""Human output: rich tables on stdout, notes on stderr, progress bars on a terminal only.

Every value shown comes from a dead message or its queue, and is hostile until shown safe: it
reaches rich only as ``rich.text.Text`` made by ``hookq.display.safe`` (never as a markup
string, which rich would interpret, and never with a control character left raw).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from hookq.display import json_text, output_width, safe
from hookq.dlq.move import Progress as OnMoved
from hookq.dlq.records import DeadRecord
from hookq.message import Header

ERROR_WIDTH = 60
DETAIL_FIELDS = (
    "queue", "position", "source", "event_type", "handler", "attempts", "error_type",
    "error_message", "first_failed_at", "failed_at", "received_at", "replays", "replayed_at",
    "routing_key", "content_type",
)  # fmt: skip


def stdout() -> Console:
    # Built per call so that redirected (and test-captured) stdout is honoured.
    return Console(file=sys.stdout, width=output_width(sys.stdout))


def _stderr() -> Console:
    return Console(file=sys.stderr, width=output_width(sys.stderr))


def cell(value: Any) -> Text:
    """One value on one line, as text: no markup, no control character."""
    return Text("" if value is None else safe(str(value)))


def line(text: str) -> None:
    stdout().print(cell(text))


def note(text: str) -> None:
    _stderr().print(Text.assemble(("note:", "yellow"), " ", cell(text)))


def error(text: str) -> None:
    _stderr().print(Text.assemble(("hookq dlq:", "red"), " ", cell(text)))


def print_json(data: Any) -> None:
    sys.stdout.write(json_text(data) + "\n")


def rows_table(rows: Sequence[Mapping[str, Any]], title: str) -> None:
    line(title)
    table = Table()
    for column in ("#", "delivery id", "source", "event type", "handler", "att.", "error"):
        table.add_column(column, overflow="fold")
    table.add_column("failed at", no_wrap=True)
    for r in rows:
        error = (
            f"{r['error_type']}: {r['error_message']}" if r["error_message"] else r["error_type"]
        )
        table.add_row(
            cell(r["position"]),
            cell(r["delivery_id"]),
            cell(r["source"]),
            cell(r["event_type"]),
            cell(r["handler"]),
            cell(r["attempts"]),
            Text(_shorten(error, ERROR_WIDTH)),
            cell(r["failed_at"]),
        )
    stdout().print(table)


def stats_table(entries: Sequence[Mapping[str, Any]]) -> None:
    table = Table()
    for column in ("handler", "queue", "dead", "oldest failure", "newest failure", "errors"):
        table.add_column(column, overflow="fold")
    for e in entries:
        errors = ", ".join(f"{kind} x{n}" for kind, n in e["error_types"].items())
        dead = str(e["dead"]) if e["exists"] else "no queue"
        table.add_row(
            cell(e["handler"]),
            cell(e["queue"]),
            cell(dead + ("" if e["complete"] else "+?")),
            cell(e["oldest_failure"]),
            cell(e["newest_failure"]),
            cell(errors),
        )
    stdout().print(table)


def orphans_table(entries: Sequence[Mapping[str, Any]]) -> None:
    line(
        "orphaned handler queues: declared by handlers this deployment no longer has, still "
        "bound and filling, consumed by nobody (delete each once what it holds is not needed: "
        "rabbitmqctl delete_queue NAME):"
    )
    table = Table()
    for column in ("handler", "queue", "waiting", "dead", "declared by", "last declared"):
        table.add_column(column, overflow="fold")
    table.add_column("still bound", overflow="fold")
    for e in entries:
        table.add_row(
            cell(e["handler"]),
            cell(e["queue"]),
            cell(e["waiting"]),
            cell(e["dead"]),
            cell(e["declared_by"]),
            cell(e["last_declared"]),
            cell(" ".join(e["patterns"])),
        )
    stdout().print(table)


def detail(d: Mapping[str, Any]) -> None:
    console = stdout()
    table = Table(show_header=False, title=cell(f"{d['handler']} / {d['delivery_id']}"))
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key in DETAIL_FIELDS:
        table.add_row(key, cell(d.get(key)))
    console.print(table)
    console.print(Text("headers", style="bold"))
    # The traceback is printed below, in full lines.
    headers = {k: v for k, v in d["headers"].items() if k != Header.TRACEBACK}
    console.print(_json_view(headers))
    if d["traceback"]:
        console.print(Text("traceback", style="bold"))
        console.print(Text(safe(d["traceback"], lines=True)))
    console.print(Text("body", style="bold"))
    if d["body_is_json"]:
        console.print(_json_view(d["body"]))
    else:
        console.print(Text(safe(d["body"], lines=True)))


@contextmanager
def progress(total: int, label: str, enabled: bool) -> Iterator[OnMoved]:
    """A progress bar on stderr when it is a terminal; yields the per-message callback."""
    console = Console(file=sys.stderr)
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not (enabled and console.is_terminal),
    )
    with bar:
        task = bar.add_task(label, total=total)

        def advance(_record: DeadRecord) -> None:
            bar.advance(task)

        yield advance


def _json_view(value: Any) -> Text:
    # Not rich.json.JSON: it re-encodes with ensure_ascii=False, writing C1 and bidi controls raw.
    return JSONHighlighter()(Text(safe(json_text(value), lines=True)))


def _shorten(text: str, width: int) -> str:
    text = safe(" ".join(text.split()))  # one line: new lines and tabs become spaces
    return text if len(text) <= width else text[: width - 1] + "…"
