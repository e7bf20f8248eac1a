"""Handlers from outside the repository reach the worker: a module listed only in
``HOOKQ_HANDLER_MODULES`` and one exposed only by an installed distribution's entry point
(``hookq.handlers``). Both live in a temporary directory on the worker's ``PYTHONPATH``: the
entry point comes from a ``.dist-info`` there, as an installed package's would."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel

from hookq.settings import Settings
from hookq.topology import Names
from tests.support.events import eventually, publish_event, standard_body
from tests.support.workers import WorkerProcess, worker_env

PLUGIN = """
import os

import redis.asyncio as aioredis

from hookq.handlers import HandlerContext, handler
from hookq.topology import Names


@handler("standard.#", name="{name}")
async def record(event: object, ctx: HandlerContext) -> None:
    key = Names(os.environ["HOOKQ_NAMESPACE"]).redis_key("test", "plugins")
    client = aioredis.from_url(os.environ["HOOKQ_REDIS_URL"])
    async with client:
        await client.hincrby(key, "{name}:" + ctx.delivery_id, 1)
"""


def write_plugins(root: Path) -> None:
    (root / "team_hooks_by_env.py").write_text(textwrap.dedent(PLUGIN.format(name="by-env")))
    (root / "team_hooks_by_ep.py").write_text(textwrap.dedent(PLUGIN.format(name="by-entry-point")))
    dist = root / "team_hooks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: team-hooks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[hookq.handlers]\nteam = team_hooks_by_ep\n")


async def test_handlers_from_env_modules_and_entry_points_receive_their_events(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    redis_client: aioredis.Redis,
    tmp_path: Path,
) -> None:
    plugins = tmp_path / "site"
    plugins.mkdir()
    write_plugins(plugins)
    env = worker_env(settings, "team_hooks_by_env")
    env["PYTHONPATH"] = f"{env['PYTHONPATH']}:{plugins}"
    key = names.redis_key("test", "plugins")

    with WorkerProcess.start(env, tmp_path / "worker.log") as worker:
        await asyncio.to_thread(worker.wait_ready)
        await publish_event(channel, names, "evt-p", standard_body())

        async def both_ran() -> bool:
            return len(await redis_client.hgetall(key)) == 2

        await eventually(both_ran, timeout=30)
        worker.terminate()
        assert await asyncio.to_thread(worker.wait) == 0

    assert await redis_client.hgetall(key) == {b"by-env:evt-p": b"1", b"by-entry-point:evt-p": b"1"}
    assert "by-entry-point" in worker.output()  # in its "worker consuming" line
