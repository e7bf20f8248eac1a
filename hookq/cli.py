"""The ``hookq`` command. Each subcommand lives beside the code it runs, in a module with
``register(subparsers)``; this file only lists them and handles what they share: settings,
logging and exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol

from hookq.logs import configure_logging
from hookq.settings import Settings, SettingsError, load_settings

# Modules that add a subcommand, in the order ``hookq --help`` lists them.
COMMAND_MODULES = (
    "hookq.ingress.cli",
    "hookq.sources.cli",
    "hookq.handlers.cli",
    "hookq.worker.cli",
    "hookq.dlq.cli",
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class Command(Protocol):
    def __call__(self, args: argparse.Namespace, settings: Settings) -> int: ...


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hookq",
        description="Webhook ingestion: ingress, worker, handlers and dead-letter tools. "
        "Configured by HOOKQ_* environment variables (see the README).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"hookq: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings)
    command: Command = args.run
    try:
        return command(args, settings)
    except SettingsError as exc:
        print(f"hookq: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
