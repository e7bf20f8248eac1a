"""``hookq events list|show|replay|drift``: the event archive (``hookq.events``).

Exit codes, as ``hookq dlq``'s: 0 done; 1 nothing matched / not found; 2 usage (bad arguments,
an unknown handler, no archive); 3 incomplete (the broker or Redis could not be reached, or
stopped answering); 4 an unexpected error (a bug: its traceback is printed); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from hookq.display import safe
from hookq.dlq.cli import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_USAGE

if TYPE_CHECKING:
    from hookq.settings import Settings

    AsyncCommand = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]

TIME_HELP = "a duration back from now (90s, 2h, 3d) or an ISO-8601 time"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    events = subparsers.add_parser(
        "events",
        help="find, trace and replay every accepted event (the archive)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = events.add_subparsers(dest="events_command", required=True, metavar="EVENTS_COMMAND")

    list_ = _add(sub, "list", "list_", "a row per archived event")
    _filters(list_)

    show = _add(sub, "show", "show", "an event (masked) and its fate in each bound handler")
    show.add_argument("delivery_id", metavar="DELIVERY_ID")
    show.add_argument(
        "--since",
        metavar="T",
        help="read from T (a duration or ISO-8601 time) instead of the whole archive",
    )

    replay = _add(sub, "replay", "replay", "run archived events once more in a handler")
    who = replay.add_mutually_exclusive_group()
    who.add_argument("--handler", action="append", metavar="NAME", help="repeatable")
    who.add_argument(
        "--all-handlers", action="store_true", help="each event to every handler bound to it"
    )
    _filters(replay)
    replay.add_argument(
        "--id", dest="ids", nargs="+", action="extend", metavar="DELIVERY_ID", help="these only"
    )
    replay.add_argument("--rate", type=float, metavar="N", help="at most N events a second")
    replay.add_argument("--dry-run", action="store_true", help="count, send nothing")
    replay.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    replay.add_argument(
        "--resume", metavar="REPLAY_ID", help="finish an interrupted replay (its own selection)"
    )

    drift = _add(sub, "drift", "drift", "fields and event types the typed models do not know")
    drift.add_argument("--source", metavar="S", help="only this source")
    drift.add_argument("--since", metavar="T", help=f"events received since T: {TIME_HELP}")


def _add(
    sub: argparse._SubParsersAction[Any], name: str, command: str, help_text: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=_runner(command), events_command_name=command)
    return parser


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="S", help="only this source")
    parser.add_argument(
        "--type", metavar="PATTERN", help="event types matching a topic pattern (thread.*, #)"
    )
    parser.add_argument("--since", metavar="T", help=f"received at or after T: {TIME_HELP}")
    parser.add_argument("--until", metavar="T", help=f"received at or before T: {TIME_HELP}")
    parser.add_argument(
        "--contains", metavar="TEXT", help="in the body as shown (masked values never match)"
    )
    parser.add_argument("--limit", type=int, metavar="N", help="the newest N matching events")


def _runner(command_name: str) -> Callable[[argparse.Namespace, Settings], int]:
    def run_command(args: argparse.Namespace, settings: Settings) -> int:
        from hookq.runtime import run  # imported when a command runs: `hookq --help` stays light

        try:
            return run(execute(command_name, args, settings))
        except KeyboardInterrupt:
            _say(INTERRUPTED.get(command_name, "interrupted"))
            return 130

    return run_command


async def execute(command_name: str, args: argparse.Namespace, settings: Settings) -> int:
    """Run one subcommand (``hookq.events.commands``) and turn what stopped it into an exit
    code and a message."""
    import aiormq
    import redis.exceptions

    from hookq.events import commands
    from hookq.events.archive import ArchiveMissing, ArchiveStalled

    command: AsyncCommand = getattr(commands, command_name)
    try:
        return await command(args, settings)
    except commands.UsageError as exc:
        _say(str(exc))
        return EXIT_USAGE
    except ArchiveMissing as exc:
        _say(f"{exc}: is HOOKQ_ARCHIVE on, and has an ingress run with it?")
        return EXIT_USAGE
    except (OSError, aiormq.exceptions.AMQPError, redis.exceptions.RedisError) as exc:
        _say(f"broker or Redis error: {type(exc).__name__}: {exc}")
        return EXIT_INCOMPLETE
    except ArchiveStalled as exc:
        _say(str(exc))
        return EXIT_INCOMPLETE
    except Exception as exc:
        print(safe("".join(traceback.format_exception(exc)), lines=True), file=sys.stderr)
        _say(f"unexpected error ({type(exc).__name__}); please report it")
        return EXIT_FAILED


INTERRUPTED = {
    "replay": "interrupted: run it again with --resume REPLAY_ID (the id printed at its start) "
    "to finish it; nothing is skipped or run twice"
}


def _say(text: str) -> None:
    print(f"hookq events: {safe(text)}", file=sys.stderr)
