"""``hookq destinations list|enable|reset|check``: the operators' view of the HTTP destinations
of ``HOOKQ_DESTINATIONS_FILE``.

- ``list``: each destination, its URL, patterns, limits and state (circuit, disabled);
- ``enable NAME``: deliver again to a destination disabled by a 410 Gone;
- ``reset NAME``: close its circuit breaker now (the next message goes without waiting);
- ``check``: read the file (every mistake named) and open a TCP connection to each
  destination's host; nothing is sent.

Exit codes: 0 done; 1 nothing to do (not disabled) or a destination unreachable (check); 2 usage
(no file, a bad file, an unknown destination); 3 Redis could not be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from hookq.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from hookq.display import safe

if TYPE_CHECKING:
    from hookq.destinations.config import Destination
    from hookq.destinations.state import Status
    from hookq.settings import Settings

EXIT_UNREACHABLE = 3
FILE_VARIABLE = "HOOKQ_DESTINATIONS_FILE"  # env_name("destinations_file"), without pydantic


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "destinations",
        help="list HTTP destinations, re-enable one, reset its circuit, check the file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="destinations_command", required=True, metavar="COMMAND")
    listing = sub.add_parser("list", help="each destination and its state")
    listing.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    listing.set_defaults(run=_list)
    enable = sub.add_parser("enable", help="deliver again to a destination a 410 disabled")
    enable.add_argument("name", metavar="NAME")
    enable.set_defaults(run=_enable)
    reset = sub.add_parser("reset", help="close a destination's circuit breaker now")
    reset.add_argument("name", metavar="NAME")
    reset.set_defaults(run=_reset)
    check = sub.add_parser("check", help="check the file and that each host accepts connections")
    check.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS")
    check.set_defaults(run=_check)


def _load(settings: Settings) -> list[Destination] | None:
    from hookq.destinations.config import DestinationsError, load_destinations

    if not settings.destinations_file:
        print(f"hookq destinations: {FILE_VARIABLE} is not set", file=sys.stderr)
        return None
    try:
        return load_destinations(settings.destinations_file)
    except DestinationsError as exc:
        print(f"hookq destinations: {safe(str(exc))}", file=sys.stderr)
        return None


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from hookq.destinations.state import read_statuses
    from hookq.runtime import run
    from hookq.topology import Names

    destinations = _load(settings)
    if destinations is None:
        return EXIT_USAGE
    statuses = run(read_statuses(settings.redis_url, Names(settings.namespace), destinations))
    rows = [describe(d, statuses) for d in destinations]
    if args.json:
        print(json.dumps({"destinations": rows, "redis": statuses is not None}, indent=2))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from hookq.display import output_width

    table = Table(title=Text(safe(f"hookq destinations ({settings.destinations_file})")))
    for column in ("destination", "url / patterns", "policy", "state"):
        table.add_column(column, overflow="fold")
    for row in rows:
        policy = [
            f"timeout {row['timeout']:g}s",
            f"{row['max_attempts']} attempts",
            f"rate {row['rate_limit'] or 'unlimited'}",
            f"circuit {row['circuit_failures']} failures, {row['circuit_cooldown']:g}s",
        ]
        table.add_row(
            Text(safe(row["name"]), style="bold"),
            # One value per line, each shown as text (safe keeps a value on its own line).
            Text("\n".join(safe(value) for value in [row["url"], *row["patterns"]])),
            Text("\n".join(policy)),
            Text(safe(row["state"])),
        )
    Console(file=sys.stdout, width=output_width(sys.stdout)).print(table)
    return EXIT_OK


def describe(destination: Destination, statuses: dict[str, Status] | None) -> dict[str, Any]:
    """One destination as ``list --json`` prints it (and ``hookq handlers`` adds to its row)."""
    status = statuses.get(destination.name) if statuses is not None else None
    return {
        "name": destination.name,
        "url": destination.url,
        "patterns": list(destination.patterns),
        "timeout": destination.timeout,
        "max_attempts": destination.max_attempts,
        "rate_limit": str(destination.rate_limit) if destination.rate_limit else None,
        "circuit_failures": destination.circuit_failures,
        "circuit_cooldown": destination.circuit_cooldown,
        "state": status.describe() if status else "unknown (Redis unreachable)",
        "circuit": status.circuit.label if status else None,
        "failures": status.failures if status else None,
        "disabled": status.disabled if status else None,
    }


def _one(settings: Settings, name: str) -> Destination | None:
    destinations = _load(settings)
    if destinations is None:
        return None
    found = next((d for d in destinations if d.name == name), None)
    if found is None:
        known = ", ".join(d.name for d in destinations) or "none"
        print(
            f"hookq destinations: unknown destination {safe(name)!r} (known: {known})",
            file=sys.stderr,
        )
    return found


def _enable(args: argparse.Namespace, settings: Settings) -> int:
    return _change(args, settings, "enable")


def _reset(args: argparse.Namespace, settings: Settings) -> int:
    return _change(args, settings, "reset")


def _change(args: argparse.Namespace, settings: Settings, what: str) -> int:
    from hookq.runtime import run

    destination = _one(settings, args.name)
    if destination is None:
        return EXIT_USAGE
    return run(_change_state(settings, destination, what))


async def _change_state(settings: Settings, destination: Destination, what: str) -> int:
    import asyncio

    from hookq.destinations.state import DestinationState
    from hookq.redis_client import REDIS_REFUSING, redis_client
    from hookq.topology import Names

    client = redis_client(settings.redis_url)
    state = DestinationState(client, Names(settings.namespace), destination)
    try:
        async with asyncio.timeout(5.0):
            if what == "enable":
                if not await state.enable():
                    print(f"{destination.name}: not disabled (nothing to do)")
                    return EXIT_FAILED
                print(f"{destination.name}: enabled; its waiting events are delivered now")
            else:
                await state.reset()
                print(f"{destination.name}: circuit closed")
            return EXIT_OK
    except REDIS_REFUSING as exc:
        print(f"hookq destinations: Redis unreachable: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    finally:
        await client.aclose()


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from hookq.runtime import run

    destinations = _load(settings)
    if destinations is None:
        return EXIT_USAGE
    failures = run(_reach_all(destinations, args.timeout))
    for destination in destinations:
        problem = failures.get(destination.name)
        verdict = f"unreachable: {problem}" if problem else "reachable"
        print(safe(f"{destination.name}: {destination.url}: {verdict}"))
    print(f"{len(destinations)} destination(s) read from {safe(str(settings.destinations_file))}")
    return EXIT_FAILED if failures else EXIT_OK


async def _reach_all(destinations: list[Destination], seconds: float) -> dict[str, str]:
    import asyncio

    results = await asyncio.gather(*(_reach(d.url, seconds) for d in destinations))
    return {d.name: problem for d, problem in zip(destinations, results, strict=True) if problem}


async def _reach(url: str, seconds: float) -> str:
    """Why a TCP connection to the URL's host fails ('' when it opens)."""
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(seconds):
            _reader, writer = await asyncio.open_connection(parts.hostname, port)
    except TimeoutError:
        return f"no connection within {seconds:g}s"
    except OSError as exc:
        return exc.strerror or str(exc)
    writer.close()
    return ""
