"""``event-log``: one structured log line per event, so a fresh deployment shows its traffic.

This is the example to copy. A handler is an ``async def`` taking the validated event and a
``HandlerContext``; it returns to acknowledge, raises ``Retry`` to run again later, or raises
``Reject`` to dead-letter at once. Any other exception counts as ``Retry``.
"""

from __future__ import annotations

from pydantic import BaseModel

from hookq.handlers import HandlerContext, handler


@handler("#", name="event-log", timeout=5.0)
async def log_event(event: BaseModel, ctx: HandlerContext) -> None:
    # Identifiers only, never the event's fields: payloads carry personal data (emails, phones,
    # documents) that must not reach logs. ctx.log is bound to these ids already; naming them
    # here keeps this line complete whatever the logger was bound to.
    ctx.log.info(
        "event received",
        handler=ctx.handler,
        source=ctx.source,
        event_type=ctx.event_type,
        delivery_id=ctx.delivery_id,
        attempt=ctx.attempt,
        model=type(event).__name__,
    )
