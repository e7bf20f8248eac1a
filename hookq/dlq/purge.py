"""Purge: selected dead messages are removed for good (acked in transactions, see ``move``)."""

from __future__ import annotations

from aio_pika.abc import AbstractConnection

from hookq.dlq.move import MoveOptions, MoveResult, Progress, Select, move
from hookq.dlq.records import DeadQueue


async def purge_queue(
    connection: AbstractConnection,
    queue: DeadQueue,
    namespace: str,
    select: Select,
    options: MoveOptions,
    progress: Progress | None = None,
) -> MoveResult:
    return await move(connection, queue, namespace, select, None, options, progress)
