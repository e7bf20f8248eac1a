"""``hookq worker [--handler NAME ...] [--prefetch N]``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from hookq.cli import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from hookq.settings import Settings

# hookq.settings.env_name("prefetch"), written out: importing the settings module (pydantic)
# would cost `hookq --help` more than everything else it does (tests/hookq/test_cli.py checks
# the name against env_name).
PREFETCH_VARIABLE = "HOOKQ_PREFETCH"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="consume the handlers' queues: validate, dedupe, run handlers, retry, dead-letter",
    )
    parser.add_argument(
        "--handler",
        action="append",
        default=[],
        metavar="NAME",
        help="consume only this handler's queue (repeatable; default: every handler)",
    )
    parser.add_argument(
        "--prefetch",
        type=int,
        default=None,
        metavar="N",
        help=f"unacked messages per handler queue, i.e. its concurrency "
        f"(default: {PREFETCH_VARIABLE})",
    )
    parser.add_argument(
        "--adopt",
        action="append",
        default=[],
        metavar="NAME",
        help="take over this handler's queue from the module that declared it before (it "
        "moved on purpose); without it a worker refuses a handler whose queue another "
        "module's handler declared (repeatable)",
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here, not above: `hookq --help` must not load aio-pika, structlog, redis.
    from hookq.handlers.registry import RegistryError, discover
    from hookq.runtime import run
    from hookq.worker.hook_registry import HookError, team_hooks
    from hookq.worker.runner import check_timeouts, select, serve

    if args.prefetch is not None and args.prefetch < 1:
        print("hookq worker: --prefetch must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        discovered = discover(settings)
        specs = select(discovered, args.handler)
    except RegistryError as exc:
        print(f"hookq worker: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyError as exc:
        print(
            f"hookq worker: unknown handler(s) {exc.args[0]} (see `hookq handlers`)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not specs:
        print("hookq worker: no handler to run (see `hookq handlers`)", file=sys.stderr)
        return EXIT_USAGE
    if not_run := sorted(set(args.adopt) - set(specs)):
        print(f"hookq worker: --adopt {', '.join(not_run)}: not run here", file=sys.stderr)
        return EXIT_USAGE
    check_timeouts(specs, settings)  # a SettingsError: hookq.cli prints it, exit 2
    try:
        hooks = team_hooks(settings)
    except HookError as exc:
        print(f"hookq worker: {exc}", file=sys.stderr)
        return EXIT_USAGE
    run(serve(settings, specs, args.prefetch, hooks, adopt=args.adopt, deployed=list(discovered)))
    return EXIT_OK
