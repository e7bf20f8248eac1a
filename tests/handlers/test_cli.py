"""``hookq handlers``: the installed command in a subprocess, and its error paths in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hookq.cli import EXIT_USAGE, build_parser
from hookq.settings import Settings
from tests.handlers.plugins import unique, write_handler_module, write_plugin_package

HOOKQ = Path(sys.executable).with_name("hookq")  # the console script of the installed project


def run_hookq(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Only our variables: a HOOKQ_* left in the caller's environment must not change the result.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
    return subprocess.run(
        [str(HOOKQ), *args], env=clean | env, capture_output=True, text=True, timeout=60
    )


def test_json_lists_module_and_entry_point_handlers_with_their_queues(tmp_path: Path) -> None:
    module = write_handler_module(tmp_path, unique("team_hooks"), "team-sync", "plain.thread.*")
    write_plugin_package(tmp_path, unique("billing-plugin"), unique("billing"), "billing", "#")
    namespace = unique("cli").replace("_", "-")

    result = run_hookq(
        "handlers",
        "--json",
        env={
            "PYTHONPATH": str(tmp_path),
            "HOOKQ_HANDLER_MODULES": module,
            "HOOKQ_NAMESPACE": namespace,
            "HOOKQ_LOG_FORMAT": "json",
        },
    )

    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["namespace"] == namespace
    by_name = {h["name"]: h for h in listing["handlers"]}
    assert list(by_name) == ["event-log", "team-sync", "billing"]
    team = by_name["team-sync"]
    assert team["patterns"] == ["plain.thread.*"]
    assert team["queue"] == f"{namespace}.team-sync"
    assert team["dead_queue"] == f"{namespace}.team-sync.dead"
    assert team["retry_queues"] == [
        {"delay": delay, "queue": f"{namespace}.team-sync.retry.{suffix}"}
        for delay, suffix in ((1.0, "1s"), (4.0, "4s"), (16.0, "16s"), (64.0, "64s"))
    ]
    assert team["max_attempts"] == 5
    assert team["origin"] == f"{module}:handle"
    assert team["transactional"] is False
    assert by_name["billing"]["queue"] == f"{namespace}.billing"
    assert listing["hooks"] == ["metrics"]


def test_the_hooks_a_worker_would_run_are_listed_outermost_first(tmp_path: Path) -> None:
    module = write_handler_module(tmp_path, unique("team_hooks"), "team-sync", "plain.#")
    (tmp_path / "team_limits.py").write_text(
        "from hookq.worker.hooks import Hook\n\nclass Limit(Hook):\n    pass\n"
    )
    env = {
        "PYTHONPATH": str(tmp_path),
        "HOOKQ_HANDLER_MODULES": module,
        "HOOKQ_HOOKS": "team_limits:Limit",
        "OTEL_TRACES_EXPORTER": "console",
    }
    listing = json.loads(run_hookq("handlers", "--json", env=env).stdout)
    assert listing["hooks"] == ["tracing", "Limit", "metrics"]
    table = run_hookq("handlers", env=env | {"COLUMNS": "200"}).stdout
    assert "hooks, outermost first: tracing, Limit, metrics" in table
    broken = run_hookq("handlers", env=env | {"HOOKQ_HOOKS": "team_limits:Nothing"})
    assert broken.returncode == 2
    assert "has no attribute 'Nothing'" in broken.stderr


def test_table_names_each_handler_and_its_queues(tmp_path: Path) -> None:
    module = write_handler_module(tmp_path, unique("team_hooks"), "team-sync", "plain.#")

    result = run_hookq(
        "handlers",
        env={"PYTHONPATH": str(tmp_path), "HOOKQ_HANDLER_MODULES": module, "COLUMNS": "200"},
    )

    assert result.returncode == 0, result.stderr
    for text in ("event-log", "team-sync", "plain.#", "hookq.team-sync.retry.64s", "dead"):
        assert text in result.stdout


def test_discovery_error_exits_2_with_the_message_on_stderr() -> None:
    result = run_hookq("handlers", "--json", env={"HOOKQ_HANDLER_MODULES": "no_such_team.hooks"})

    assert result.returncode == EXIT_USAGE
    assert result.stdout == ""
    assert "no_such_team.hooks" in result.stderr
    assert "ModuleNotFoundError" in result.stderr


def test_command_with_no_handlers_prints_an_empty_listing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(["handlers", "--json"])

    code = args.run(args, Settings(builtin_handlers=[], handler_modules=[], namespace="empty"))

    assert code == 0
    assert json.loads(capsys.readouterr().out) == {
        "namespace": "empty",
        "handlers": [],
        "hooks": ["metrics"],
    }


def test_unknown_builtin_exits_2_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["handlers"])

    code = args.run(args, Settings(builtin_handlers=["nope"], handler_modules=[]))

    assert code == EXIT_USAGE
    assert "unknown built-in handler 'nope'" in capsys.readouterr().err


def test_a_hostile_import_error_is_shown_as_text(tmp_path: Path) -> None:
    """A team's module fails to import with escape sequences and markup in its message: the
    operator's terminal gets them as visible text (issue 12, item 12)."""
    module = unique("hostile_hooks")
    hostile = "[bold red]x[/] \x1b[2J \x1b]0;title\x07 \u202e \x9b31m"
    (tmp_path / f"{module}.py").write_text(f"raise ValueError({hostile!r})\n")

    result = run_hookq(
        "handlers", env={"PYTHONPATH": str(tmp_path), "HOOKQ_HANDLER_MODULES": module}
    )

    assert result.returncode == EXIT_USAGE
    for raw in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert raw not in result.stderr
    assert "[bold red]x[/] \\x1b[2J \\x1b]0;title\\x07 \\u202e \\x9b31m" in result.stderr
