"""Hooks: a team's behaviour around every handler's runs, registered from outside hookq.

The two hooks below live in a package written to a directory outside the repository: one
limits a handler's concurrency (registered by ``HOOKQ_HOOKS``), the other records every outcome
(registered by an entry point in the ``hookq.hooks`` group). A real ``hookq worker`` process
loads them; nothing in hookq's code knows them.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

import orjson
from aio_pika.abc import AbstractChannel

from hookq.settings import Settings
from hookq.topology import Names
from tests.handlers.plugins import unique, write_distribution
from tests.support.events import eventually, publish_event, standard_body
from tests.support.workers import WorkerProcess, worker_env

HOOKS = '''
"""A team's hooks, written by tests.worker.test_hooks."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os

from hookq.worker.hooks import Hook, Stage


class OneAtATime(Hook):
    """At most one run of each handler at a time, in this worker."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Semaphore] = {}

    def around(self, stage, delivery):
        if stage is not Stage.RUN:
            return None
        lock = self._locks.setdefault(delivery.handler, asyncio.Semaphore(1))
        return lock


class RecordOutcomes(Hook):
    def __init__(self, settings) -> None:
        self._path = os.environ["OUTCOMES_FILE"]

    def settled(self, delivery, outcome) -> None:
        line = {"delivery_id": delivery.delivery_id, "outcome": outcome.value}
        with open(self._path, "a", encoding="utf-8") as file:
            file.write(json.dumps(line) + "\\n")
'''

HANDLERS = '''
"""Handlers that note how many of their runs overlap, written by tests.worker.test_hooks."""
from __future__ import annotations

import asyncio
import json
import os

from hookq import HandlerContext, Reject, handler
from hookq.sources.standard import StandardEvent

RUNNING = [0]


@handler("standard.#", name="limited", max_attempts=1)
async def limited(event: StandardEvent, ctx: HandlerContext) -> None:
    RUNNING[0] += 1
    with open(os.environ["OVERLAP_FILE"], "a", encoding="utf-8") as file:
        file.write(json.dumps({"running": RUNNING[0]}) + "\\n")
    await asyncio.sleep(0.05)
    RUNNING[0] -= 1
    if (event.model_extra or {}).get("reject"):
        raise Reject("asked to")
'''


def read_lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


async def test_hooks_from_a_package_outside_hookq_limit_runs_and_hear_every_outcome(
    settings: Settings, names: Names, channel: AbstractChannel, tmp_path: Path
) -> None:
    plugins = tmp_path / "team"
    plugins.mkdir()
    hooks_module, handlers_module = unique("team_hooks"), unique("team_handlers")
    (plugins / f"{hooks_module}.py").write_text(textwrap.dedent(HOOKS))
    (plugins / f"{handlers_module}.py").write_text(textwrap.dedent(HANDLERS))
    write_distribution(
        plugins, unique("team-hooks"), {"outcomes": f"{hooks_module}:RecordOutcomes"}, "hookq.hooks"
    )
    outcomes, overlap = tmp_path / "outcomes.jsonl", tmp_path / "overlap.jsonl"
    env = worker_env(
        settings,
        handler_modules=handlers_module,
        HOOKQ_HOOKS=f"{hooks_module}:OneAtATime",
        HOOKQ_PREFETCH="20",
        OUTCOMES_FILE=str(outcomes),
        OVERLAP_FILE=str(overlap),
    )
    env["PYTHONPATH"] = f"{plugins}:{env['PYTHONPATH']}"
    with WorkerProcess.start(env, tmp_path / "worker.log") as worker:
        worker.wait_ready()
        for n in range(20):
            await publish_event(channel, names, f"ok-{n}", standard_body())
        await publish_event(channel, names, "ok-0", standard_body())  # a duplicate
        await publish_event(channel, names, "bad", orjson.dumps({"type": 7}))  # invalid
        await publish_event(channel, names, "no", standard_body(reject=True))  # rejected
        await eventually(lambda: len(read_lines(outcomes)) == 23, timeout=30)
        worker.terminate()
        assert worker.wait() == 0

    runs = read_lines(overlap)
    assert len(runs) == 21  # 20 events and the rejected one ran; the invalid one did not
    # Twenty messages in flight at once (prefetch 20), one run at a time: the limit held.
    assert max(int(str(run["running"])) for run in runs) == 1
    counted = Counter(str(line["outcome"]) for line in read_lines(outcomes))
    assert counted == {"processed": 20, "duplicate": 1, "invalid": 1, "dead": 1}
    hooks_line = next(
        json.loads(line) for line in worker.output().splitlines() if '"worker hooks"' in line
    )
    assert hooks_line["hooks"] == ["OneAtATime", "RecordOutcomes", "metrics"]


async def test_without_the_limit_the_same_runs_overlap(
    settings: Settings, names: Names, channel: AbstractChannel, tmp_path: Path
) -> None:
    # The control: what the limit prevents does happen without it.
    plugins = tmp_path / "team"
    plugins.mkdir()
    handlers_module = unique("team_handlers")
    (plugins / f"{handlers_module}.py").write_text(textwrap.dedent(HANDLERS))
    overlap = tmp_path / "overlap.jsonl"
    env = worker_env(
        settings, handler_modules=handlers_module, HOOKQ_PREFETCH="20", OVERLAP_FILE=str(overlap)
    )
    env["PYTHONPATH"] = f"{plugins}:{env['PYTHONPATH']}"
    with WorkerProcess.start(env, tmp_path / "worker.log") as worker:
        worker.wait_ready()
        for n in range(20):
            await publish_event(channel, names, f"ok-{n}", standard_body())
        await eventually(lambda: len(read_lines(overlap)) == 20, timeout=30)
    assert max(int(str(run["running"])) for run in read_lines(overlap)) > 1


def test_a_hook_that_is_not_one_stops_the_worker_naming_it(
    settings: Settings, tmp_path: Path
) -> None:
    from tests.support.workers import run_worker_command

    env = worker_env(settings, handler_modules="tests.support.handlers", HOOKQ_HOOKS="json:dumps")
    result = run_worker_command(env)
    assert result.returncode == 2
    assert "HOOKQ_HOOKS entry 'json:dumps'" in result.stderr
    assert "is not a hook" in result.stderr or "building the hook failed" in result.stderr
