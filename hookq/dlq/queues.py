"""Which dead queues exist, and how full they are.

Handlers come from discovery (``handlers.registry.discover``) plus any name an operator gives
with ``--handler``, so the tools still work on the dead letters of a handler that discovery no
longer finds (renamed, removed, or a module that fails to import).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from aio_pika.abc import AbstractConnection

from hookq import amqp
from hookq.display import safe
from hookq.dlq.records import UNROUTED, DeadQueue
from hookq.settings import Settings
from hookq.topology import Names, check_handler_name
from hookq.topology import QueueState as QueueState  # re-exported: the tools import it here
from hookq.topology import queue_state as queue_state


class UnknownHandler(ValueError):
    """A ``--handler`` name that cannot be a handler, or that no handler has."""


def discovered_handlers(settings: Settings) -> list[str]:
    """Handler names from discovery; a broken discovery is reported, not fatal."""
    try:
        from hookq.handlers.registry import discover

        return list(discover(settings))
    except Exception as exc:  # a team's module failing to import must not lock operators out
        message = f"handler discovery failed ({type(exc).__name__}: {exc})"
        print(f"hookq dlq: {safe(message)}; only --handler names are used", file=sys.stderr)
        return []


def dead_queues(
    settings: Settings, explicit: Sequence[str] | None, *, unrouted: bool = True
) -> list[DeadQueue]:
    """The queues to work on: the ``--handler`` names if given, else every discovered handler,
    plus the unrouted queue (``--handler unrouted`` names it explicitly)."""
    names = Names(settings.namespace)
    wanted = list(explicit) if explicit else [*discovered_handlers(settings), UNROUTED]
    queues: list[DeadQueue] = []
    for handler in dict.fromkeys(wanted):
        if handler == UNROUTED:
            if unrouted:
                queues.append(DeadQueue(UNROUTED, names.unrouted_queue))
            continue
        try:
            check_handler_name(handler)
        except ValueError as exc:
            raise UnknownHandler(str(exc)) from None
        queues.append(DeadQueue(handler, names.dead_queue(handler)))
    return queues


async def check_named(
    connection: AbstractConnection, settings: Settings, queues: Sequence[DeadQueue]
) -> None:
    """A ``--handler`` name with no dead queue that discovery does not find either is a
    mistake (a typo), not an empty queue: raises ``UnknownHandler`` naming it. A discovered
    handler whose queue was never declared, and a queue whose handler discovery no longer
    finds, are fine."""
    named = [q for q in queues if not q.unrouted]
    missing = [q for q in named if await queue_state(connection, q.name) is None]
    if not missing:
        return
    known = discovered_handlers(settings)
    unknown = [q for q in missing if q.handler not in known]
    if unknown:
        names = ", ".join(repr(q.handler) for q in unknown)
        raise UnknownHandler(
            f"no such handler: {names} (no dead queue {unknown[0].name}, and discovery does not "
            f"find it; discovered: {', '.join(known) or 'none'})"
        )


async def connect(settings: Settings, purpose: str) -> AbstractConnection:
    # Not a robust connection: if the broker goes away mid-operation we stop and say so; the
    # broker returns whatever we held to the queue. To the first node that answers.
    return await amqp.connect(settings.amqp_url, f"hookq-dlq-{purpose}")
