"""A handler that fails its first run with an error quoting the event's email address, as
handler code often does (``raise LookupError(f"no contact {email}")``). The worker logs handler
errors: they must not carry the address. Loaded with
``HOOKQ_HANDLER_MODULES=tests.reliability.pii_handlers``."""

from __future__ import annotations

import re

from pydantic import BaseModel

from hookq.handlers import HandlerContext, handler
from tests.reliability.effects import FAST_RETRY, record

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@handler("#", name="rel-pii", timeout=2.0, max_attempts=3, backoff=FAST_RETRY)
async def fails_quoting_the_email(event: BaseModel, ctx: HandlerContext) -> None:
    found = EMAIL.search(event.model_dump_json())
    if found and ctx.attempt == 1:
        raise LookupError(f"no CRM contact for {found.group()}")
    await record("effect", ctx)
