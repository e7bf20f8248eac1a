"""A worker's inbox: its PostgreSQL pool, the gate that pauses transactional handlers while
PostgreSQL is down, the claimers of its transactional handlers, and the pruning of old rows.

Pruning runs in the worker, in the background: once at start-up, then every ``PRUNE_INTERVAL``.
Rows older than ``HOOKQ_DEDUPE_TTL`` go, oldest first, ``PRUNE_BATCH`` at a time (each batch a
short transaction through the ``created_at`` index), so that it never holds many locks or runs
long beside the handlers' transactions; several workers prune side by side, skipping each
other's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
from asyncpg.transaction import Transaction

from hookq.handlers.api import HandlerSpec
from hookq.inbox import connection as pg
from hookq.inbox.claims import InboxClaimer
from hookq.inbox.migrations import check
from hookq.inbox.schema import InboxSql, schema_name
from hookq.settings import Settings
from hookq.worker.gate import Gate
from hookq.worker.inflight import InFlight

log = structlog.get_logger("hookq.inbox")

PRUNE_INTERVAL = 600.0  # seconds between prunings
PRUNE_BATCH = 1000  # rows per delete
PRUNE_PAUSE = 0.05  # seconds between batches: room for the handlers' transactions
ROLLBACK_TIMEOUT = 5.0  # seconds: a rollback that does not answer drops the connection instead


class Inbox:
    def __init__(
        self,
        settings: Settings,
        in_flight: InFlight,
        *,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self._settings = settings
        self.sql = InboxSql(schema_name(settings.namespace))
        self._pool: asyncpg.Pool | None = None
        self.gate = Gate(
            "postgresql", self._probe, pg.postgres_down, in_flight, on_change=on_change
        )
        self._pruning: asyncio.Task[None] | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "Inbox.start() first"
        return self._pool

    async def start(self) -> None:
        """Wait for PostgreSQL, check the schema (``SchemaError`` unless it is current), open
        the pool, start pruning."""
        await pg.wait_for_postgres(self._settings)
        connection = await pg.connect(self._settings)
        try:
            await check(connection, self.sql.schema)
        finally:
            await connection.close()
        self._pool = await pg.create_pool(self._settings)
        self._pruning = asyncio.create_task(self._prune_forever())

    def claimer(self, spec: HandlerSpec, in_flight: InFlight) -> InboxClaimer:
        return InboxClaimer(self, spec, in_flight)

    async def _probe(self) -> None:
        connection = await pg.connect(self._settings)
        await connection.close()

    async def outage(self, exc: BaseException) -> None:
        """PostgreSQL went away: pause, and never hand out a connection opened before."""
        if self._pool is not None:
            await self._pool.expire_connections()
        self.gate.report_down(exc)

    async def give_back(self, connection: PoolConnectionProxy[asyncpg.Record]) -> None:
        try:
            await self.pool.release(connection)
        except Exception:
            connection.terminate()

    async def rollback(
        self, connection: PoolConnectionProxy[asyncpg.Record], transaction: Transaction
    ) -> None:
        """Roll back and return the connection; one that does not answer is dropped instead
        (its transaction dies with it)."""
        if not connection.is_closed() and not connection.is_in_transaction():
            await self.give_back(connection)  # ended already (a COMMIT that failed ends it)
            return
        try:
            async with asyncio.timeout(ROLLBACK_TIMEOUT):
                await transaction.rollback()
        except asyncio.CancelledError:
            connection.terminate()
            raise
        except Exception:
            connection.terminate()
            return
        await self.give_back(connection)

    async def mark_dead(self, digest: bytes, parts: tuple[str, ...]) -> None:
        """The dead mark in a transaction of its own, waiting out an outage: for a run whose
        transaction was lost after its dead letter was published."""

        async def insert() -> None:
            async with self.pool.acquire() as connection:
                await connection.execute(self.sql.insert_dead, digest, *parts)

        await self.gate.run(insert)

    async def prune(self, older_than: float | None = None, batch: int = PRUNE_BATCH) -> int:
        """Delete rows older than ``older_than`` seconds (``HOOKQ_DEDUPE_TTL``); returns how
        many."""
        age = self._settings.dedupe_ttl if older_than is None else older_than
        deleted = 0
        while True:
            async with self.pool.acquire() as connection:
                status = await connection.execute(self.sql.prune, age, batch)
            count = int(status.rsplit(" ", 1)[-1])
            deleted += count
            if count < batch:
                return deleted
            await asyncio.sleep(PRUNE_PAUSE)

    async def _prune_forever(self) -> None:
        while True:
            try:
                deleted = await self.prune()
            except Exception as exc:  # an outage, or a lock: next time
                log.warning("inbox pruning failed: trying again later", error=repr(exc))
            else:
                if deleted:
                    log.info("inbox pruned", rows=deleted, older_than=self._settings.dedupe_ttl)
            await asyncio.sleep(PRUNE_INTERVAL)

    async def close(self) -> None:
        if self._pruning is not None:
            self._pruning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruning
        await self.gate.close()
        if self._pool is not None:
            try:
                # The runs in flight have ended (stop drains them first): their connections
                # are back. Bounded all the same: a stuck one is terminated.
                async with asyncio.timeout(5.0):
                    await self._pool.close()
            except (TimeoutError, Exception):
                self._pool.terminate()
