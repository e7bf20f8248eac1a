"""``hookq events replay``: a time window and a type pattern replayed to one handler run exactly
the matching events once more, and no other handler runs anything; the same replay killed
(SIGKILL, a real ``hookq events replay`` process) half-way and resumed with ``--resume`` runs
every matching event exactly once in that replay."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection

from hookq.events import Selection, replay
from hookq.events.replaying import ReplayError
from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.settings import Settings
from hookq.sources.standard.models import StandardEvent
from hookq.topology import Names, topic_matches
from tests.events.support import archive_events, events_command, popen_events, sample
from tests.support.events import eventually

N = 280  # 80 Standard events; the 500-event set is the list test's


def recorder(name: str, runs: Counter[str]) -> HandlerSpec:
    async def record(event: StandardEvent, ctx: HandlerContext) -> None:
        runs[ctx.delivery_id] += 1

    return HandlerSpec(name, ("standard.#",), record)


async def settled(runs: Counter[str], expected: Counter[str]) -> None:
    """The runs reach ``expected`` and stay there (no late extra run)."""
    await eventually(lambda: runs == expected, timeout=30)
    await asyncio.sleep(1.0)
    assert runs == expected


async def test_replay_runs_the_window_once_more_in_one_handler_even_when_killed(
    settings: Settings,
    amqp: AbstractRobustConnection,
    names: Names,
    redis_client: aioredis.Redis,
    start_worker: Callable[..., Awaitable[Any]],
) -> None:
    target: Counter[str] = Counter()
    bystander: Counter[str] = Counter()
    await start_worker(settings, recorder("target", target), recorder("bystander", bystander))
    now = time.time()
    events = sample(N, now)
    await archive_events(amqp, names, events)
    standard = Counter(e.delivery_id for e in events if e.source == "standard")
    await settled(target, standard)
    await settled(bystander, standard)

    since, until = now - 4 * 3600, now - 3600
    matching = [
        e.delivery_id
        for e in events
        if e.source == "standard"
        and topic_matches("order.*", e.event_type)
        and int(since) <= int(e.received_at) <= int(until)
    ]
    assert 20 < len(matching) < len(standard)
    window = Selection(
        type_pattern="order.*",
        since=datetime.fromtimestamp(since, UTC),
        until=datetime.fromtimestamp(until, UTC),
    )

    # Dry run: counts, sends nothing.
    dry = await replay(settings, window, ["target"], dry_run=True)
    assert (dry.matched, dry.sent, dry.planned, dry.dry_run) == (
        len(matching),
        0,
        len(matching),
        True,
    )

    summary = await replay(settings, window, ["target"])
    assert (summary.matched, summary.sent) == (len(matching), len(matching))
    once_more = standard + Counter(matching)
    await settled(target, once_more)
    assert bystander == standard  # no other handler ran anything

    # The same replay as a process, killed half-way, then resumed.
    args = ["--type", "order.*", "--since", _iso(since), "--until", _iso(until)]
    process = popen_events(
        settings, "replay", "--handler", "target", *args, "--rate", "25", "--yes", "--json"
    )
    replay_id = await _replay_id(process)
    key = names.replay_checkpoint(replay_id)

    async def sent() -> int:
        return int(await redis_client.hget(key, "sent") or 0)

    await eventually(lambda: _at_least(sent, 10), timeout=30)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    before = await sent()
    assert 0 < before < len(matching), "killed before or after the replay, not half-way"

    code, out, err = await events_command(settings, "replay", "--resume", replay_id, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result == result | {
        "replay_id": replay_id,
        "matched": len(matching),
        "sent": len(matching),
        "resumed": True,
    }
    await settled(target, once_more + Counter(matching))
    assert bystander == standard

    # Bad requests: an unknown handler, an unknown replay, filters with --resume.
    with pytest.raises(ReplayError, match="unknown handler"):
        await replay(settings, window, ["nobody"])
    code, _out, err = await events_command(settings, "replay", "--resume", "feedbeef")
    assert code == 2
    assert "no replay 'feedbeef'" in err
    code, _out, err = await events_command(
        settings, "replay", "--resume", replay_id, "--source", "plain"
    )
    assert code == 2
    code, _out, err = await events_command(settings, "replay", "--type", "order.*")
    assert code == 2
    assert "--handler" in err
    # Not on a terminal, a replay without --yes says how many it would send, and sends none.
    code, _out, err = await events_command(
        settings, "replay", "--handler", "target", "--type", "order.*"
    )
    assert code == 2
    assert "add --yes" in err
    code, out, _err = await events_command(
        settings, "replay", "--handler", "target", *args, "--dry-run"
    )
    assert code == 0
    assert f"matched {len(matching)}, would send {len(matching)}" in out
    await asyncio.sleep(0.5)
    assert target == once_more + Counter(matching)

    # --all-handlers: one event to every handler bound to it, once more each.
    chosen = matching[0]
    code, out, err = await events_command(
        settings, "replay", "--all-handlers", "--id", chosen, "--yes", "--json"
    )
    assert code == 0, err
    assert json.loads(out) | {"replay_id": ""} == json.loads(out) | {
        "replay_id": "",
        "matched": 1,
        "sent": 2,
        "handlers": ["bystander", "target"],
    }
    await settled(target, once_more + Counter(matching) + Counter([chosen]))
    assert bystander == standard + Counter([chosen])


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


async def _at_least(count: Callable[[], Awaitable[int]], wanted: int) -> bool:
    return await count() >= wanted


async def _replay_id(process: Any) -> str:
    """The id the replay announces on stderr before it sends anything."""
    line = await asyncio.to_thread(process.stderr.readline)
    found = re.search(r"--resume ([0-9a-f]+)", line)
    assert found, line
    return found.group(1)
