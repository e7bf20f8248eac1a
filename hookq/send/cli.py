"""``hookq send SOURCE.TYPE [--file PAYLOAD] [--url INGRESS_BASE_URL] [--secret S]``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookq.settings import Settings


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "send",
        help="sign an example event (or a file) as its provider would and POST it to an ingress",
        description="Signs the catalogue's example of SOURCE.TYPE (or --file) with the source's "
        "configured secret (HOOKQ_<SOURCE>_SECRETS, as the ingress reads it) the provider's way, "
        "POSTs it to a running ingress and prints the answer's status and JSON. "
        "Exit codes: 0 accepted (2xx), 1 refused (any other status), 2 usage (an unknown "
        "SOURCE.TYPE, a file that is not the event, no secret), 3 ingress unreachable.",
    )
    parser.add_argument(
        "selector", metavar="SOURCE.TYPE", help="e.g. plain.thread.chat_sent (`hookq schema`)"
    )
    parser.add_argument(
        "--file", type=Path, metavar="PAYLOAD", help="a JSON event to send instead of the example"
    )
    parser.add_argument(
        "--url",
        metavar="INGRESS_BASE_URL",
        help="default: http://127.0.0.1:$HOOKQ_INGRESS_PORT (the path /webhooks/SOURCE is added)",
    )
    parser.add_argument(
        "--secret",
        metavar="S",
        help="sign with S instead of the configured secret (visible to other local users: "
        "prefer HOOKQ_<SOURCE>_SECRETS)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS", help="default: 10"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here, not above: `hookq --help` must not load aiohttp and the models (hookq.cli).
    from hookq.send.sender import Order, send

    order = Order(args.selector, args.file, args.url, args.secret, args.timeout)
    return send(order, settings)
