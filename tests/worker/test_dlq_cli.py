"""``hookq dlq`` end to end through ``hookq.cli.main``: output, redaction and exit codes.

These tests are synchronous (the command runs its own event loop); their broker set-up runs
in ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import orjson
import pytest
from structlog.testing import capture_logs

from hookq.cli import build_parser
from hookq.log_context import merge_context
from hookq.settings import Settings
from hookq.topology import Names
from tests.conftest import LIVECHAT_SECRET, STARYA_SECRET
from tests.worker.test_dlq_records import (
    CPF,
    HANDLER,
    dead_message,
    declare,
    eventually_ready,
    publish_dead,
    publish_unrouted,
    take_ids,
    unrouted_message,
)

DAY = 86400.0


@dataclass
class Cli:
    """``hookq dlq ...`` through the real parser and commands, on the test's settings.

    Not ``hookq.cli.main``: it configures logging process-wide (to pytest's captured stderr,
    which later tests would find closed). The subprocess tests in test_dlq_replay run ``main``.
    """

    settings: Settings
    capsys: pytest.CaptureFixture[str]
    logs: list[MutableMapping[str, Any]] = field(default_factory=list)

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        # Logs are captured (structlog's default would print them to stdout, amid the JSON).
        with capture_logs(processors=[merge_context]) as self.logs:
            try:
                parsed = build_parser().parse_args(["dlq", *args])
                code = parsed.run(parsed, self.settings)
            except SystemExit as exc:  # argparse's own usage errors
                code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(settings: Settings, capsys: pytest.CaptureFixture[str]) -> Cli:
    # The test settings carry the sources' secrets: redaction must mask them.
    return Cli(settings, capsys)


def given(
    settings: Settings,
    dead: Sequence[aio_pika.Message] = (),
    *,
    handler: str = HANDLER,
    unrouted: Sequence[aio_pika.Message] = (),
) -> None:
    names = Names(settings.namespace)

    async def set_up() -> None:
        async with await aio_pika.connect(settings.amqp_url) as connection:
            await declare(connection, names, handler)
            await publish_dead(connection, names, dead, handler)
            if unrouted:
                await publish_unrouted(connection, names, unrouted)
                await eventually_ready(connection, names.unrouted_queue, len(unrouted))

    asyncio.run(set_up())


def left_in(settings: Settings, queue: str) -> list[str]:
    async def take() -> list[str]:
        async with await aio_pika.connect(settings.amqp_url) as connection:
            return await take_ids(connection, queue)

    return asyncio.run(take())


def test_stats_per_handler_and_unrouted(settings: Settings, cli: Cli) -> None:
    now = time.time()
    given(
        settings,
        [
            dead_message("b1", dead_at=now - 2 * DAY),
            dead_message("b2", dead_at=now - 60),
            dead_message("b3", error_type="ValidationError", dead_at=now - DAY),
        ],
        unrouted=[unrouted_message("u1")],
    )
    given(settings, [dead_message("c1", handler="crm")], handler="crm")

    code, out, _ = cli(
        "stats", "--handler", HANDLER, "--handler", "crm", "--handler", "unrouted", "--json"
    )

    assert code == 0
    entries = {e["handler"]: e for e in orjson.loads(out)["queues"]}
    assert entries[HANDLER]["dead"] == 3
    assert entries[HANDLER]["error_types"] == {"RuntimeError": 2, "ValidationError": 1}
    assert entries[HANDLER]["oldest_failure"] < entries[HANDLER]["newest_failure"]
    assert (entries["crm"]["dead"], entries["unrouted"]["dead"]) == (1, 1)
    assert entries["unrouted"]["error_types"] == {"no_handler": 1}
    assert all(e["complete"] for e in entries.values())

    code, out, _ = cli("stats", "--handler", HANDLER)
    assert code == 0
    assert "RuntimeError x2" in out
    # Without --handler: the discovered handlers (the built-in event log) and unrouted.
    code, out, _ = cli("stats", "--json")
    assert code == 0
    assert {e["handler"] for e in orjson.loads(out)["queues"]} >= {"event-log", "unrouted"}


def test_list_filters_limits_and_says_when_nothing_matched(settings: Settings, cli: Cli) -> None:
    given(
        settings,
        [dead_message(f"p{i}") for i in range(3)]
        + [dead_message(f"s{i}", source="starya", event_type="chat.created") for i in range(3)],
    )

    code, out, _ = cli("list", "--handler", HANDLER, "--source", "starya", "--limit", "2", "--json")
    assert code == 0
    listed = orjson.loads(out)
    assert [m["delivery_id"] for m in listed["messages"]] == ["s0", "s1"]
    # Reading stopped at the second match: s2 was not read.
    assert (listed["matched"], listed["unread"]) == (2, 1)
    assert listed["queues"][0]["seen"] == 5
    row = listed["messages"][0]
    assert (row["source"], row["event_type"], row["handler"], row["attempts"]) == (
        "starya",
        "chat.created",
        HANDLER,
        5,
    )
    assert row["error_type"] == "RuntimeError"
    assert row["failed_at"].endswith("Z")

    code, out, _ = cli("list", "--handler", HANDLER, "--event-type", "thread.chat_sent")
    assert code == 0
    assert all(f"p{i}" in out for i in range(3))
    assert "s0" not in out

    code, _, _ = cli("list", "--handler", HANDLER, "--source", "livechat")
    assert code == 1
    assert cli("list", "--limit", "0")[0] == 2
    assert cli("list", "--limit", "many")[0] == 2
    # Browsing changed nothing.
    assert left_in(settings, Names(settings.namespace).dead_queue(HANDLER)) == [
        "p0", "p1", "p2", "s0", "s1", "s2",
    ]  # fmt: skip


def test_show_never_prints_secrets_or_personal_data(settings: Settings, cli: Cli) -> None:
    body = {
        "webhook_id": "wh-1",
        "secret_key": "lc-registration-secret-1234",
        "action": "incoming_chat",
        "payload": {
            "customer": {"email": "joana@example.com", "phone": "+55 11 91234-5678", "cpf": CPF},
            "note": f"forwarded with {STARYA_SECRET}",
            "visible": "keep me",
        },
    }
    given(
        settings,
        [
            dead_message(
                "lc-1",
                source="livechat",
                event_type="incoming_chat",
                body=body,
                error_message=f"bad token {LIVECHAT_SECRET} for joana@example.com cpf {CPF}",
            )
        ],
    )
    leaks = (
        "lc-registration-secret-1234",
        LIVECHAT_SECRET,
        STARYA_SECRET,
        CPF,
        "joana@example.com",
        "91234-5678",
    )

    for args in (("show", "lc-1"), ("show", "lc-1", "--json"), ("list", "--json"), ("list",)):
        code, out, err = cli(*args, "--handler", HANDLER)
        assert code == 0
        for leak in leaks:
            assert leak not in out
            assert leak not in err
        assert "lc-1" in out
    assert "keep me" in cli("show", "lc-1", "--handler", HANDLER)[1]

    code, out, _ = cli("show", "lc-1", "--handler", HANDLER, "--json")
    [shown] = orjson.loads(out)["messages"]
    assert shown["body"]["payload"]["visible"] == "keep me"
    assert shown["body"]["secret_key"] == "[redacted]"
    assert "bad token [redacted]" in shown["error_message"]
    assert shown["traceback"].startswith("Traceback")

    code, _, err = cli("show", "nope", "--handler", HANDLER)
    assert code == 1
    assert "no dead message" in err


def test_replay_usage_dry_run_ids_and_nothing_matched(settings: Settings, cli: Cli) -> None:
    given(settings, [dead_message(f"r{i}") for i in range(4)])
    names = Names(settings.namespace)

    assert cli("replay", "--handler", HANDLER)[0] == 2
    assert cli("replay", "--handler", HANDLER, "--all", "--rate", "0")[0] == 2
    code, out, _ = cli("replay", "--handler", HANDLER, "--all", "--dry-run", "--json")
    assert code == 0
    assert [m["delivery_id"] for m in orjson.loads(out)["messages"]] == ["r0", "r1", "r2", "r3"]

    code, out, _ = cli("replay", "--handler", HANDLER, "--id", "r1", "r3", "--json")
    assert code == 0
    report = orjson.loads(out)
    assert report["done"] == 2
    assert [m["delivery_id"] for m in report["queues"][0]["done"]] == ["r1", "r3"]
    assert cli("replay", "--handler", HANDLER, "--id", "r1")[0] == 1
    assert left_in(settings, names.handler_queue(HANDLER)) == ["r1", "r3"]
    assert left_in(settings, names.dead_queue(HANDLER)) == ["r0", "r2"]


def test_purge_needs_yes_and_a_selection_and_removes_only_what_is_old(
    settings: Settings, cli: Cli
) -> None:
    now = time.time()
    given(
        settings,
        [
            dead_message("old1", dead_at=now - 3 * DAY),
            dead_message("new1", dead_at=now - 600),
            dead_message("old2", dead_at=now - 2 * DAY),
            dead_message("new2", dead_at=now),
        ],
    )
    names = Names(settings.namespace)

    assert cli("purge", "--handler", HANDLER, "--older-than", "1d")[0] == 2  # no --yes
    assert cli("purge", "--yes")[0] == 2  # nothing selected
    assert cli("purge", "--handler", HANDLER, "--older-than", "a while", "--yes")[0] == 2

    code, out, _ = cli("purge", "--handler", HANDLER, "--older-than", "1d", "--yes", "--json")
    assert code == 0
    assert [m["delivery_id"] for m in orjson.loads(out)["queues"][0]["done"]] == ["old1", "old2"]
    [summary] = [e for e in cli.logs if e["event"] == "dlq queue done"]
    assert (summary["moved"], summary["queue"]) == (2, names.dead_queue(HANDLER))
    purged = [e["delivery_id"] for e in cli.logs if e["event"] == "dlq message purged"]
    assert purged == ["old1", "old2"]
    assert cli("purge", "--handler", HANDLER, "--older-than", "1d", "--yes")[0] == 1
    assert left_in(settings, names.dead_queue(HANDLER)) == ["new1", "new2"]


def test_bad_handler_names_and_an_unreachable_broker(settings: Settings, cli: Cli) -> None:
    code, _, err = cli("list", "--handler", "Not A Name")
    assert code == 2
    assert "invalid handler name" in err
    cli.settings = settings.model_copy(update={"amqp_url": "amqp://guest:guest@127.0.0.1:1/"})
    code, _, err = cli("stats", "--handler", HANDLER)
    assert code == 3
    assert "broker error" in err


def test_the_first_live_node_serves_and_every_dead_one_is_named(
    settings: Settings, cli: Cli
) -> None:
    dead = ["amqp://guest:node-pw@127.0.0.1:1/", "amqp://guest:node-pw@127.0.0.1:2/"]
    given(settings, [dead_message("n1")])
    cli.settings = settings.model_copy(update={"amqp_url": f"{dead[0]},{settings.amqp_url}"})
    code, out, _ = cli("stats", "--handler", HANDLER, "--json")
    assert code == 0
    entries = {e["handler"]: e for e in orjson.loads(out)["queues"]}
    assert entries[HANDLER]["dead"] == 1
    cli.settings = settings.model_copy(update={"amqp_url": ",".join(dead)})
    code, _, err = cli("stats", "--handler", HANDLER)
    assert code == 3
    assert "connection refused at 127.0.0.1:1" in err
    assert "connection refused at 127.0.0.1:2" in err
    assert "node-pw" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("stats",),
        ("show", "some-id"),
        ("replay", "--all", "--dry-run"),
        ("purge", "--all", "--yes"),
    ],
)
def test_every_command_names_a_handler_that_does_not_exist(
    settings: Settings, cli: Cli, args: tuple[str, ...]
) -> None:
    """A typo is not an empty queue: no dead queue and not discovered -> usage error, said."""
    given(settings, [dead_message("b1")])  # a real queue beside it: still refused as a whole

    code, out, err = cli(*args, "--handler", HANDLER, "--handler", "billnig")

    assert code == 2
    assert out == ""
    assert "no such handler: 'billnig'" in err
    assert f"{settings.namespace}.billnig.dead" in err
    assert "event-log" in err  # what discovery does find
    assert left_in(settings, Names(settings.namespace).dead_queue(HANDLER)) == ["b1"]


def test_a_discovered_handler_without_a_queue_and_a_removed_handler_with_one_are_fine(
    settings: Settings, cli: Cli
) -> None:
    # event-log is discovered (built in) but no worker ever declared its queues.
    code, _, err = cli("list", "--handler", "event-log")
    assert code == 1
    assert "does not exist" in err
    assert "no such handler" not in err
    # billing is not discovered, but its dead letters are there: they are shown.
    given(settings, [dead_message("b1")])
    code, out, _ = cli("list", "--handler", HANDLER)
    assert code == 0
    assert "b1" in out
