"""A handler that hangs on its first run of events marked ``{"hang": true}``, for the timeout
scenario. Loaded with ``HOOKQ_HANDLER_MODULES=tests.reliability.hanging``; records like
``tests.reliability.effects`` (a ``hang`` record when it starts hanging, an ``effect`` when it
completes)."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

from hookq.handlers import HandlerContext, handler
from tests.reliability.effects import FAST_RETRY, record

HANG_TIMEOUT = 1.5


def _wants_hang(event: BaseModel) -> bool:
    # ``data`` may be a declared field or an extra one, depending on the source's model.
    data = event.model_dump().get("data")
    return isinstance(data, dict) and data.get("hang") is True


@handler(
    "standard.rel.#", name="rel-hang", timeout=HANG_TIMEOUT, max_attempts=5, backoff=FAST_RETRY
)
async def sometimes_hangs(event: BaseModel, ctx: HandlerContext) -> None:
    if _wants_hang(event) and ctx.attempt == 1:
        await record("hang", ctx)
        await asyncio.sleep(3600)  # far past the timeout: only the timeout ends this run
    await record("effect", ctx)
