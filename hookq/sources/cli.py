"""``hookq schema [SOURCE[.TYPE]]``: the event catalogue and JSON Schemas, as JSON on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookq.settings import Settings


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the event catalogue, or the JSON Schema of a source's events",
        description="Without an argument: every source, its event types and their model "
        "classes. SOURCE (e.g. plain): the JSON Schemas of all its events. SOURCE.TYPE "
        "(e.g. plain.thread.chat_sent): that event's JSON Schema.",
    )
    parser.add_argument("selector", nargs="?", metavar="SOURCE[.TYPE]")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace, _settings: Settings) -> int:
    # Imported here, not above: `hookq --help` must not load every event model (hookq.cli).
    from hookq.sources.catalogue import UnknownSelector, schema_document

    try:
        document = schema_document(args.selector)
    except UnknownSelector as exc:
        print(f"hookq schema: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0
