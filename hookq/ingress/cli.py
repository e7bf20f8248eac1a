"""``hookq ingress``."""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import TYPE_CHECKING, Any

from hookq.supervisor import add_arguments as add_processes_arguments

if TYPE_CHECKING:
    from hookq.settings import Settings

# Seconds an ingress process may take to finish its requests once stopped (their publishes
# confirm within HOOKQ_PUBLISH_TIMEOUT; a slow body takes at most HOOKQ_INGRESS_BODY_TIMEOUT).
GRACE = 30.0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "ingress", help="serve POST /webhooks/{source} (port: HOOKQ_INGRESS_PORT)"
    )
    add_processes_arguments(parser, "sharing the port")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.child is None and args.processes > 1:
        return _supervise(args, settings)
    # Imported here, not above: `hookq --help` must not load aiohttp and aio-pika (hookq.cli).
    from hookq.ingress.server import serve
    from hookq.runtime import run

    if args.child is not None:
        import structlog

        structlog.contextvars.bind_contextvars(child=args.child)
    run(serve(settings, args.child))
    return 0


def _supervise(args: argparse.Namespace, settings: Settings) -> int:
    from hookq.supervisor import Supervisor

    settings.require_source_secrets()  # said once, here, rather than by every child
    # The children's metrics are summed from files in a directory of this supervisor's
    # (prometheus_client's multiprocess mode, which reads this variable itself).
    with tempfile.TemporaryDirectory(prefix="hookq-ingress-metrics-") as metrics_dir:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
        supervisor = Supervisor("ingress", args.argv, args.processes, GRACE, env=env)
        return supervisor.run()
