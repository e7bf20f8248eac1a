"""What operators do from the console, each through the code the CLI runs, and logged with who
did it (the operator's name, never their token).

A group's replay or purge is ``hookq dlq replay|purge --handler H --event-type T --error-type
E --all``: ``hookq.dlq.operations`` reads the queue, selects with the same ``Selection`` and
moves in broker transactions. Its preview (how many letters it will touch) is the same read
and selection, without the move.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog

from hookq.console.access import Operator
from hookq.console.issues import BROWSE_WAIT, IssueKey
from hookq.dlq import operations
from hookq.dlq.queues import connect
from hookq.settings import Settings

log = structlog.get_logger("hookq.console")


@dataclass(frozen=True, slots=True)
class Preview:
    count: int
    notes: list[str]


async def preview(settings: Settings, key: IssueKey) -> Preview:
    """How many letters a replay or purge of the group would take now."""
    async with await connect(settings, "console-preview") as connection:
        read = await operations.read_queues(connection, settings, [key.handler], wait=BROWSE_WAIT)
    plan = operations.planned(read, key.selection, time.time())
    return Preview(sum(len(records) for records in plan.values()), read.notes)


async def act_on_issue(
    settings: Settings, operator: Operator, verb: str, key: IssueKey
) -> operations.Moved:
    """Replay or purge every letter of the group (``verb``: ``replay`` or ``purge``)."""
    async with await connect(settings, f"console-{verb}") as connection:
        moved = await operations.move_selected(
            connection, settings, verb, [key.handler], key.selection, wait=BROWSE_WAIT
        )
    log.info(
        f"console {verb}",
        operator=operator.name,
        handler=key.handler,
        event_type=key.event_type,
        error_type=key.error_type,
        done=moved.done,
        complete=moved.complete,
        run_id=moved.run_id,
    )
    return moved


def summary(moved: operations.Moved) -> str:
    """What happened, in a line: the numbers, and what was left and why."""
    past = {"replay": "sent back", "purge": "purged"}[moved.verb]
    parts = [f"{moved.done} message(s) {past}"]
    for result in moved.results:
        if result.came_back:
            parts.append(f"{len(result.came_back)} came back to {result.queue.name}")
        if result.stopped:
            parts.append(f"{result.queue.name} stopped early: {result.stopped}")
    parts += moved.failures
    return "; ".join(parts)
