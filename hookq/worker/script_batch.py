"""Lua script calls from many concurrent messages, sent to Redis together.

At most one round trip is in flight: the calls made while it travels wait and go together in
the next one. An idle worker therefore sends each call almost at once (two turns of the event
loop later), and a busy one sends batches as large as its load. The calls of one script in a batch
travel as one ``EVAL`` over all their keys (``BatchScript``): a pipeline of one ``EVAL`` per
call cost redis-py a command's packing and a reply's parsing each, the worker's largest cost
per message after validation (docs/benchmarks.md). Several scripts in one batch share one
round trip, on one connection the batch keeps: redis-py's ``Pipeline`` spent about 45 us of the
worker's CPU per round trip on its own machinery (a client object, the pool, observability
hooks), more than the commands' packing and parsing (issue 18; docs/benchmarks.md). The
connection is redis-py's own (TLS, a password, Sentinel's discovery of the primary and its
``READONLY`` handling all apply), with the client's retry: one quick retry on a stale
connection, which the scripts allow (each is idempotent for its caller).

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
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ResponseError


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
        # Taken from the client's pool at the first round trip, kept until ``close``: one is
        # enough, as one round trip at most is in flight.
        self._connection: AbstractConnection | None = None
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
                # One more turn of the loop first: the messages whose frames were read in this
                # turn make their calls in the next, and travel with these. Under load that
                # nearly halves the EVALs (0.59 to 0.33 per message) and lowers the
                # broker's CPU per message (docs/benchmarks.md), for one turn of waiting.
                await asyncio.sleep(0)
                batch, self._pending = self._pending, {}
                await self._send(batch)
        finally:
            self._sender = None

    async def _send(self, batch: dict[Calls, list[Call]]) -> None:
        commands = []
        for (script, shared), calls in batch.items():
            keys = [key for key, _args, _future in calls]
            args = [arg for _key, call_args, _future in calls for arg in call_args]
            commands.append(("EVAL", script.lua, len(keys), *keys, *shared, *args))
        futures = [future for calls in batch.values() for *_call, future in calls]
        self.round_trips += 1
        try:
            # Bounded here rather than by redis-py's socket_timeout, which costs a task per
            # command.
            async with asyncio.timeout(self._timeout):
                replies = await self._round_trip(commands)
        except asyncio.CancelledError:
            for future in futures:
                future.cancel()
            raise
        except Exception as exc:  # handed to each caller: its gate knows an outage
            _fail(futures, exc)
            return
        for ((script, _shared), calls), reply in zip(batch.items(), replies, strict=True):
            _settle(script, calls, reply)

    async def _round_trip(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Each command's reply (an error reply as its ``ResponseError``), in order."""
        connection = self._connection
        if connection is None:
            pool = self._client.connection_pool
            connection = self._connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        # redis-py's connection disconnects itself when a send or a read fails or is
        # cancelled: a reply half read is never taken for the next round trip's.
        return await connection.retry.call_with_retry(
            lambda: _exchange(connection, commands),
            lambda _error: connection.disconnect(),
        )

    async def close(self) -> None:
        """Stop sending; the calls still waiting are cancelled (their messages requeue)."""
        sender = self._sender
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._client.connection_pool.release(connection)


async def _exchange(connection: AbstractConnection, commands: list[tuple[Any, ...]]) -> list[Any]:
    if not connection.is_connected:
        # The connection's own connect, which through Sentinel asks where the primary is now:
        # a send reconnects to the address it had (a dead primary's, after a failover).
        await connection.connect()  # type: ignore[no-untyped-call]
    await connection.send_packed_command(connection.pack_commands(commands))
    replies: list[Any] = []
    for _command in commands:
        try:
            replies.append(await connection.read_response())
        except ResponseError as exc:  # that command's failure, not the connection's
            replies.append(exc)
    return replies


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
