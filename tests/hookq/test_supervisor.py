"""The supervisor of ``--processes``: restarts with a growing backoff, gives up (exit 1, saying
why) on a child that keeps dying at start, stops at once (exit 2) on a child refusing its
settings. Children here are tiny Python programs; the real commands are tested in
tests/ingress/test_processes.py and tests/worker/test_processes.py."""

from __future__ import annotations

import sys
import time

import pytest

from hookq import supervisor
from hookq.supervisor import MAX_QUICK_EXITS, Supervisor


def exiting(code: int) -> tuple[str, ...]:
    return (sys.executable, "-c", f"raise SystemExit({code})")


def test_a_child_that_keeps_dying_at_start_makes_the_supervisor_give_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(supervisor, "FIRST_BACKOFF", 0.05)
    said: list[str] = []
    supervising = Supervisor("worker", [], 2, grace=1.0, say=said.append, program=exiting(3))
    started = time.monotonic()
    assert supervising.run() == 1
    # Backoffs of 0.05, 0.1, 0.2, 0.4 s between the deaths: it did wait, and not forever.
    assert 0.75 <= time.monotonic() - started < 30
    assert len(said) == 1, said
    assert f"exited {MAX_QUICK_EXITS} times in a row" in said[0]
    assert "last exit code 3" in said[0]
    assert "giving up" in said[0]


def test_a_child_refusing_its_settings_ends_the_supervisor_with_2_at_once() -> None:
    said: list[str] = []
    supervising = Supervisor("ingress", [], 2, grace=1.0, say=said.append, program=exiting(2))
    started = time.monotonic()
    assert supervising.run() == 2
    assert time.monotonic() - started < 10  # no restart attempted
    assert "refused to start (exit 2)" in said[0]


@pytest.mark.parametrize(("text", "count"), [("1", 1), ("3", 3)])
def test_processes_count(text: str, count: int) -> None:
    assert supervisor.processes_count(text) == count


def test_auto_is_the_cores_this_process_may_use() -> None:
    assert supervisor.processes_count("auto") >= 1
