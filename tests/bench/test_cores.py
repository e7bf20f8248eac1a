"""``--split-cores`` (``bench.cores``): the broker's threads on one core, the run's on the others,
and every thread's affinity back afterwards. A sleeping child stands in for RabbitMQ: pinning
the shared broker would disturb whatever else runs against it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from bench.cores import split_cores, threads


def test_the_broker_and_the_run_get_cores_of_their_own_and_give_them_back() -> None:
    cores = os.sched_getaffinity(0)
    assert len(cores) >= 2, "CI machines have two cores; this test needs them"
    stand_in = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import threading, time; threading.Thread(target=time.sleep, "
            "args=(30,), daemon=True).start(); time.sleep(30)",
        ]
    )
    try:
        # Both of its threads running first: a thread started while its process is pinned
        # inherits the pin (RabbitMQ starts its schedulers' threads at boot).
        deadline = time.monotonic() + 10
        while len(threads(stand_in.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = {tid: os.sched_getaffinity(tid) for tid in threads(stand_in.pid)}
        assert len(before) == 2
        ours_before = os.sched_getaffinity(0)
        with split_cores(stand_in.pid) as (broker_cores, run_cores):
            assert broker_cores.isdisjoint(run_cores)
            assert broker_cores | run_cores == cores
            for tid in threads(stand_in.pid):
                assert os.sched_getaffinity(tid) == broker_cores
            assert os.sched_getaffinity(0) == run_cores
            # What the run starts inherits the run's cores.
            child = subprocess.run(
                [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
                capture_output=True,
                text=True,
                check=True,
            )
            assert child.stdout.strip() == str(sorted(run_cores))
            started: list[set[int]] = []
            thread = threading.Thread(target=lambda: started.append(os.sched_getaffinity(0)))
            thread.start()
            thread.join()
            assert started == [run_cores]
        assert {tid: os.sched_getaffinity(tid) for tid in threads(stand_in.pid)} == before
        assert os.sched_getaffinity(0) == ours_before
    finally:
        stand_in.kill()
        stand_in.wait()


def test_one_core_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    with pytest.raises(RuntimeError, match="at least two cores"), split_cores(os.getpid()):
        pass
