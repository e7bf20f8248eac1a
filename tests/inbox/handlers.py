"""A transactional handler for worker processes: ``HOOKQ_HANDLER_MODULES=tests.inbox.handlers``.

``tx-recorder`` handles every ``standard.*`` event: it notes its start in ``<schema>.starts``
through a connection of its own (committed at once, whatever becomes of the run), writes its
effect through ``ctx.db``, then sleeps the payload's ``sleep`` seconds with the transaction open
(so a test can kill or race it there), and ``sleep_first`` more on the event's first start only.
The schema is the worker's ``HOOKQ_NAMESPACE``.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg

from hookq.handlers import HandlerContext, handler
from hookq.inbox.schema import quoted
from hookq.sources.standard.models import StandardEvent
from tests.inbox.support import FAST, write_effect

TIMEOUT = 5.0
_starts: list[asyncpg.Connection] = []  # this process's own connection, made in its loop


async def note_start(ctx: HandlerContext) -> bool:
    """Note this run's start; True when it is the event's first."""
    if not _starts:
        _starts.append(await asyncpg.connect(os.environ["HOOKQ_POSTGRES_URL"]))
    table = f"{quoted(os.environ['HOOKQ_NAMESPACE'])}.starts"
    earlier = await _starts[0].fetchval(
        f"INSERT INTO {table} (delivery_id, pid, attempt) VALUES ($1, $2, $3)"
        f" RETURNING (SELECT count(*) FROM {table} WHERE delivery_id = $1)",
        ctx.delivery_id,
        os.getpid(),
        ctx.attempt,
    )
    return bool(earlier == 0)


@handler("standard.#", name="tx-recorder", timeout=TIMEOUT, backoff=FAST, transactional=True)
async def tx_recorder(event: StandardEvent, ctx: HandlerContext) -> None:
    first = await note_start(ctx)
    await write_effect(ctx)
    extra = event.model_extra or {}
    await asyncio.sleep(
        float(extra.get("sleep", 0)) + (extra.get("sleep_first", 0) if first else 0)
    )
