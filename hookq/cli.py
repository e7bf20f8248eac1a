"""The ``hookq`` command. Each subcommand lives beside the code it runs, in a module with
``register(subparsers)``; this file only lists them and handles what they share: settings,
logging, ``--version`` and exit codes.

Building the parser must stay light: the registration modules import what their command runs
inside the command, and this one imports settings and logging after parsing, so ``hookq --help``
and usage errors answer without loading aio-pika, the event models, rich or structlog
(tests/hookq/test_cli.py checks which modules a ``--help`` imports).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hookq.settings import Settings

# Modules that add a subcommand, in the order ``hookq --help`` lists them.
COMMAND_MODULES = (
    "hookq.ingress.cli",
    "hookq.sources.cli",
    "hookq.send.cli",
    "hookq.handlers.cli",
    "hookq.destinations.cli",
    "hookq.worker.cli",
    "hookq.dlq.cli",
    "hookq.events.cli",
    "hookq.console.cli",
    "hookq.db.cli",
)

DISTRIBUTION = "hookq"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class Command(Protocol):
    def __call__(self, args: argparse.Namespace, settings: Settings) -> int: ...


def installed_version() -> str:
    """The version of the installed distribution (its metadata, not a copy in the code)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


class VersionAction(argparse.Action):
    """``--version``, reading the metadata only when asked (argparse's own action takes the
    string when the parser is built, for every command)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version"
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"{DISTRIBUTION} {installed_version()}")
        parser.exit()


class _CommandsFormatter(argparse.HelpFormatter):
    """Each command's summary on the command's own line, ``destinations`` included: argparse
    sizes the name column two characters short for subcommands (it measures them one indent
    level out), and wraps the longest name's summary onto the next line."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            self._action_max_length += self._indent_increment


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hookq",
        description="Webhook ingestion: ingress, worker, handlers and dead-letter tools. "
        "Configured by HOOKQ_* environment variables (see the README).",
        formatter_class=_CommandsFormatter,
    )
    parser.add_argument("--version", action=VersionAction)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The command line as given: a supervisor (--processes) starts its children with it.
    args.argv = list(sys.argv[1:] if argv is None else argv)
    # Only a command that runs needs these (pydantic-settings, structlog): see the docstring.
    from hookq.logs import configure_logging
    from hookq.settings import SettingsError, load_settings

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
