"""Lua script calls from many concurrent messages, sent to Redis in shared pipelines.

At most one pipeline is in flight: the calls made while it travels wait and go together in the
next one. An idle worker therefore sends each call at once (the next turn of the event loop),
and a busy one sends batches as large as its load, one round trip for many messages.

``EVAL`` (not ``EVALSHA``): Redis caches the compiled script by its digest anyway, and a
restarted Redis can never answer NOSCRIPT. A failed round trip fails every call in it; each
caller's gate (``worker.redis_gate``) then waits for Redis and calls again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis.asyncio as aioredis

Call = tuple[str, str, tuple[Any, ...], "asyncio.Future[Any]"]


class ScriptBatch:
    def __init__(self, client: aioredis.Redis, timeout: float = 5.0) -> None:
        self._client = client
        self._timeout = timeout
        self._pending: list[Call] = []
        self._sender: asyncio.Task[None] | None = None

    def call(self, script: str, key: str, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """The script's result, as a future (cancel it to give up waiting)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((script, key, args, future))
        if self._sender is None:
            # One task while there is work, not one per call.
            self._sender = loop.create_task(self._send_all())
        return future

    async def _send_all(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                await self._send(batch)
        finally:
            self._sender = None

    async def _send(self, batch: list[Call]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for script, key, args, _future in batch:
            pipe.eval(script, 1, key, *args)
        futures = [future for *_call, future in batch]
        try:
            # Bounded here rather than by redis-py's socket_timeout, which costs a task per
            # command.
            async with asyncio.timeout(self._timeout):
                results = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            for future in futures:
                future.cancel()
            raise
        except Exception as exc:  # handed to each caller: its gate knows an outage
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, result in zip(futures, results, strict=True):
            if future.done():  # its caller gave up waiting
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def close(self) -> None:
        """Stop sending; the calls still waiting are cancelled (their messages requeue)."""
        sender = self._sender
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
