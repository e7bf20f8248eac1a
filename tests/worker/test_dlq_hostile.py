"""``hookq dlq`` against hostile dead letters (issue 12, items 11 and 12).

A dead letter's delivery id, error, headers and body come from providers and handlers. Rich
markup in them once crashed every command (``MarkupError``, exit 1: "nothing matched", so one
poisoned letter hid all the others), and escape sequences in them reached the operator's
terminal raw (clear screen, retitle, hyperlinks, bidi reordering). Each command runs here as an
operator runs it, in a subprocess with its output piped, and must show every letter, the
hostile one as visible text.
"""

from __future__ import annotations

import asyncio
import subprocess

import aio_pika
import orjson
import pytest

from hookq.dlq import render
from hookq.dlq.cli import EXIT_FAILED
from hookq.message import Header
from hookq.settings import Settings
from hookq.topology import Names
from tests.worker.test_dlq_cli import Cli
from tests.worker.test_dlq_records import (
    HANDLER,
    dead_message,
    declare,
    eventually_ready,
    publish_dead,
    publish_unrouted,
    unrouted_message,
)
from tests.worker.test_dlq_replay import cli_env, hookq

# The red team's strings: markup that crashed rich, markup that rich would style or link, and
# the sequences that cleared the screen, retitled the terminal, hid a link and reordered text.
HOSTILE = (
    "[/] [/x] [bold red]x[/] [link=http://evil]x[/link] "
    "\x1b[2J \x1b]0;title\x07 \x1b]8;;http://evil\x1b\\ \u202e \x9b31m"
)
EVIL_ID = f"evil {HOSTILE}"
GOOD = ("good-1", "good-2")
UNROUTED_ID = "unrouted-1"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")  # none of these may reach the terminal
# How the hostile text must be shown: literally, with the controls as visible escapes.
SHOWN = ("[/x]", "[bold red]x[/]", "[link=http://evil]", "\\x1b[2J", "\\u202e", "\\x9b31m")
SHOWN_AS_JSON = ("[bold red]x[/]", "[link=http://evil]", "\\u001b[2J", "\\u202e", "\\u009b31m")


def hostile_letters(settings: Settings) -> None:
    """A handler's dead queue with the poisoned letter between two good ones, and an unrouted
    event whose type (a provider's unknown event type) is hostile too."""
    names = Names(settings.namespace)
    evil = dead_message(
        EVIL_ID,
        error_type=f"Evil{HOSTILE}",
        error_message=HOSTILE,
        body={HOSTILE: HOSTILE, "nested": [{"k": HOSTILE}]},
    )
    assert evil.headers is not None
    evil.headers[Header.PROVIDER_HEADERS] = {HOSTILE: HOSTILE}

    async def set_up() -> None:
        async with await aio_pika.connect(settings.amqp_url) as connection:
            await declare(connection, names)
            await publish_dead(
                connection, names, [dead_message(GOOD[0]), evil, dead_message(GOOD[1])]
            )
            await publish_unrouted(
                connection, names, [unrouted_message(UNROUTED_ID, event_type=f"x.{HOSTILE}")]
            )
            await eventually_ready(connection, names.unrouted_queue, 1)

    asyncio.run(set_up())


