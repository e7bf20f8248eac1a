"""Handler timeouts for every run in flight, kept by one timer.

``asyncio.timeout`` starts and stops an event-loop timer for each run: about 3 % of the worker's
time per message (py-spy, docs/benchmarks.md). Here a run notes its deadline in a table, and
one task, awake only while runs are in flight, looks at the table every ``resolution`` seconds
and cancels the runs past their deadline. A run therefore times out up to ``resolution`` late,
which no handler timeout (seconds) notices.

``within(seconds)`` is used as ``asyncio.timeout`` is: the cancellation it caused leaves the
``async with`` as ``TimeoutError``, and ``expired`` says it was ours (a ``TimeoutError`` the
handler raised itself leaves ``expired`` false).
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

RESOLUTION = 0.05  # seconds


class Deadline:
    __slots__ = ("_cancelling", "_deadlines", "_task", "expired", "when")

    def __init__(self, deadlines: Deadlines, when: float) -> None:
        self._deadlines = deadlines
        self.when = when
        self.expired = False
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0

    async def __aenter__(self) -> Deadline:
        task = asyncio.current_task()
        assert task is not None, "a deadline is kept for a task"
        self._task = task
        self._cancelling = task.cancelling()
        self._deadlines.add(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._deadlines.remove(self)
        if (
            self.expired
            and self._task is not None
            and self._task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            raise TimeoutError from exc  # as asyncio.timeout says it

    def expire(self) -> None:
        if not self.expired and self._task is not None:
            self.expired = True
            self._task.cancel()


class Deadlines:
    def __init__(self, resolution: float = RESOLUTION) -> None:
        self._resolution = resolution
        self._running: dict[Deadline, None] = {}  # insertion-ordered set
        self._sweeper: asyncio.Task[None] | None = None

    def within(self, seconds: float) -> Deadline:
        return Deadline(self, asyncio.get_running_loop().time() + seconds)

    def add(self, deadline: Deadline) -> None:
        self._running[deadline] = None
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    def remove(self, deadline: Deadline) -> None:
        self._running.pop(deadline, None)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._running:
                await asyncio.sleep(self._resolution)
                now = loop.time()
                for deadline in [d for d in self._running if d.when <= now]:
                    deadline.expire()
        finally:
            self._sweeper = None

    async def close(self) -> None:
        sweeper = self._sweeper
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
