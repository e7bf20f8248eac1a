"""The references hookq is measured against, each run as its own process like hookq's:

- ``publisher``: a minimal aiohttp app that reads the body, publishes it persistent with a
  publisher confirm (to the same exchange, so it lands in the same queue as hookq's, over as
  many channels as hookq's default) and answers 200. No authentication, no parsing, no
  headers, no metrics: the ceiling for the ingress.
- ``consumer``: a minimal aio-pika consumer that only acks, with the worker's prefetch, from a
  queue pre-loaded like the worker's: the ceiling for the worker. It writes the time of every
  ack to a file, as the no-op handler does for hookq.

    python -m bench.ceilings publisher --port 8099 --amqp-url URL --exchange NAME
    python -m bench.ceilings consumer --amqp-url URL --queue NAME --count N --out FILE
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aiohttp import web

from hookq.runtime import run
from hookq.settings import Settings


class RoundRobin:
    """The publishing channels, taken in turn."""

    def __init__(self, channels: Sequence[AbstractChannel]) -> None:
        self._cycle = itertools.cycle(channels)

    def next(self) -> AbstractChannel:
        return next(self._cycle)


CHANNELS = web.AppKey("channels", RoundRobin)
EXCHANGE = web.AppKey("exchange", str)
PROPERTIES = aiormq.spec.Basic.Properties(delivery_mode=int(aio_pika.DeliveryMode.PERSISTENT))


async def publish(request: web.Request) -> web.Response:
    body = await request.read()
    channel = await request.app[CHANNELS].next().get_underlay_channel()
    # aiormq directly, as hookq's publisher does: the fastest confirmed publish aio-pika offers.
    await channel.basic_publish(
        body,
        exchange=request.app[EXCHANGE],
        routing_key=f"{request.match_info['source']}.bench",
        properties=PROPERTIES,
        mandatory=True,
    )
    return web.Response(status=200, body=b'{"ok":true}', content_type="application/json")


async def serve_publisher(args: argparse.Namespace) -> None:
    connection = await aio_pika.connect_robust(
        args.amqp_url, client_properties={"connection_name": "bench-ceiling-publisher"}
    )
    channels = [await connection.channel(publisher_confirms=True) for _ in range(args.channels)]
    app = web.Application()
    app[CHANNELS] = RoundRobin(channels)
    app[EXCHANGE] = args.exchange
    app.router.add_post("/webhooks/{source}", publish)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port, backlog=1024).start()
    print("ceiling publisher listening", flush=True)
    await until_signalled()
    await runner.cleanup()
    await connection.close()


async def consume_and_ack(args: argparse.Namespace) -> None:
    connection = await aio_pika.connect_robust(
        args.amqp_url, client_properties={"connection_name": "bench-ceiling-consumer"}
    )
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=args.prefetch)
    queue = await channel.get_queue(args.queue, ensure=False)
    acked: list[float] = []
    done = asyncio.Event()

    async def on_message(message: AbstractIncomingMessage) -> None:
        await message.ack()
        acked.append(time.time())
        if len(acked) >= args.count:
            done.set()

    await queue.consume(on_message)
    print("ceiling consumer consuming", flush=True)
    await record_until_done(done, acked, args.out)
    await connection.close()


async def record_until_done(done: asyncio.Event, times: list[float], out: str) -> None:
    """Until a reference consumer has handled its count (``done``) or is signalled, then its
    completion times to ``out``, one ``<n>\t<Unix time>`` line each."""
    stop = asyncio.create_task(until_signalled())
    finished = asyncio.create_task(done.wait())
    await asyncio.wait({stop, finished}, return_when=asyncio.FIRST_COMPLETED)
    for task in (stop, finished):
        task.cancel()
    text = "".join(f"{n}\t{t:.6f}\n" for n, t in enumerate(times))
    await asyncio.to_thread(Path(out).write_text, text)


async def until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ceilings")
    commands = parser.add_subparsers(dest="command", required=True)
    pub = commands.add_parser("publisher")
    pub.add_argument("--port", type=int, required=True)
    pub.add_argument("--amqp-url", required=True)
    pub.add_argument("--exchange", required=True)
    pub.add_argument("--channels", type=int, default=Settings().publish_channels)
    con = commands.add_parser("consumer")
    con.add_argument("--amqp-url", required=True)
    con.add_argument("--queue", required=True)
    con.add_argument("--prefetch", type=int, default=32)
    con.add_argument("--count", type=int, required=True)
    con.add_argument("--out", required=True)
    args = parser.parse_args()
    run(serve_publisher(args) if args.command == "publisher" else consume_and_ack(args))


if __name__ == "__main__":
    main()
