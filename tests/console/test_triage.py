"""An operator's triage in a real browser: log in, find the issue of a failing handler (a real
worker process whose handler fails until told otherwise), replay it, and watch the group shrink
as the handler runs the events again. Scripts do the same through the API."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from playwright.async_api import expect

from hookq.settings import Settings
from hookq.topology import Names
from tests.console.conftest import TOKEN, Browser, StartConsole, log_in
from tests.console.handlers import EVENT_TYPE, Switch
from tests.console.support import (
    HANDLER,
    dead_count,
    declare_flaky,
    fail_events,
    start_worker,
    wait_ready,
)
from tests.support.events import ready_count

IDS = [f"order-{n}" for n in range(4)]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


POISONED = ["order-poisoned"]


async def test_an_operator_replays_an_issue_and_sees_it_shrink_as_the_handler_runs(
    console_settings: Settings,
    names: Names,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    start_console: StartConsole,
    browser: Browser,
    tmp_path: Path,
) -> None:
    with start_worker(console_settings, tmp_path / "worker.log") as worker:
        await wait_ready(worker)
        await fail_events(amqp, redis_client, names, IDS, POISONED)
        running = await start_console(console_settings)

        page = await browser.page()
        await log_in(page, running.url)
        await expect(page.locator(".operator")).to_have_text("alice")
        await page.click("nav >> text=Issues")
        group = page.locator(f'tr.issue[data-handler="{HANDLER}"]')
        await expect(group).to_have_count(1)
        await expect(group.locator(".event-type")).to_have_text(EVENT_TYPE)
        await expect(group.locator(".error-type")).to_have_text("RuntimeError")
        await expect(group.locator(".count")).to_have_text("5")
        await expect(group.locator(".error-message")).to_have_text("downstream unavailable")

        await redis_client.delete(Switch(names).key)  # the fix is deployed: it succeeds now
        await group.locator("a.replay").click()
        await expect(page.locator(".touch-count")).to_have_text("5")  # asked before acting
        await page.click("button.confirm")
        await page.wait_for_url(f"{running.url}/issues")
        await expect(page.locator(".flash")).to_contain_text("5 message(s) sent back")

        # The page refreshes itself while the worker runs them: four succeed, and the poisoned
        # one fails again, so the group comes back with one letter.
        await expect(group.locator(".count")).to_have_text("1", timeout=30_000)
        effects = await redis_client.hgetall(Switch(names).effects)
        assert {_text(k): int(v) for k, v in effects.items()} == dict.fromkeys(IDS, 1)
        assert await dead_count(amqp, names) == 1


async def test_a_script_lists_issues_and_replays_a_group_through_the_api(
    console_settings: Settings,
    names: Names,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    start_console: StartConsole,
    tmp_path: Path,
) -> None:
    with start_worker(console_settings, tmp_path / "worker.log") as worker:
        await wait_ready(worker)
        await fail_events(amqp, redis_client, names, IDS)
        worker.terminate()
        worker.wait()
    await declare_flaky(amqp, names)
    running = await start_console(console_settings, sample=False)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{running.url}/api/issues") as answer:
            assert answer.status == 200
            groups = await answer.json()
        assert [
            {k: g[k] for k in ("handler", "event_type", "error_type", "count")} for g in groups
        ] == [
            {
                "handler": HANDLER,
                "event_type": EVENT_TYPE,
                "error_type": "RuntimeError",
                "count": len(IDS),
            }
        ]
        assert groups[0]["first_seen"] <= groups[0]["last_seen"]

        group = {k: groups[0][k] for k in ("handler", "event_type", "error_type")}
        async with http.post(f"{running.url}/api/issues/replay", json=group) as answer:
            assert answer.status == 200, await answer.text()
            replayed = await answer.json()
        assert replayed["replayed"] == len(IDS)
        assert replayed["complete"] is True

        async with http.get(f"{running.url}/api/issues") as answer:
            assert await answer.json() == []
    channel = await amqp.channel()
    assert await ready_count(channel, names.handler_queue(HANDLER)) == len(IDS)
    await channel.close()
