"""``hookq console``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookq.settings import Settings


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "console",
        help="serve the operators' web console (port: HOOKQ_CONSOLE_PORT; tokens: "
        "HOOKQ_CONSOLE_TOKENS)",
    )
    parser.set_defaults(run=_run)


def _run(_args: argparse.Namespace, settings: Settings) -> int:
    # Imported here, not above: `hookq --help` must not load aiohttp, jinja2 and aio-pika.
    from hookq.console.server import serve
    from hookq.runtime import run

    run(serve(settings))
    return 0
