"""The inbox benchmark's two no-op handlers, alike but for how they are deduped: in Redis
(``bench-inbox-redis``) or by an inbox row in a PostgreSQL transaction (``bench-inbox-tx``,
which writes nothing itself: what is measured is hookq's cost of the transaction). Each notes
its calls as ``bench.noop_handler`` does, in the file ``BENCH_RECORD_FILE`` names."""

from __future__ import annotations

from bench.noop_handler import note_call
from hookq.handlers.api import HandlerContext, handler

REDIS = "bench-inbox-redis"
TRANSACTIONAL = "bench-inbox-tx"


@handler("plain.#", name=REDIS, max_attempts=1, timeout=10.0)
async def noop_redis(event: object, ctx: HandlerContext) -> None:
    note_call(ctx)


@handler("plain.#", name=TRANSACTIONAL, max_attempts=1, timeout=10.0, transactional=True)
async def noop_tx(event: object, ctx: HandlerContext) -> None:
    note_call(ctx)
