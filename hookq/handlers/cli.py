"""``hookq handlers``: what the worker would run, with the queue names operators watch."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

from hookq.cli import EXIT_OK, EXIT_USAGE
from hookq.display import output_width, safe

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from hookq.handlers.api import HandlerSpec
    from hookq.settings import Settings
    from hookq.topology import Names


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "handlers", help="list the discovered handlers, their queues and retry policy"
    )
    parser.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    parser.set_defaults(run=_run)


def describe(spec: HandlerSpec, names: Names) -> dict[str, Any]:
    """One handler as ``hookq handlers --json`` prints it."""
    return {
        "name": spec.name,
        "patterns": list(spec.patterns),
        "queue": names.handler_queue(spec.name),
        "dead_queue": names.dead_queue(spec.name),
        "retry_queues": [
            {"delay": delay, "queue": names.retry_queue(spec.name, delay)}
            for delay in spec.retry_delays
        ],
        "max_attempts": spec.max_attempts,
        "timeout": spec.timeout,
        "backoff": {
            "base": spec.backoff.base,
            "factor": spec.backoff.factor,
            "max_delay": spec.backoff.max_delay,
            "jitter": spec.backoff.jitter,
        },
        "origin": spec.origin,
        "transactional": spec.transactional,
    }


def _run(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here, not above: `hookq --help` must not load rich, structlog and aio-pika.
    from rich.console import Console
    from rich.text import Text

    from hookq.handlers.registry import RegistryError, discover
    from hookq.topology import Names
    from hookq.worker.hook_registry import HookError, hook_names

    try:
        specs = discover(settings)
        hooks = hook_names(settings, specs)
    except (RegistryError, HookError) as exc:
        print(f"hookq handlers: {safe(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    names = Names(settings.namespace)
    destinations = _destinations(settings, specs)
    if args.json:
        listing = [
            describe(spec, names) | _only(destinations, spec.name, "destination")
            for spec in specs.values()
        ]
        document = {"namespace": settings.namespace, "handlers": listing, "hooks": hooks}
        print(json.dumps(document, indent=2))
    else:
        console = Console(file=sys.stdout, width=output_width(sys.stdout))
        console.print(_table(list(specs.values()), names, destinations))
        console.print(Text(safe("hooks, outermost first: " + ", ".join(hooks))))
    return EXIT_OK


def _destinations(settings: Settings, specs: dict[str, HandlerSpec]) -> dict[str, dict[str, Any]]:
    """The HTTP destinations among the handlers, with their state read from Redis."""
    from hookq.destinations.cli import describe as describe_destination
    from hookq.destinations.delivery import forwarders
    from hookq.destinations.state import read_statuses
    from hookq.runtime import run
    from hookq.topology import Names

    found = [f.destination for f in forwarders(specs)]
    if not found:
        return {}
    statuses = run(read_statuses(settings.redis_url, Names(settings.namespace), found))
    return {d.name: describe_destination(d, statuses) for d in found}


def _only(found: dict[str, dict[str, Any]], name: str, key: str) -> dict[str, Any]:
    return {key: found[name]} if name in found else {}


def _table(
    specs: Collection[HandlerSpec], names: Names, destinations: dict[str, dict[str, Any]]
) -> Table:
    from rich.table import Table
    from rich.text import Text

    from hookq.handlers.registry import ENTRY_POINT_GROUP
    from hookq.settings import env_name
    from hookq.topology import format_delay

    # Four columns, long values folded rather than cut: queue names must stay whole to be
    # copied into a dashboard, and terminals are often 80 columns wide (piped: not folded at
    # all). Cells are Text, never markup: an origin is a team's module path or entry point.
    title = Text(safe(f"hookq handlers (namespace {names.namespace})"))
    table = Table(title=title, show_lines=True)
    for column in ("handler / origin", "patterns", "queues", "policy"):
        table.add_column(column, overflow="fold")
    for spec in specs:
        retries = [
            f"retry {format_delay(d)}: {names.retry_queue(spec.name, d)}" for d in spec.retry_delays
        ]
        backoff = spec.backoff
        jitter = ", jitter" if backoff.jitter else ""
        queues = [names.handler_queue(spec.name), *retries, f"dead: {names.dead_queue(spec.name)}"]
        table.add_row(
            Text.assemble((safe(spec.name), "bold"), "\n", (safe(spec.origin), "dim")),
            _lines(spec.patterns),
            _lines(queues),
            _lines(
                [
                    f"{spec.max_attempts} attempts",
                    f"timeout {spec.timeout:g}s",
                    f"backoff {format_delay(backoff.base)} x{backoff.factor:g}",
                    f"max {format_delay(backoff.max_delay)}{jitter}",
                    *(["transactional (PostgreSQL inbox)"] if spec.transactional else []),
                    *_destination_lines(destinations.get(spec.name)),
                ]
            ),
        )
    if not specs:
        table.caption = Text(
            f"no handlers: list modules in {env_name('handler_modules')}, install a "
            f"{ENTRY_POINT_GROUP} plugin or enable {env_name('builtin_handlers')}"
        )
    return table


def _destination_lines(destination: dict[str, Any] | None) -> list[str]:
    if destination is None:
        return []
    return [
        f"POST {destination['url']}",
        f"rate {destination['rate_limit'] or 'unlimited'}",
        f"state: {destination['state']}",
    ]


def _lines(values: Iterable[str]) -> Text:
    """One value per line, each shown as text (``safe`` keeps it on its own line)."""
    from rich.text import Text

    return Text("\n".join(safe(value) for value in values))
