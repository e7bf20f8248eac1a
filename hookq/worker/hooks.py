"""Hooks: behaviour around every handler's runs (metrics, tracing, limits, a team's own), without
editing the pipeline.

A hook subclasses ``Hook`` and overrides what it needs:

- ``around(stage, delivery)``: an async context manager entered around one stage of a message
  (``Stage.MESSAGE`` spans all of it; ``VALIDATE``, ``CLAIM``, ``RUN`` (the handler call) and
  ``SETTLE`` nest inside it), or ``None`` to stay out of that stage;
- ``settled(delivery, outcome)``: told once how the message ended;
- ``close()``: the worker closes (after its last message).

Hooks nest in the order they are registered (the first is outermost). An exception raised by a
hook's ``around`` ends the message as a worker fault (requeued); one raised by ``settled`` is
logged and ignored: the message has ended already.

Registered with ``HOOKQ_HOOKS`` (comma-separated ``module:attribute``) or an entry point in the
group ``hookq.hooks`` (``hookq.worker.hook_registry``); the attribute is a ``Hook`` instance, a
``Hook`` subclass, or a function taking the settings and returning a ``Hook``.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import BaseModel

from hookq.message import Envelope, Failure
from hookq.worker.outcomes import Outcome

log = structlog.get_logger("hookq.worker.hooks")


class Stage(enum.StrEnum):
    MESSAGE = "message"
    VALIDATE = "validate"
    CLAIM = "claim"
    RUN = "run"
    SETTLE = "settle"


@dataclass(slots=True)
class Delivery:
    """One message to one handler, as a hook sees it; filled in as the message goes."""

    handler: str
    headers: Mapping[str, Any]
    envelope: Envelope | None = None  # None: the message was not published by hookq
    event: BaseModel | None = None  # once validated
    run_seconds: float | None = None  # once the handler ran
    failure: Failure | None = None  # why it failed, when it did
    outcome: Outcome | None = None  # once settled
    extra: dict[str, Any] = field(default_factory=dict)  # hooks' own per-message state

    @property
    def source(self) -> str:
        return self.envelope.source if self.envelope else ""

    @property
    def event_type(self) -> str:
        return self.envelope.event_type if self.envelope else ""

    @property
    def delivery_id(self) -> str:
        return self.envelope.delivery_id if self.envelope else ""

    @property
    def attempt(self) -> int:
        return self.envelope.attempt if self.envelope else 1


class Hook:
    """Base of every hook: no-ops to override."""

    @property
    def name(self) -> str:
        """How listings name it (``hookq handlers``, the console)."""
        return type(self).__name__

    def around(self, stage: Stage, delivery: Delivery) -> AbstractAsyncContextManager[Any] | None:
        return None

    def settled(self, delivery: Delivery, outcome: Outcome) -> None:
        return None

    async def close(self) -> None:
        """The worker is closing: release what the hook holds (connections)."""


_NOTHING: AbstractAsyncContextManager[None] = contextlib.nullcontext()


class Hooks:
    """The hooks of a worker, as the pipeline calls them. Which hooks override which method is
    known beforehand: with no hook wrapping stages (tracing off), a stage costs a list test."""

    def __init__(self, hooks: Sequence[Hook] = ()) -> None:
        self.all = tuple(hooks)
        self._wrapping = [h for h in self.all if type(h).around is not Hook.around]
        self._settled = [h for h in self.all if type(h).settled is not Hook.settled]

    def around(self, stage: Stage, delivery: Delivery) -> AbstractAsyncContextManager[Any]:
        if not self._wrapping:
            return _NOTHING
        managers = [m for h in self._wrapping if (m := h.around(stage, delivery)) is not None]
        if not managers:
            return _NOTHING
        if len(managers) == 1:
            return managers[0]
        return _nested(managers)

    async def close(self) -> None:
        for hook in self.all:
            try:
                await hook.close()
            except Exception:
                log.exception("hook failed to close", hook=hook.name)

    def settled(self, delivery: Delivery, outcome: Outcome) -> None:
        for hook in self._settled:
            try:
                hook.settled(delivery, outcome)
            except Exception:
                log.exception("hook failed after the message ended", hook=hook.name)


@contextlib.asynccontextmanager
async def _nested(managers: Sequence[AbstractAsyncContextManager[Any]]) -> Any:
    async with contextlib.AsyncExitStack() as stack:
        for manager in managers:
            await stack.enter_async_context(manager)
        yield
