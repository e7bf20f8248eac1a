"""Lua script calls from many concurrent messages, sent to Redis together.

At most one round trip is in flight: the calls made while it travels wait and go together in
the next one. An idle worker therefore sends each call at once (the next turn of the event
loop), and a busy one sends batches as large as its load. The calls of one script in a batch
travel as one ``EVAL`` over all their keys (``BatchScript``): a pipeline of one ``EVAL`` per
call cost redis-py a command's packing and a reply's parsing each, the worker's largest cost
per message after validation (docs/benchmarks.md). Several scripts in one batch share one
pipeline.

``EVAL`` (not ``EVALSHA``): Redis caches the compiled script by its digest anyway, and a
restarted Redis can never answer NOSCRIPT. One script call touches many keys, so hookq needs a
single Redis server (or a cluster's single slot), as any multi-key script does. A failed round
trip fails every call in it; each caller's gate (``worker.redis_gate``) then waits for Redis and
calls again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis.asyncio as aioredis


class BatchScript:
    """A Lua script run for many keys at once.

    ``body`` handles one key: ``key`` is that key, ``argv(n)`` its n-th argument (1-based),
    ``shared(n)`` the n-th of the ``shared`` arguments every key of a call takes alike (a TTL:
    sent once per round trip, not once per key), and it ``return``s a table of exactly
    ``results`` numbers. ``lua`` wraps it in the loop over ``KEYS`` and flattens the results.
    """

    __slots__ = ("args", "lua", "results", "shared")

    def __init__(self, body: str, *, args: int, results: int = 1, shared: int = 0) -> None:
        self.args = args
        self.results = results
        self.shared = shared
        self.lua = (
            "local out = {}\n"
            "local function shared(n) return ARGV[n] end\n"
            "for i, key in ipairs(KEYS) do\n"
            f"  local base = {shared} + (i - 1) * {args}\n"
            "  local function argv(n) return ARGV[base + n] end\n"
            f"  local result = (function()\n{body}\n  end)()\n"
            f"  for j = 1, {results} do out[#out + 1] = result[j] end\n"
            "end\n"
            "return out\n"
        )


Call = tuple[str, tuple[Any, ...], "asyncio.Future[Any]"]  # key, its arguments, its result
Calls = tuple[BatchScript, tuple[Any, ...]]  # a script and its shared arguments


class ScriptBatch:
    def __init__(self, client: aioredis.Redis, timeout: float = 5.0) -> None:
        self._client = client
        self._timeout = timeout
        self._pending: dict[Calls, list[Call]] = {}
        self._sender: asyncio.Task[None] | None = None
        self.round_trips = 0  # for tests and curiosity: how well calls are batched

    def call(
        self, script: BatchScript, key: str, args: tuple[Any, ...], shared: tuple[Any, ...] = ()
    ) -> asyncio.Future[Any]:
        """The script's result for ``key`` (a number, or a tuple of ``script.results``
        numbers), as a future (cancel it to give up waiting). Calls with the same ``shared``
        arguments travel in one script call."""
        if len(args) != script.args or len(shared) != script.shared:
            raise ValueError(
                f"the script takes {script.args} arguments per key and {script.shared} shared, "
                f"not {len(args)} and {len(shared)}"
            )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.setdefault((script, shared), []).append((key, args, future))
        if self._sender is None:
            # One task while there is work, not one per call.
            self._sender = loop.create_task(self._send_all())
        return future

    async def _send_all(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, {}
                await self._send(batch)
        finally:
            self._sender = None

    async def _send(self, batch: dict[Calls, list[Call]]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for (script, shared), calls in batch.items():
            keys = [key for key, _args, _future in calls]
            args = [arg for _key, call_args, _future in calls for arg in call_args]
            pipe.eval(script.lua, len(keys), *keys, *shared, *args)
        futures = [future for calls in batch.values() for *_call, future in calls]
        self.round_trips += 1
        try:
            # Bounded here rather than by redis-py's socket_timeout, which costs a task per
            # command.
            async with asyncio.timeout(self._timeout):
                replies = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            for future in futures:
                future.cancel()
            raise
        except Exception as exc:  # handed to each caller: its gate knows an outage
            _fail(futures, exc)
            return
        for ((script, _shared), calls), reply in zip(batch.items(), replies, strict=True):
            _settle(script, calls, reply)

    async def close(self) -> None:
        """Stop sending; the calls still waiting are cancelled (their messages requeue)."""
        sender = self._sender
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender


def _settle(script: BatchScript, calls: list[Call], reply: Any) -> None:
    futures = [future for *_call, future in calls]
    if isinstance(reply, Exception):
        _fail(futures, reply)
        return
    width = script.results
    if not isinstance(reply, list) or len(reply) != width * len(calls):
        _fail(futures, RuntimeError(f"unexpected script reply: {reply!r:.200}"))
        return
    for index, future in enumerate(futures):
        if future.done():  # its caller gave up waiting
            continue
        if width == 1:
            future.set_result(reply[index])
        else:
            future.set_result(tuple(reply[index * width : (index + 1) * width]))


def _fail(futures: list[asyncio.Future[Any]], exc: BaseException) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(exc)
