"""The handlers' deadlines, kept by one timer (``hookq.worker.deadlines``): they behave as
``asyncio.timeout`` does for the pipeline."""

from __future__ import annotations

import asyncio

import pytest

from hookq.worker.deadlines import Deadlines

RESOLUTION = 0.01


async def test_a_run_past_its_deadline_ends_in_timeout_error_and_says_it_expired() -> None:
    deadlines = Deadlines(RESOLUTION)
    deadline = deadlines.within(0.05)
    with pytest.raises(TimeoutError):
        async with deadline:
            await asyncio.sleep(5)
    assert deadline.expired
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    await deadlines.close()


async def test_a_timeout_error_of_the_run_itself_is_not_the_deadline() -> None:
    deadlines = Deadlines(RESOLUTION)
    deadline = deadlines.within(5)
    with pytest.raises(TimeoutError):
        async with deadline:
            raise TimeoutError("the handler's own")
    assert not deadline.expired
    await deadlines.close()


async def test_a_run_within_its_deadline_is_left_alone_and_the_sweeper_stops() -> None:
    deadlines = Deadlines(RESOLUTION)
    runs = [deadlines.within(1) for _ in range(20)]
    for deadline in runs:
        async with deadline:
            await asyncio.sleep(0)
    assert not any(deadline.expired for deadline in runs)
    await asyncio.sleep(RESOLUTION * 5)
    assert deadlines._sweeper is None  # nothing in flight: no timer left running


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    deadlines = Deadlines(RESOLUTION)

    async def run() -> None:
        async with deadlines.within(5):
            await asyncio.sleep(5)

    task = asyncio.create_task(run())
    await asyncio.sleep(RESOLUTION * 3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await deadlines.close()


async def test_many_runs_each_time_out_on_their_own() -> None:
    deadlines = Deadlines(RESOLUTION)

    async def run(seconds: float) -> bool:
        try:
            async with deadlines.within(seconds):
                await asyncio.sleep(0.2)
        except TimeoutError:
            return True
        return False

    timed_out = await asyncio.gather(*(run(s) for s in (0.02, 1.0, 0.05, 1.0)))
    assert timed_out == [True, False, True, False]
    await deadlines.close()
