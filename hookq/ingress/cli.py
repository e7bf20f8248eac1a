"""``hookq ingress``."""

from __future__ import annotations

import argparse
from typing import Any

from hookq.ingress.server import serve
from hookq.runtime import run
from hookq.settings import Settings


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "ingress", help="serve POST /webhooks/{source} (port: HOOKQ_INGRESS_PORT)"
    )
    parser.set_defaults(run=_run)


def _run(_args: argparse.Namespace, settings: Settings) -> int:
    run(serve(settings))
    return 0
