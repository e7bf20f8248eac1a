"""``hookq ingress``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookq.settings import Settings


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "ingress", help="serve POST /webhooks/{source} (port: HOOKQ_INGRESS_PORT)"
    )
    parser.set_defaults(run=_run)


def _run(_args: argparse.Namespace, settings: Settings) -> int:
    # Imported here, not above: `hookq --help` must not load aiohttp and aio-pika (hookq.cli).
    from hookq.ingress.server import serve
    from hookq.runtime import run

    run(serve(settings))
    return 0
