"""Three handlers bound to every LiveChat event, each recording its runs (``effects.record``):
``HOOKQ_HANDLER_MODULES=tests.reliability.validation_handlers``. An invalid LiveChat event
reaches all three queues, so the worker meets it three times (issue 12, item 5)."""

from __future__ import annotations

from pydantic import BaseModel

from hookq.handlers import HandlerContext, handler
from tests.reliability.effects import FAST_RETRY, record

NAMES = ("rel-lc-a", "rel-lc-b", "rel-lc-c")


@handler("livechat.#", name="rel-lc-a", timeout=5.0, backoff=FAST_RETRY)
async def record_a(event: BaseModel, ctx: HandlerContext) -> None:
    await record("effect", ctx)


@handler("livechat.#", name="rel-lc-b", timeout=5.0, backoff=FAST_RETRY)
async def record_b(event: BaseModel, ctx: HandlerContext) -> None:
    await record("effect", ctx)


@handler("livechat.#", name="rel-lc-c", timeout=5.0, backoff=FAST_RETRY)
async def record_c(event: BaseModel, ctx: HandlerContext) -> None:
    await record("effect", ctx)
