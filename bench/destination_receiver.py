"""A destination for the bench: answers 200 at once, and notes when each delivery arrived.

    python -m bench.destination_receiver --port 8097 --out FILE

One line per request, ``<webhook-id>\\t<unix time>``, flushed at once (the bench counts lines
to know when a queue has drained). No verification: the receiving end must not be what is
measured.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from typing import IO

from aiohttp import web

from hookq.runtime import run

OUT = web.AppKey("out", IO[str])


async def receive(request: web.Request) -> web.Response:
    await request.read()
    out = request.app[OUT]
    out.write(f"{request.headers.get('webhook-id', '')}\t{time.time():.6f}\n")
    out.flush()
    return web.Response(status=200)


async def serve(port: int, path: str) -> None:
    with open(path, "a", encoding="utf-8") as out:  # noqa: ASYNC230 - once, before serving
        app = web.Application()
        app[OUT] = out
        app.router.add_post("/{tail:.*}", receive)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.destination_receiver")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    run(serve(args.port, args.out))


if __name__ == "__main__":
    main()
