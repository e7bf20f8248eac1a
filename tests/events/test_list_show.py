"""``hookq events list`` and ``show`` over 500 archived events of several sources and types:
each filter returns exactly the events it matches, and ``show`` tells each bound handler's
fate (done, retrying, dead, pending) and how many times the provider delivered the event."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aio_pika.abc import AbstractRobustConnection

from hookq.events import Selection, search, trace
from hookq.handlers.api import Backoff, HandlerContext, HandlerSpec, Reject
from hookq.privacy import MASK
from hookq.settings import Settings
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names, topic_matches
from tests.events.support import (
    SECRET_MAIL,
    Sample,
    archive_events,
    body_for,
    events_command,
    hookq_events,
    sample,
)
from tests.support.events import eventually

N = 500


def ids(found: list[Any]) -> list[str]:
    return [event.delivery_id for event in found]


async def test_each_list_filter_returns_exactly_the_matching_events(
    settings: Settings, amqp: AbstractRobustConnection, names: Names
) -> None:
    now = time.time()
    events = sample(N, now)
    await archive_events(amqp, names, events)

    def expected(keep: Callable[[Sample], bool]) -> list[str]:
        return [e.delivery_id for e in events if keep(e)]

    assert ids(await search(settings, Selection())) == expected(lambda e: True)
    assert ids(await search(settings, Selection(source="plain"))) == expected(
        lambda e: e.source == "plain"
    )
    for pattern in ("thread.*", "order.paid", "#.created", "*"):
        found = ids(await search(settings, Selection(type_pattern=pattern)))
        assert found == [e.delivery_id for e in events if topic_matches(pattern, e.event_type)]
        assert found
    since, until = now - 3 * 3600, now - 3600
    window = Selection(
        since=datetime.fromtimestamp(since, UTC), until=datetime.fromtimestamp(until, UTC)
    )
    assert ids(await search(settings, window)) == expected(
        lambda e: int(since) <= int(e.received_at) <= int(until)
    )
    assert ids(await search(settings, Selection(contains="BANANA"))) == expected(
        lambda e: b"banana" in e.body
    )
    # A masked value is never matched: the address is in 50 bodies, and in no result.
    assert sum(SECRET_MAIL.encode() in e.body for e in events) == N // 10
    assert await search(settings, Selection(contains=SECRET_MAIL)) == []
    assert await search(settings, Selection(contains="private@")) == []
    chosen = {events[3].delivery_id, events[250].delivery_id, "no-such-id"}
    assert ids(await search(settings, Selection(ids=frozenset(chosen)))) == [
        events[3].delivery_id,
        events[250].delivery_id,
    ]
    assert (
        ids(await search(settings, Selection(source="standard", limit=5)))
        == expected(lambda e: e.source == "standard")[-5:]
    )

    # The command line: the same filters, the --json shape, and exit 1 when nothing matches.
    done = hookq_events(
        settings, "list", "--json", "--source", "plain", "--type", "thread.*", "--since", "3h"
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["delivery_id"] for r in rows] == expected(
        lambda e: (
            e.source == "plain"
            and e.event_type.startswith("thread.")
            and int(e.received_at) >= int(time.time() - 3 * 3600)
        )
    )
    assert set(rows[0]) >= {"delivery_id", "source", "event_type", "received_at", "size"}
    assert datetime.fromisoformat(rows[0]["received_at"]).tzinfo is not None
    code, out, _err = await events_command(settings, "list", "--json", "--contains", "no such")
    assert (code, json.loads(out)) == (1, [])
    code, out, _err = await events_command(settings, "list", "--source", "starya", "--limit", "2")
    assert code == 0
    assert "2 event(s)" in out
    newest = [e.delivery_id for e in events if e.source == "starya"][-2:]
    assert all(delivery_id in out for delivery_id in newest)
    code, _out, err = await events_command(settings, "list", "--since", "yesterday")
    assert code == 2
    assert "invalid time 'yesterday'" in err


def keeper(runs: list[str]) -> HandlerSpec:
    async def keep(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.append(ctx.delivery_id)
        mode = (event.model_extra or {}).get("mode")
        if mode == "fail":
            raise RuntimeError("asked to fail")
        if mode == "reject":
            raise Reject("asked to reject")

    # A long first delay: the failed event stays retrying while the test looks.
    backoff = Backoff(base=60.0, factor=1.0, jitter=False)
    return HandlerSpec("keeper", ("standard.order.*",), keep, max_attempts=3, backoff=backoff)


def counter(runs: list[str]) -> HandlerSpec:
    async def count(event: StandardEvent, ctx: HandlerContext) -> None:
        runs.append(ctx.delivery_id)

    return HandlerSpec("counter", ("standard.order.paid",), count)


async def test_show_tells_each_bound_handlers_fate(
    settings: Settings,
    amqp: AbstractRobustConnection,
    names: Names,
    start_worker: Callable[..., Awaitable[Any]],
) -> None:
    kept: list[str] = []
    counted: list[str] = []
    await start_worker(settings, keeper(kept), counter(counted))
    now = time.time()

    def event(name: str, event_type: str = "order.created", **extra: Any) -> Sample:
        body = body_for("standard", event_type, name, **extra)
        return Sample("standard", event_type, name, now, body)

    done, failing, dead = (
        event("done-1"),
        event("fail-1", mode="fail"),
        event("dead-1", mode="reject"),
    )
    paid = event("paid-1", "order.paid", mode="fail", email=SECRET_MAIL)
    # The provider delivered "done-1" twice: two copies archived, one run.
    await archive_events(amqp, names, [done, failing, dead, paid, done])
    await eventually(lambda: len(kept) >= 4 and len(counted) >= 1)

    async def fates(delivery_id: str) -> dict[str, Any]:
        found = await trace(settings, delivery_id)
        assert found is not None
        return {fate.handler: fate for fate in found.handlers}

    found = await trace(settings, "done-1")
    assert found is not None
    assert found.deliveries == 2
    [fate] = found.handlers
    assert (fate.handler, fate.state) == ("keeper", "done")
    assert fate.at is not None
    assert abs(fate.at.timestamp() - time.time()) < 30

    retrying = (await fates("fail-1"))["keeper"]
    assert (retrying.state, retrying.attempt) == ("retrying", 2)
    assert retrying.next_try is not None
    assert retrying.next_try > datetime.now(UTC) + timedelta(seconds=30)

    await eventually(lambda: len(kept) >= 4)
    gone = (await fates("dead-1"))["keeper"]
    assert gone.state == "dead"
    assert gone.reason is not None
    assert gone.reason.startswith("Reject: asked to reject")

    both = await fates("paid-1")
    assert (both["keeper"].state, both["counter"].state) == ("retrying", "done")
    assert await trace(settings, "no-such-delivery") is None
    # From a time on: it reads from there (an hour later, nothing is found).
    an_hour = timedelta(hours=1)
    assert await trace(settings, "done-1", since=datetime.now(UTC) + an_hour) is None
    from_before = await trace(settings, "done-1", since=datetime.now(UTC) - an_hour)
    assert from_before is not None
    assert from_before.deliveries == 2

    # The command: the --json shape, masked, and each handler's state.
    shown = hookq_events(settings, "show", "paid-1", "--json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["delivery_id"] == "paid-1"
    assert detail["deliveries"] == 1
    assert detail["body"]["email"] == MASK
    assert SECRET_MAIL not in shown.stdout
    assert sorted((h["handler"], h["state"]) for h in detail["handlers"]) == [
        ("counter", "done"),
        ("keeper", "retrying"),
    ]
    code, out, _err = await events_command(settings, "show", "dead-1")
    assert code == 0
    assert "dead" in out
    assert "Reject: asked to reject" in out
    code, _out, err = await events_command(settings, "show", "no-such-delivery")
    assert code == 1
    assert "no archived event" in err
    code, _out, err = await events_command(settings, "show", "dead-1", "--since", "lately")
    assert code == 2
    assert "lately" in err
