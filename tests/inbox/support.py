"""What the inbox tests share: a handler that writes its effect through ``ctx.db``, and reading
back the effects and inbox rows that were committed."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from hookq.handlers.api import Backoff, HandlerContext, HandlerSpec
from hookq.inbox.schema import quoted

FAST = Backoff(base=0.2, factor=2.0, max_delay=1.0, jitter=False)

Behaviour = Callable[[HandlerContext], Awaitable[None]]


async def write_effect(ctx: HandlerContext, note: str = "") -> None:
    """One row in the test schema's ``effects``, inside the run's transaction."""
    assert ctx.db is not None, "a transactional handler gets ctx.db"
    await ctx.db.execute(
        f"INSERT INTO {quoted(ctx_namespace(ctx))}.effects (handler, delivery_id, attempt, pid,"
        " note) VALUES ($1, $2, $3, $4, $5)",
        ctx.handler,
        ctx.delivery_id,
        ctx.attempt,
        os.getpid(),
        note,
    )


_namespaces: dict[str, str] = {}  # handler name -> namespace, for in-process handlers


def ctx_namespace(ctx: HandlerContext) -> str:
    return _namespaces.get(ctx.handler) or os.environ["HOOKQ_NAMESPACE"]


def effect_spec(
    name: str,
    namespace: str,
    *,
    then: Behaviour | None = None,
    timeout: float = 2.0,
    max_attempts: int = 3,
    runs: list[int] | None = None,
) -> HandlerSpec:
    """A transactional handler that writes its effect, then does ``then`` (fail, sleep...)."""
    _namespaces[name] = namespace

    async def handle(event: Any, ctx: HandlerContext) -> None:
        if runs is not None:
            runs.append(ctx.attempt)
        await write_effect(ctx)
        if then is not None:
            await then(ctx)

    return HandlerSpec(
        name=name,
        patterns=("standard.#",),
        func=handle,
        timeout=timeout,
        max_attempts=max_attempts,
        backoff=FAST,
        transactional=True,
    )


async def effects(db: asyncpg.Connection, namespace: str, handler: str) -> list[asyncpg.Record]:
    return await db.fetch(
        f"SELECT * FROM {quoted(namespace)}.effects WHERE handler = $1 ORDER BY at", handler
    )


async def effect_count(db: asyncpg.Connection, namespace: str, handler: str) -> int:
    return len(await effects(db, namespace, handler))


async def inbox_rows(db: asyncpg.Connection, namespace: str) -> list[asyncpg.Record]:
    return await db.fetch(f"SELECT * FROM {quoted(namespace)}.inbox ORDER BY created_at")


async def sleep_forever(_ctx: HandlerContext) -> None:
    await asyncio.sleep(3600)
