"""The reference for destinations: a minimal aio-pika consumer that POSTs each message's body
to a URL with one shared aiohttp session, acks on 2xx and requeues otherwise. No signing, no
dedupe, no validation, no retries, no metrics: the ceiling for forwarding.

    python -m bench.forwarder_reference --amqp-url URL --queue NAME --prefetch 32 --url URL
"""

from __future__ import annotations

import argparse

import aio_pika
import aiohttp
from aio_pika.abc import AbstractIncomingMessage

from bench.ceilings import until_signalled
from hookq.message import Header
from hookq.runtime import run


async def forward(amqp_url: str, queue_name: str, prefetch: int, url: str) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    async with connection, session:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(queue_name, ensure=False)

        async def on_message(message: AbstractIncomingMessage) -> None:
            headers = {
                "Content-Type": "application/json",
                "webhook-id": str(message.headers.get(Header.DELIVERY_ID, "")),
            }
            try:
                async with session.post(url, data=message.body, headers=headers) as response:
                    await response.read()
                    ok = 200 <= response.status < 300
            except aiohttp.ClientError:
                ok = False
            if ok:
                await message.ack()
            else:
                await message.nack(requeue=True)

        await queue.consume(on_message)
        await until_signalled()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.forwarder_reference")
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--prefetch", type=int, default=32)
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    run(forward(args.amqp_url, args.queue, args.prefetch, args.url))


if __name__ == "__main__":
    main()
