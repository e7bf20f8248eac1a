"""``hookq worker [--handler NAME ...] [--prefetch N]``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from hookq.cli import EXIT_OK, EXIT_USAGE
from hookq.supervisor import add_arguments as add_processes_arguments

if TYPE_CHECKING:
    from hookq.settings import Settings

# hookq.settings.env_name("prefetch"), written out: importing the settings module (pydantic)
# would cost `hookq --help` more than everything else it does (tests/hookq/test_cli.py checks
# the name against env_name).
PREFETCH_VARIABLE = "HOOKQ_PREFETCH"
METRICS_PORT_VARIABLE = "HOOKQ_WORKER_METRICS_PORT"


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
    add_processes_arguments(parser, "each consumes every queue it runs")
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
    if args.child is None and args.processes > 1:
        return _supervise(args, settings)
    if args.child is not None:
        settings = _child_settings(settings, args.child)
    run(serve(settings, specs, args.prefetch, hooks, adopt=args.adopt, deployed=list(discovered)))
    return EXIT_OK


def _supervise(args: argparse.Namespace, settings: Settings) -> int:
    from hookq.supervisor import Supervisor

    last_port = settings.worker_metrics_port + args.processes - 1
    if settings.worker_metrics_port and last_port > 65535:
        print(
            f"hookq worker: --processes {args.processes}: metrics ports from "
            f"{METRICS_PORT_VARIABLE}={settings.worker_metrics_port} would pass 65535",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return Supervisor("worker", args.argv, args.processes, settings.shutdown_grace).run()


def _child_settings(settings: Settings, index: int) -> Settings:
    """A supervised worker's: its metrics port is the configured one plus its index (each
    child's /metrics and /readyz answer for that child), and its logs name it."""
    import structlog

    structlog.contextvars.bind_contextvars(child=index)
    if not settings.worker_metrics_port:
        return settings
    return settings.model_copy(update={"worker_metrics_port": settings.worker_metrics_port + index})
