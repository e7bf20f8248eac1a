"""The messages a worker is processing, for a graceful stop.

Each message runs in a task of its own, started and recorded by ``start``. A task that waits
for something outside the handler (Redis to come back, a lease to lapse) says so with
``waiting``: on stop those are cancelled at once (their message goes back to the queue), while
tasks inside a handler get the grace period to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterator
from typing import Any

import structlog

log = structlog.get_logger("hookq.worker")


class InFlight:
    def __init__(self) -> None:
        self._tasks: dict[asyncio.Task[Any], bool] = {}  # task -> waiting outside a handler
        self._idle = asyncio.Event()
        self._idle.set()
        self.stopping = False

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``work`` (one message) in a task of its own, recorded until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks[task] = False
        self._idle.clear()
        task.add_done_callback(self._ended)
        return task

    def _ended(self, task: asyncio.Task[Any]) -> None:
        del self._tasks[task]
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("message task failed", exc_info=task.exception())

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Mark the current task as cancellable at once on stop (raises if already stopping)."""
        task = asyncio.current_task()
        if self.stopping:
            raise asyncio.CancelledError("worker stopping")
        if task is None or task not in self._tasks:
            yield
            return
        self._tasks[task] = True
        try:
            yield
        finally:
            if task in self._tasks:
                self._tasks[task] = False

    async def drain(self, grace: float) -> int:
        """Cancel the waiting tasks, give the rest ``grace`` seconds, cancel what is left.

        Returns how many tasks were cancelled after the grace period.
        """
        self.stopping = True
        for task, waiting in list(self._tasks.items()):
            if waiting:
                task.cancel("worker stopping")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self._idle.wait()
        late = list(self._tasks)
        for task in late:
            task.cancel("shutdown grace period over")
        # Cancelled tasks requeue their message and release their claim: let them.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self._idle.wait()
        return len(late)
