"""Human output: rich tables on stdout, notes on stderr, progress bars on a terminal only."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from rich.console import Console
from rich.json import JSON
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hookq.dlq.move import Progress as OnMoved
from hookq.dlq.records import DeadRecord
from hookq.message import Header

ERROR_WIDTH = 60
PIPE_WIDTH = 200


def stdout() -> Console:
    # Built per call so that redirected (and test-captured) stdout is honoured. Off a terminal
    # rich would wrap at 80 columns: wide lines grep better.
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else PIPE_WIDTH)


def note(text: str) -> None:
    Console(file=sys.stderr).print(f"[yellow]note:[/] {text}", highlight=False)


def error(text: str) -> None:
    Console(file=sys.stderr).print(f"[red]hookq dlq:[/] {text}", highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def rows_table(rows: Sequence[Mapping[str, Any]], title: str) -> None:
    stdout().print(title, highlight=False)
    table = Table()
    for column in ("#", "delivery id", "source", "event type", "handler", "att.", "error"):
        table.add_column(column, overflow="fold")
    table.add_column("failed at", no_wrap=True)
    for r in rows:
        error = (
            f"{r['error_type']}: {r['error_message']}" if r["error_message"] else r["error_type"]
        )
        table.add_row(
            str(r["position"]),
            r["delivery_id"],
            r["source"],
            r["event_type"],
            r["handler"],
            "" if r["attempts"] is None else str(r["attempts"]),
            _shorten(error, ERROR_WIDTH),
            r["failed_at"] or "",
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
            e["handler"],
            e["queue"],
            dead + ("" if e["complete"] else "+?"),
            e["oldest_failure"] or "",
            e["newest_failure"] or "",
            errors,
        )
    stdout().print(table)


def detail(d: Mapping[str, Any]) -> None:
    console = stdout()
    table = Table(show_header=False, title=f"{d['handler']} / {d['delivery_id']}")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key in (
        "queue", "position", "source", "event_type", "handler", "attempts", "error_type",
        "error_message", "first_failed_at", "failed_at", "received_at", "replays", "replayed_at",
        "routing_key", "content_type",
    ):  # fmt: skip
        value = d.get(key)
        table.add_row(key, "" if value is None else str(value))
    console.print(table)
    console.print("[bold]headers[/]")
    # The traceback is printed below, in full lines.
    headers = {k: v for k, v in d["headers"].items() if k != Header.TRACEBACK}
    console.print(JSON(_pretty(headers)))
    if d["traceback"]:
        console.print("[bold]traceback[/]")
        console.print(d["traceback"], highlight=False, markup=False)
    console.print("[bold]body[/]")
    if d["body_is_json"]:
        console.print(JSON(_pretty(d["body"])))
    else:
        console.print(d["body"], highlight=False, markup=False)


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


def _pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode()


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
