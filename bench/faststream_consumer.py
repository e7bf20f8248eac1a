"""The worker's second reference: a FastStream subscriber typed with the model hookq validates
the same events with (Plain's ``ThreadCreated``), acking each message once its handler returns.

FastStream parses the body into the model through its own dependency injection, runs the
handler and acks (``AckPolicy.REJECT_ON_ERROR``, its default); it does no dedupe, no retries
through delay queues, no dead-lettering: what hookq does beyond it is the price of those.
Each call notes its time, as the no-op handler of the worker under test does; the times are
written to ``--out`` once ``--count`` messages are handled.

    python -m bench.faststream_consumer --amqp-url URL --queue NAME --count N --out FILE
"""

from __future__ import annotations

import argparse
import asyncio
import time

from faststream.rabbit import RabbitBroker, RabbitQueue
from faststream.rabbit.schemas import Channel

from bench.ceilings import record_until_done
from hookq.runtime import run
from hookq.sources.plain.models import ThreadCreated


async def consume(args: argparse.Namespace) -> None:
    # No per-message log lines: hookq's worker writes none either.
    broker = RabbitBroker(args.amqp_url, logger=None)
    handled: list[float] = []
    done = asyncio.Event()
    # Declared by the benchmark with hookq's arguments (quorum): FastStream only consumes it.
    queue = RabbitQueue(args.queue, declare=False)

    @broker.subscriber(queue, channel=Channel(prefetch_count=args.prefetch))
    async def handle(event: ThreadCreated) -> None:
        handled.append(time.time())
        if len(handled) >= args.count:
            done.set()

    await broker.start()
    print("faststream consumer consuming", flush=True)
    await record_until_done(done, handled, args.out)
    await broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faststream_consumer")
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--prefetch", type=int, default=32)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", required=True)
    run(consume(parser.parse_args()))


if __name__ == "__main__":
    main()
