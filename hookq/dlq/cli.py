"""``hookq dlq stats|list|show|replay|purge``: the operators' dead-letter tools.

Exit codes: 0 done; 1 nothing matched / not found; 2 usage (bad arguments, an unknown handler);
3 incomplete (stopped early: other sessions held messages, a handler queue is missing, or the
broker could not be reached); 4 an unexpected error (a bug: its traceback is printed); 130
interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from hookq.display import safe

if TYPE_CHECKING:
    from hookq.settings import Settings

    AsyncCommand = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]

# The operators' exit codes (the docstring's), ``hookq events`` and ``hookq dlq`` alike.
EXIT_OK, EXIT_NOTHING, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_FAILED = 0, 1, 2, 3, 4


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    dlq = subparsers.add_parser(
        "dlq",
        help="inspect, replay and purge dead letters (safe while workers run)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="DLQ_COMMAND")

    stats = _add(sub, "stats", "stats", "per handler: dead count, oldest/newest, errors")
    _json(stats)

    list_ = _add(sub, "list", "list_", "a row per dead message")
    _filters(list_)
    list_.add_argument("--limit", type=int, default=None, metavar="N", help="at most N rows")
    _json(list_)

    show = _add(sub, "show", "show", "the failure record and the body (redacted)")
    show.add_argument("delivery_id", metavar="DELIVERY_ID")
    _json(show)

    replay = _add(sub, "replay", "replay", "put dead messages back to their handler")
    _filters(replay)
    _ids(replay)
    replay.add_argument("--all", action="store_true", help="every dead message selected")
    replay.add_argument("--rate", type=float, metavar="N", help="at most N messages a second")
    _mutating(replay)

    purge = _add(sub, "purge", "purge", "delete dead messages for good")
    _filters(purge)
    _ids(purge)
    purge.add_argument("--older-than", metavar="DURATION", help="failed before: 90s, 12h, 7d")
    purge.add_argument("--all", action="store_true", help="every dead message selected")
    purge.add_argument("--yes", action="store_true", help="required: purging cannot be undone")
    _mutating(purge)


def _add(
    sub: argparse._SubParsersAction[Any], name: str, command: str, help_text: str
) -> argparse.ArgumentParser:
    """``command``: the name of its function in ``hookq.dlq.commands``."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    parser.add_argument(
        "--handler",
        action="append",
        metavar="H",
        help="only this handler's dead queue (repeatable; 'unrouted' for the unrouted queue); "
        "default: every discovered handler and the unrouted queue",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="how long to wait for another browsing session to finish (default 3)",
    )
    parser.set_defaults(run=_runner(command))
    return parser


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", action="append", metavar="S", help="only this source")
    parser.add_argument("--event-type", action="append", metavar="T", help="only this type")
    parser.add_argument(
        "--error-type",
        action="append",
        metavar="E",
        help="only letters that failed with this error type (e.g. RuntimeError, no_handler)",
    )


def _ids(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--id", dest="ids", nargs="+", action="extend", metavar="DELIVERY_ID", help="these only"
    )


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _mutating(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="show what would be done")
    parser.add_argument(
        "--wait-others",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for other sessions to give back messages they hold (default 30)",
    )
    _json(parser)


def _runner(command_name: str) -> Callable[[argparse.Namespace, Settings], int]:
    def run_command(args: argparse.Namespace, settings: Settings) -> int:
        # Imported when a command runs, not when the parser is built: `hookq --help` must not
        # load aio-pika, rich and structlog (hookq.cli).
        import aiormq

        from hookq.dlq import commands
        from hookq.dlq.browse import QueueBusy
        from hookq.dlq.queues import UnknownHandler
        from hookq.runtime import run

        command: AsyncCommand = getattr(commands, command_name)
        try:
            return run(command(args, settings))
        except (commands.UsageError, UnknownHandler) as exc:
            _say(str(exc))
            return EXIT_USAGE
        except QueueBusy as exc:
            _say(str(exc))
            return EXIT_INCOMPLETE
        except KeyboardInterrupt:
            # What was committed stays done; everything else is back in its dead queue.
            _say(f"interrupted; {SAFE_STATE}: run the command again to finish")
            return 130
        except (OSError, aiormq.exceptions.AMQPError) as exc:
            _say(f"broker error: {type(exc).__name__}: {exc}")
            return EXIT_INCOMPLETE
        except Exception as exc:
            # A bug. Python's own exit status for it (1) would read as "nothing matched".
            print(safe("".join(traceback.format_exception(exc)), lines=True), file=sys.stderr)
            _say(f"unexpected error ({type(exc).__name__}); {SAFE_STATE}; please report it")
            return EXIT_FAILED

    return run_command


# True whatever stopped a command: replay and purge commit in transactions, browses never ack.
SAFE_STATE = "every message is either done or back in its queue"


def _say(text: str) -> None:
    # Exception texts quote hostile data (a handler name typed, a broker's reply).
    print(f"hookq dlq: {safe(text)}", file=sys.stderr)
