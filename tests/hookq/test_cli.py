"""The ``hookq`` command itself: ``--version``, the subcommands ``--help`` lists, and a parser
that is built without importing what the commands run (so help and usage errors are instant)."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hookq.cli import COMMAND_MODULES, main
from hookq.destinations.cli import FILE_VARIABLE
from hookq.settings import Settings, env_name
from hookq.worker.cli import METRICS_PORT_VARIABLE, PREFETCH_VARIABLE

HOOKQ = Path(sys.executable).with_name("hookq")  # the console script of the installed project
SUBCOMMANDS = {
    "ingress",
    "schema",
    "send",
    "handlers",
    "destinations",
    "worker",
    "dlq",
    "db",
    "console",
    "events",
}
DLQ_COMMANDS = ("stats", "list", "show", "replay", "purge")
EVENTS_COMMANDS = ("list", "show", "replay", "drift")

# What the commands run, never needed to print help: the broker and HTTP clients, the event
# models and settings (pydantic), the tables (rich) and the logger (structlog).
HEAVY = (
    *("aio_pika", "aiormq", "aiohttp", "redis", "pydantic", "pydantic_settings", "rich"),
    *("structlog", "hookq.settings", "hookq.logs", "hookq.topology", "hookq.handlers.api"),
    *("hookq.sources.plain", "hookq.sources.catalogue", "hookq.worker.runner"),
    *("hookq.ingress.server", "hookq.dlq.commands", "hookq.send.sender", "hookq.testing.signing"),
    *("jinja2", "itsdangerous", "hookq.console.app", "hookq.console.server"),
    *("asyncpg", "hookq.inbox"),
    *("hookq.events.commands", "hookq.events.archive", "hookq.events.replaying"),
)
PARSE_ONLY = [
    ["--help"],
    ["--version"],
    *([command, "--help"] for command in sorted(SUBCOMMANDS)),
    *(["dlq", command, "--help"] for command in DLQ_COMMANDS),
    *(["db", command, "--help"] for command in ("migrate", "status")),
    *(["destinations", command, "--help"] for command in ("list", "enable", "reset", "check")),
    *(["events", command, "--help"] for command in EVENTS_COMMANDS),
    ["no-such-command"],
    ["worker", "--prefetch", "many"],
]
# Runs main(argv) to its exit and prints the names of the modules imported by then.
IMPORTS_PROBE = """
import json, sys
from hookq.cli import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def test_version_prints_the_installed_version() -> None:
    done = subprocess.run([HOOKQ, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"hookq {importlib.metadata.version('hookq')}\n"


def test_version_comes_from_the_package_metadata(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(importlib.metadata, "version", lambda name: f"{name}-metadata-version")
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == "hookq hookq-metadata-version\n"


def test_help_lists_every_subcommand_with_its_summary() -> None:
    done = subprocess.run([HOOKQ, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # argparse lists each subcommand on its own line: four spaces, the name, its help.
    listed = dict(re.findall(r"^ {4}(\S+) +(\S.*)$", done.stdout, flags=re.MULTILINE))
    assert set(listed) == SUBCOMMANDS, done.stdout
    assert len(COMMAND_MODULES) == len(SUBCOMMANDS)
    assert "--version" in done.stdout


@pytest.mark.parametrize("argv", PARSE_ONLY, ids=" ".join)
def test_parsing_alone_imports_none_of_what_the_commands_run(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    imported = set(json.loads(done.stdout.splitlines()[-1]))
    assert "hookq.dlq.cli" in imported  # the parser was built, every subcommand registered
    loaded = sorted(m for m in imported if any(m == h or m.startswith(f"{h}.") for h in HEAVY))
    assert loaded == [], f"`hookq {' '.join(argv)}` imported {loaded}"


def test_worker_help_names_the_prefetch_setting_of_the_settings_module() -> None:
    # Written out in hookq.worker.cli to keep pydantic out of `hookq --help`.
    assert "prefetch" in Settings.model_fields
    assert env_name("prefetch") == PREFETCH_VARIABLE
    assert env_name("worker_metrics_port") == METRICS_PORT_VARIABLE


def test_destinations_help_names_the_file_setting_of_the_settings_module() -> None:
    # Written out in hookq.destinations.cli to keep pydantic out of `hookq --help`.
    assert env_name("destinations_file") == FILE_VARIABLE
