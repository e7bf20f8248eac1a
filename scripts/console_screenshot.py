"""The README's screenshot of the console's Issues page (docs/console-issues.png), taken from a
real run: a worker whose handlers fail, the dead letters they leave, the console showing them.

    .venv/bin/python scripts/console_screenshot.py [docs/console-issues.png]

Needs what the tests need: RabbitMQ and Redis on this machine (or HOOKQ_AMQP_URL and
HOOKQ_REDIS_URL) and Debian's Chromium at /usr/bin/chromium. Everything runs in a namespace of
its own, deleted at the end. Run as a module by the worker it starts (``HOOKQ_HANDLER_MODULES=
console_screenshot``), this file is the handlers that fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import orjson

from hookq.handlers import HandlerContext, handler
from hookq.sources.plain import PlainEvent
from hookq.sources.standard.models import StandardEvent

ROOT = Path(__file__).resolve().parents[1]
TOKEN = f"screenshot-{uuid.uuid4().hex}"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@handler("plain.thread.#", name="support-sync", max_attempts=1)
async def support_sync(event: PlainEvent, ctx: HandlerContext) -> None:
    if event.type == "thread.email_received":
        raise TimeoutError("CRM did not answer within 10 s")
    raise ConnectionError("CRM answered 503 Service Unavailable")


@handler("standard.invoice.*", name="billing-export", max_attempts=1)
async def billing_export(event: StandardEvent, ctx: HandlerContext) -> None:
    raise KeyError("customer_id")


# (source, event type, how many): what the provider sends.
TRAFFIC = [
    ("plain", "thread.chat_sent", 7),
    ("plain", "thread.email_received", 3),
    ("standard", "invoice.paid", 12),
    ("standard", "subscription.renewed", 2),  # no handler binds it: unrouted
]


def body(source: str, event_type: str, n: int) -> bytes:
    if source == "plain":
        from hookq.sources.catalogue import example

        payload: dict[str, Any] = orjson.loads(example(source, event_type))
        payload["id"] = f"pEv_{uuid.uuid4().hex[:20].upper()}"
        return orjson.dumps(payload)
    return orjson.dumps({"type": event_type, "data": {"invoice": f"in_{n:04}", "amount": 4200}})


async def publish(settings: Any) -> int:
    from hookq.message import event_headers
    from hookq.topology import Names, declare_exchanges

    names = Names(settings.namespace)
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        events, _direct = await declare_exchanges(channel, names)
        for source, event_type, count in TRAFFIC:
            for n in range(count):
                data = body(source, event_type, n)
                delivery_id = (
                    orjson.loads(data)["id"] if source == "plain" else f"msg_{uuid.uuid4().hex}"
                )
                headers = event_headers(source, event_type, delivery_id, time.time(), {})
                message = aio_pika.Message(data, content_type="application/json", headers=headers)
                await events.publish(message, routing_key=f"{source}.{event_type}")
    return sum(count for *_, count in TRAFFIC)


async def dead_and_unrouted(settings: Any) -> int:
    from hookq.dlq.queues import queue_state
    from hookq.topology import Names

    names = Names(settings.namespace)
    queues = [names.dead_queue("support-sync"), names.dead_queue("billing-export")]
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        total = 0
        for queue in [*queues, names.unrouted_queue]:
            state = await queue_state(connection, queue)
            total += state.ready if state else 0
        return total


async def screenshot(settings: Any, path: Path) -> None:
    from aiohttp import web
    from playwright.async_api import async_playwright

    from hookq.console.app import build_console, create_app

    console = build_console(settings)
    runner = web.AppRunner(create_app(console), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 18081).start()
    await console.sampler.start()
    try:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                tempfile.mkdtemp(prefix="hookq-screenshot-"),
                executable_path="/usr/bin/chromium",
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1360, "height": 640},
            )
            page = await context.new_page()
            await page.goto("http://127.0.0.1:18081/login?next=/issues")
            await page.fill("#token", TOKEN)
            await page.click("button[type=submit]")
            await page.wait_for_selector("tr.issue")
            await page.screenshot(path=str(path), full_page=True)
            await context.close()
    finally:
        await runner.cleanup()
        await console.sampler.stop()


def main(path: Path) -> None:
    from hookq.settings import load_settings

    namespace = f"console-shot-{uuid.uuid4().hex[:6]}"
    os.environ |= {
        "HOOKQ_NAMESPACE": namespace,
        "HOOKQ_HANDLER_MODULES": "console_screenshot",
        "HOOKQ_BUILTIN_HANDLERS": "",
        "HOOKQ_WORKER_METRICS_PORT": "0",
        "HOOKQ_CONSOLE_TOKENS": TOKEN,
        "HOOKQ_CONSOLE_TOKEN_NAMES": "alice",
        "HOOKQ_LOG_LEVEL": "ERROR",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "scripts"), str(ROOT)]),
    }
    sys.path.insert(0, str(ROOT / "scripts"))
    settings = load_settings(insecure_sources=["plain", "livechat", "starya", "standard"])
    worker = subprocess.Popen(
        [sys.executable, "-m", "hookq.cli", "worker"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        asyncio.run(shoot(settings, path))
    finally:
        worker.terminate()
        worker.wait(30)
        asyncio.run(delete_namespace(settings))
    print(f"wrote {path}")


async def shoot(settings: Any, path: Path) -> None:
    await asyncio.sleep(4)  # the worker declares its queues
    sent = await publish(settings)
    for _ in range(100):
        if await dead_and_unrouted(settings) == sent:
            break
        await asyncio.sleep(0.2)
    await screenshot(settings, path)


async def delete_namespace(settings: Any) -> None:
    from hookq.handlers.registry import discover
    from hookq.topology import Names

    names = Names(settings.namespace)
    queues = [names.unrouted_queue]
    for spec in discover(settings).values():
        queues += [names.handler_queue(spec.name), names.dead_queue(spec.name)]
        queues += [names.retry_queue(spec.name, d) for d in spec.retry_delays]
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        for queue in queues:
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                await channel.queue_delete(queue)
        for exchange in (names.events_exchange, names.unrouted_exchange, names.direct_exchange):
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                await channel.exchange_delete(exchange)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "console-issues.png"
    main(target)
