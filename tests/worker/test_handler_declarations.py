"""Handlers that change or collide (issue 12, item 16), against the real broker.

``declare`` only adds bindings, so before: a handler whose patterns were narrowed still
received what it no longer asked for; two deployments with a handler of the same name shared
one queue, each running the other's events; a removed handler's queue stayed bound and grew,
unseen. Now each worker start records what its handlers declared (``hookq.declarations``, a
stream in the broker), removes the bindings its handlers dropped, refuses a handler whose queue
another module's handler owns, and warns of orphaned handler queues, which ``hookq dlq stats``
lists with their depth.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import aio_pika
import aiormq
import orjson
import pytest
from aio_pika.abc import AbstractChannel
from structlog.testing import capture_logs

from hookq import declarations
from hookq.declarations import Declaration, ForeignHandler, histories
from hookq.handlers.api import HandlerContext, HandlerFunc, HandlerSpec
from hookq.log_context import merge_context
from hookq.settings import Settings
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names
from tests.support.events import eventually, publish_event, ready_count, standard_body
from tests.support.workers import WorkerProcess, run_worker_command, worker_env
from tests.worker.conftest import StartWorker
from tests.worker.test_dlq_replay import cli_env, hookq


def recorder(runs: list[str]) -> HandlerFunc:
    """A handler function; every one made here has the same origin (module:qualname)."""

    async def record(_event: StandardEvent, ctx: HandlerContext) -> None:
        runs.append(ctx.delivery_id)

    return record


def elsewhere(runs: list[str]) -> HandlerFunc:
    """The same, defined elsewhere: another origin."""

    async def record(_event: StandardEvent, ctx: HandlerContext) -> None:
        runs.append(ctx.delivery_id)

    return record


async def publish(channel: AbstractChannel, names: Names, delivery_id: str, kind: str) -> None:
    await publish_event(channel, names, delivery_id, standard_body(kind), event_type=kind)


async def has_ready(channel: AbstractChannel, queue: str, count: int) -> None:
    async def check() -> bool:
        return await ready_count(channel, queue) == count

    await eventually(check)


def events_named(
    logs: list[MutableMapping[str, Any]], start: str
) -> list[MutableMapping[str, Any]]:
    return [event for event in logs if str(event["event"]).startswith(start)]


async def test_a_handler_whose_patterns_were_narrowed_stops_receiving_what_it_dropped(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    runs: list[str] = []
    wide = ("standard.invoice.#", "standard.customer.#")
    first = await start_worker(settings, HandlerSpec("billing", wide, recorder(runs)))
    await first.stop()

    narrowed = HandlerSpec("billing", ("standard.invoice.#",), recorder(runs))
    with capture_logs(processors=[merge_context]) as logs:
        second = await start_worker(settings, narrowed)
    await publish(channel, names, "cust-1", "customer.created")
    await publish(channel, names, "inv-1", "invoice.paid")

    await eventually(lambda: runs == ["inv-1"])
    # What it dropped is bound to nothing now: kept as unrouted, never in its queue.
    await has_ready(channel, names.unrouted_queue, 1)
    assert runs == ["inv-1"]
    unbound = events_named(logs, "unbound patterns")
    assert [(e["handler"], e["patterns"]) for e in unbound] == [
        ("billing", ("standard.customer.#",))
    ]

    # Recorded as unbound: the next start reports nothing dropped...
    await second.stop()
    with capture_logs(processors=[merge_context]) as logs:
        third = await start_worker(settings, narrowed)
    assert events_named(logs, "unbound patterns") == []

    # ...but still removes the binding if an older worker, starting during the change, bound
    # it again after it was recorded as removed.
    await third.stop()
    queue = await channel.get_queue(names.handler_queue("billing"), ensure=False)
    await queue.bind(names.events_exchange, routing_key="standard.customer.#")
    await start_worker(settings, narrowed)
    await publish(channel, names, "cust-2", "customer.created")
    await has_ready(channel, names.unrouted_queue, 2)
    await publish(channel, names, "inv-2", "invoice.paid")
    await eventually(lambda: runs == ["inv-1", "inv-2"])


async def test_a_handler_of_the_same_name_from_elsewhere_is_refused_until_adopted(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    ours: list[str] = []
    theirs: list[str] = []
    our_spec = HandlerSpec("shared", ("standard.ours.#",), recorder(ours))
    their_spec = HandlerSpec("shared", ("standard.theirs.#",), elsewhere(theirs))
    first = await start_worker(settings, our_spec)

    with pytest.raises(ForeignHandler) as refused:
        await start_worker(settings, their_spec)
    message = str(refused.value)
    assert f"belongs to {our_spec.origin}" in message
    assert f"defines it in {their_spec.origin}" in message
    assert "--adopt shared" in message
    # Refused before binding: the other deployment's events do not reach our queue.
    await publish(channel, names, "t-1", "theirs.created")
    await has_ready(channel, names.unrouted_queue, 1)
    await publish(channel, names, "o-1", "ours.created")
    await eventually(lambda: ours == ["o-1"])

    # Moved on purpose: adopted, it takes the queue over (and its predecessor's bindings go)...
    await first.stop()
    await start_worker(settings, their_spec, adopt={"shared"})
    await publish(channel, names, "t-2", "theirs.created")
    await publish(channel, names, "o-2", "ours.created")
    await eventually(lambda: theirs == ["t-2"])
    await has_ready(channel, names.unrouted_queue, 2)
    # ...and the old one is the foreign one now.
    with pytest.raises(ForeignHandler, match=f"belongs to {their_spec.origin}"):
        await start_worker(settings, our_spec)
    assert ours == ["o-1"]


async def test_the_worker_command_refuses_another_modules_handler_of_the_same_name(
    settings: Settings, names: Names, tmp_path: Path
) -> None:
    with WorkerProcess.start(
        worker_env(settings, "tests.support.handlers"), tmp_path / "owner.log"
    ) as owner:
        await asyncio.to_thread(owner.wait_ready)
        foreign = worker_env(settings, "tests.worker.foreign_handlers")
        refused = await asyncio.to_thread(run_worker_command, foreign)
        assert owner.proc.poll() is None  # the owner runs on
    assert refused.returncode == 2, refused.stderr
    assert "belongs to tests.support.handlers:recorder" in refused.stderr
    assert "defines it in tests.worker.foreign_handlers:recorder" in refused.stderr
    assert "--adopt recorder" in refused.stderr
    assert '"worker consuming"' not in refused.stderr


async def test_a_removed_handlers_queue_is_reported_at_start_and_by_dlq_stats(
    settings: Settings, names: Names, channel: AbstractChannel, start_worker: StartWorker
) -> None:
    runs: list[str] = []
    kept = HandlerSpec("kept", ("standard.#",), recorder(runs))
    removed = HandlerSpec("removed", ("standard.#",), recorder(runs))
    first = await start_worker(settings, kept, removed)
    await first.stop()
    for n in range(3):  # while no worker runs: both queues fill
        await publish(channel, names, f"e-{n}", "invoice.paid")
    await has_ready(channel, names.handler_queue("removed"), 3)

    # A worker running only some handlers of a deployment that still has the other: no alarm.
    with capture_logs(processors=[merge_context]) as logs:
        partial = await start_worker(settings, kept, deployed={"kept", "removed"})
    assert events_named(logs, "orphaned handler queue") == []
    await partial.stop()

    # The deployment without it: warned of, with what it holds.
    with capture_logs(processors=[merge_context]) as logs:
        await start_worker(settings, kept)
    (warning,) = events_named(logs, "orphaned handler queue")
    assert warning["handler"] == "removed"
    assert warning["queue"] == names.handler_queue("removed")
    assert warning["waiting"] == 3
    assert warning["declared_by"] == removed.origin
    assert warning["patterns"] == ["standard.#"]

    stats = await asyncio.create_subprocess_exec(
        *hookq("dlq", "stats", "--json"),
        env=cli_env(settings),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await stats.communicate()
    assert stats.returncode == 0
    (orphan,) = orjson.loads(out)["orphaned"]  # 'kept' has a consumer: not an orphan
    assert orphan == {
        "handler": "removed",
        "queue": names.handler_queue("removed"),
        "waiting": 3,
        "dead": 0,
        "declared_by": removed.origin,
        "last_declared": orphan["last_declared"],
        "patterns": ["standard.#"],
    }
    table = await asyncio.create_subprocess_exec(
        *hookq("dlq", "stats"), env=cli_env(settings), stdout=asyncio.subprocess.PIPE
    )
    text, _ = await table.communicate()
    assert "orphaned handler queues" in text.decode()
    assert names.handler_queue("removed") in text.decode()


async def test_adopting_a_handler_this_worker_does_not_run_is_a_usage_error(
    settings: Settings,
) -> None:
    env = worker_env(settings, "tests.support.handlers")
    refused = await asyncio.to_thread(run_worker_command, env, "--adopt", "nope")
    assert refused.returncode == 2
    assert "--adopt nope: not run here" in refused.stderr


# --- the records, replayed (no broker) --------------------------------------------------------


def test_replayed_records_give_the_owner_and_what_may_still_be_bound() -> None:
    records = [
        Declaration("h", "team.a:run", ("p.1", "p.2"), 1.0),
        Declaration("h", "team.b:run", ("p.9",), 2.0),  # refused: binds nothing
        Declaration("h", "team.a:run", ("p.1",), 3.0),
        Declaration("h", "team.a:run", unbound=("p.2",)),
        Declaration("h", "team.b:run", unbound=("p.1",)),  # not the owner's: ignored
    ]
    (history,) = histories(records).values()
    assert (history.owner, history.since, history.last.at) == ("team.a:run", 1.0, 3.0)
    assert history.ever == {"p.1", "p.2"}
    assert history.bound == {"p.1"}

    # Declared again, a pattern is bound again; adopted, the handler changes owner and keeps
    # its predecessor's bindings to remove.
    records += [
        Declaration("h", "team.a:run", ("p.1", "p.2"), 4.0),
        Declaration("h", "team.c:run", ("p.3",), 5.0, adopt=True),
    ]
    (history,) = histories(records).values()
    assert (history.owner, history.since) == ("team.c:run", 5.0)
    assert history.bound == {"p.1", "p.2", "p.3"}


@pytest.mark.parametrize(
    "record",
    [
        {"mark": "abc"},
        {"handler": "h"},
        {"handler": 1, "origin": "m:f"},
        {"handler": "h", "origin": "m:f", "patterns": "p.#"},
        {"handler": "h", "origin": "m:f", "patterns": [1]},
        {"handler": "h", "origin": "m:f", "at": "yesterday"},
    ],
)
def test_markers_and_malformed_records_are_skipped(record: dict[str, Any]) -> None:
    assert Declaration.read(record) is None


def test_a_record_reads_back_as_written() -> None:
    declared = Declaration("h", "m:f", ("p.#", "q.*"), 12.5, adopt=True)
    assert Declaration.read(orjson.loads(declared.body())) == declared
    unbound = Declaration("h", "m:f", unbound=("p.#",))
    assert Declaration.read(orjson.loads(unbound.body())) == unbound


async def test_a_stream_not_ready_yet_is_recorded_on_a_new_connection(
    settings: Settings, names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    # RabbitMQ 3.10 closes the connection with INTERNAL_ERROR for a publish to a stream whose
    # writer has not started (seen under load): the record is made again on a new connection.
    real = declarations.declare_start
    calls: list[bool] = []

    async def flaky_start(connection: Any, *args: Any, **kwargs: Any) -> declarations.Start:
        calls.append(connection.is_closed)
        if len(calls) == 1:
            raise aiormq.exceptions.ConnectionInternalError("INTERNAL_ERROR")
        if len(calls) == 2:
            raise aiormq.exceptions.ConnectionResourceError("RESOURCE_ERROR - Stream not found")
        return await real(connection, *args, **kwargs)

    monkeypatch.setattr(declarations, "declare_start", flaky_start)
    monkeypatch.setattr(declarations, "STREAM_START_PAUSE", 0.01)
    spec = HandlerSpec("recorded", ("standard.#",), recorder([]))
    async with declarations.declaring(settings.amqp_url, "test", names, {"recorded": spec}):
        pass
    assert calls == [False, False, False]  # each try on an open connection of its own
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        recorded = await declarations.read(connection, names)
    assert recorded["recorded"].owner == spec.origin


async def test_records_after_the_marker_leave_the_readers_connection_open(
    settings: Settings, names: Names
) -> None:
    # Workers starting together append after each other's markers: the reader stops at its
    # own with the later records already delivered to it. Rejecting them (what aio-pika's queue
    # iterator does on close) would make RabbitMQ close the connection: a stream takes no reject.
    spec = HandlerSpec("early", ("standard.#",), recorder([]))
    own = [Declaration("early", spec.origin, spec.patterns, 1.0)]
    later = [Declaration(f"later-{n}", "elsewhere:h", ("standard.#",), 2.0) for n in range(50)]
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        await declarations._append(connection, names, own, "our-mark")
        await declarations._append(connection, names, later, "")
        read = await declarations._read_until(connection, names.declarations_stream, "our-mark")
        assert [record.handler for record in read] == ["early"]
        assert not connection.is_closed
        assert "later-49" in await declarations.read(connection, names)