def run_dlq(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    queues = ("--handler", HANDLER, "--handler", "unrouted")
    return subprocess.run(
        hookq("dlq", *args, *queues),
        env=cli_env(settings) | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_nothing_raw(result: subprocess.CompletedProcess[str]) -> None:
    for char in RAW:
        assert char not in result.stdout, f"{char!r} reached stdout raw"
        assert char not in result.stderr, f"{char!r} reached stderr raw"


COMMANDS = {
    "list": ("list",),
    "replay-dry-run": ("replay", "--all", "--dry-run"),
    "purge-dry-run": ("purge", "--all", "--dry-run"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_listing_commands_show_every_letter_and_the_hostile_one_as_text(
    settings: Settings, command: str
) -> None:
    hostile_letters(settings)

    result = run_dlq(settings, *COMMANDS[command])

    assert result.returncode == 0, result.stderr
    assert_nothing_raw(result)
    for delivery_id in (*GOOD, UNROUTED_ID):
        assert delivery_id in result.stdout
    for text in SHOWN:
        assert text in result.stdout
    assert "MarkupError" not in result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_listing_commands_json_is_exact_and_has_nothing_raw(
    settings: Settings, command: str
) -> None:
    hostile_letters(settings)

    result = run_dlq(settings, *COMMANDS[command], "--json")

    assert result.returncode == 0, result.stderr
    assert_nothing_raw(result)
    rows = orjson.loads(result.stdout)["messages"]
    assert [r["delivery_id"] for r in rows] == [GOOD[0], EVIL_ID, GOOD[1], UNROUTED_ID]
    assert rows[1]["error_message"] == HOSTILE
    assert rows[3]["event_type"] == f"x.{HOSTILE}"


def test_show_prints_the_hostile_record_headers_traceback_and_body_as_text(
    settings: Settings,
) -> None:
    hostile_letters(settings)

    result = run_dlq(settings, "show", EVIL_ID)

    assert result.returncode == 0, result.stderr
    assert_nothing_raw(result)
    for text in SHOWN:  # title, table, traceback: one-line escapes
        assert text in result.stdout
    for text in SHOWN_AS_JSON:  # headers and body: JSON's escapes
        assert text in result.stdout
    assert "traceback" in result.stdout
    assert "body" in result.stdout

    shown = run_dlq(settings, "show", EVIL_ID, "--json")
    assert shown.returncode == 0, shown.stderr
    assert_nothing_raw(shown)
    [record] = orjson.loads(shown.stdout)["messages"]
    assert record["delivery_id"] == EVIL_ID
    assert record["body"][HOSTILE] == HOSTILE
    assert record["headers"][Header.PROVIDER_HEADERS] == {HOSTILE: HOSTILE}


def test_show_of_a_good_letter_and_stats_are_not_disturbed(settings: Settings) -> None:
    hostile_letters(settings)

    good = run_dlq(settings, "show", GOOD[0])
    assert good.returncode == 0, good.stderr
    assert GOOD[0] in good.stdout

    stats = run_dlq(settings, "stats")
    assert stats.returncode == 0, stats.stderr
    assert_nothing_raw(stats)
    assert "RuntimeError x2" in stats.stdout
    assert "Evil[/] [/x] [bold red]x[/]" in stats.stdout  # the hostile error type, as text
    assert "\\x1b[2J" in stats.stdout


def test_on_a_terminal_data_adds_no_sequence_of_its_own(settings: Settings) -> None:
    """With styles on (as on a terminal), rich writes ESC sequences of its own: none of them
    may come from the data (a clear screen, a title, a hyperlink, markup's bold red)."""
    hostile_letters(settings)

    for args in (("list",), ("show", EVIL_ID), ("stats",)):
        result = run_dlq(settings, *args, FORCE_COLOR="1", TERM="xterm-256color")

        assert result.returncode == 0, result.stderr
        assert "\x1b[" in result.stdout  # styles are on: the test sees what a terminal sees
        for sequence in ("\x1b[2J", "\x1b]", "\x07", "\x9b", "\u202e", "\x1b[1;31m"):
            assert sequence not in result.stdout, (args, sequence)
        assert "\\x1b[2J" in result.stdout


def test_a_hostile_argument_is_shown_as_text_in_the_error(settings: Settings) -> None:
    hostile_letters(settings)

    missing = run_dlq(settings, "show", f"nope {HOSTILE}")
    bad_name = run_dlq(settings, "list", "--handler", f"x{HOSTILE}")

    assert missing.returncode == 1
    assert "no dead message" in missing.stderr
    assert bad_name.returncode == 2
    assert "invalid handler name" in bad_name.stderr
    for result in (missing, bad_name):
        assert_nothing_raw(result)
        assert "\\x1b[2J" in result.stderr


def test_an_unexpected_error_exits_4_not_1_which_means_nothing_matched(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (here: the table raising, as rich's MarkupError did) must not read as "nothing
    matched"; its traceback is printed, as text."""
    hostile_letters(settings)

    def broken(*_args: object) -> None:
        raise RuntimeError(HOSTILE)

    monkeypatch.setattr(render, "rows_table", broken)
    code, _, err = Cli(settings, capsys)("list", "--handler", HANDLER)

    assert code == EXIT_FAILED == 4
    assert "unexpected error (RuntimeError)" in err
    assert "Traceback" in err
    assert "\\x1b[2J" in err
    for char in RAW:
        assert char not in err


def test_piped_tables_keep_long_queue_names_and_ids_whole_on_one_line(
    settings: Settings,
) -> None:
    """Off a terminal nothing is folded (issue 11): a line can be grepped for an id and a queue
    name copied whole."""
    handler = "h" + "-long-handler-name" * 5  # 91 characters, a valid handler name
    delivery_id = "pEv_" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"  # 60
    assert len(delivery_id) == 60
    queue = Names(settings.namespace).dead_queue(handler)

    async def set_up() -> None:
        async with await aio_pika.connect(settings.amqp_url) as connection:
            await declare(connection, Names(settings.namespace), handler)
            letter = dead_message(delivery_id, handler=handler, error_message="e " * 100)
            await publish_dead(connection, Names(settings.namespace), [letter], handler)

    asyncio.run(set_up())
    env = {k: v for k, v in cli_env(settings).items() if k not in ("COLUMNS", "LINES")}

    def piped(*args: str) -> list[str]:
        result = subprocess.run(
            hookq("dlq", *args, "--handler", handler),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    listed = piped("list")
    assert any(delivery_id in line and handler in line for line in listed)
    stats = piped("stats")
    assert any(queue in line and handler in line for line in stats)
    shown = piped("show", delivery_id)
    assert any(delivery_id in line for line in shown)
    assert any(queue in line for line in shown)


def test_stats_json_and_a_real_purge_report_hostile_letters_exactly(settings: Settings) -> None:
    hostile_letters(settings)

    stats = run_dlq(settings, "stats", "--json")
    purged = run_dlq(settings, "purge", "--all", "--yes", "--json")
    again = run_dlq(settings, "list")

    for result in (stats, purged):
        assert result.returncode == 0, result.stderr
        assert_nothing_raw(result)
    errors = {q["handler"]: q["error_types"] for q in orjson.loads(stats.stdout)["queues"]}
    assert errors[HANDLER] == {"RuntimeError": 2, f"Evil{HOSTILE}": 1}
    done = [m["delivery_id"] for q in orjson.loads(purged.stdout)["queues"] for m in q["done"]]
    assert done == [GOOD[0], EVIL_ID, GOOD[1], UNROUTED_ID]
    assert again.returncode == 1  # all gone: the hostile letter did not stop the purge
