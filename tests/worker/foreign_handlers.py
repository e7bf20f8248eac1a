"""A handler named ``recorder`` like ``tests.support.handlers.recorder``, defined elsewhere: what
another deployment sharing the namespace would run (``HOOKQ_HANDLER_MODULES=
tests.worker.foreign_handlers``). Its worker must refuse to consume the other one's queue."""

from __future__ import annotations

from hookq.handlers import HandlerContext, handler
from hookq.sources.standard.models import StandardEvent


@handler("standard.#", name="recorder", timeout=2.0)
async def recorder(event: StandardEvent, ctx: HandlerContext) -> None:
    raise AssertionError("a foreign handler ran")
