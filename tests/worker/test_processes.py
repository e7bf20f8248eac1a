"""``hookq worker`` as real processes: two racing for the same events, SIGKILL mid-handler and
a restart, SIGTERM draining, and the command's usage errors. Handler: ``tests.support.handlers``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import psutil
import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability.procs import free_port, http_status
from tests.support.events import eventually, publish_event, ready_count, standard_body
from tests.support.handlers import Recording
from tests.support.workers import READY_LINE, WorkerProcess, run_worker_command, worker_env

HANDLERS = "tests.support.handlers"


async def test_two_worker_processes_run_each_event_once_however_often_it_is_delivered(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    redis_client: aioredis.Redis,
    tmp_path: Path,
) -> None:
    env = worker_env(settings, HANDLERS, HOOKQ_PREFETCH="8")
    recording = Recording(names)
    with (
        WorkerProcess.start(env, tmp_path / "w1.log") as first,
        WorkerProcess.start(env, tmp_path / "w2.log") as second,
    ):
        await asyncio.to_thread(first.wait_ready)
        await asyncio.to_thread(second.wait_ready)
        events = [f"evt-{n}" for n in range(10)]
        for _copy in range(5):
            for delivery_id in events:
                await publish_event(channel, names, delivery_id, standard_body(sleep=0.05))

        async def all_done() -> bool:
            return len(await recording.effect_counts(redis_client)) == len(events)

        await eventually(all_done, timeout=30)
        # SIGTERM lets what is in flight finish: after it, every copy has been handled.
        first.terminate()
        second.terminate()
        assert await asyncio.to_thread(first.wait) == 0
        assert await asyncio.to_thread(second.wait) == 0

    assert await ready_count(channel, names.handler_queue("recorder")) == 0
    assert await recording.effect_counts(redis_client) == dict.fromkeys(events, 1)
    starts = await recording.start_records(redis_client)
    assert sorted(str(s["delivery_id"]) for s in starts) == sorted(events)
    assert len({s["pid"] for s in starts}) == 2  # both processes took part


async def test_a_worker_killed_mid_handler_then_restarted_processes_the_event_once(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    redis_client: aioredis.Redis,
    tmp_path: Path,
) -> None:
    env = worker_env(settings, HANDLERS, HOOKQ_CLAIM_LEASE="3")
    recording = Recording(names)
    with WorkerProcess.start(env, tmp_path / "killed.log") as killed:
        await asyncio.to_thread(killed.wait_ready)
        await publish_event(channel, names, "evt-k", standard_body(sleep=1.0))
        await eventually(lambda: _started(recording, redis_client, 1))
        killed.kill()

    with WorkerProcess.start(env, tmp_path / "restarted.log") as restarted:
        await asyncio.to_thread(restarted.wait_ready)

        async def done() -> bool:
            return await recording.effect_counts(redis_client) == {"evt-k": 1}

        await eventually(done, timeout=30)
        restarted.terminate()
        assert await asyncio.to_thread(restarted.wait) == 0

    starts = await recording.start_records(redis_client)
    assert [s["attempt"] for s in starts] == [1, 1]  # the killed run and the one that finished
    assert starts[0]["pid"] != starts[1]["pid"]
    assert await recording.effect_counts(redis_client) == {"evt-k": 1}
    assert await ready_count(channel, names.dead_queue("recorder")) == 0


async def test_sigterm_finishes_the_handler_in_flight_leaves_the_rest_queued_and_exits_0(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    redis_client: aioredis.Redis,
    tmp_path: Path,
) -> None:
    env = worker_env(settings, HANDLERS)
    recording = Recording(names)
    with WorkerProcess.start(env, tmp_path / "w.log", "--prefetch", "1") as worker:
        await asyncio.to_thread(worker.wait_ready)
        for delivery_id in ("evt-1", "evt-2", "evt-3"):
            await publish_event(channel, names, delivery_id, standard_body(sleep=0.8))
        await eventually(lambda: _started(recording, redis_client, 1))
        worker.terminate()
        assert await asyncio.to_thread(worker.wait) == 0

    assert await recording.effect_counts(redis_client) == {"evt-1": 1}

    async def two_left() -> bool:  # a quorum queue applies returns asynchronously
        return await ready_count(channel, names.handler_queue("recorder")) == 2

    await eventually(two_left, timeout=5)
    assert '"worker drained"' in worker.output()


def test_an_unknown_handler_name_exits_2_naming_it(settings: Settings) -> None:
    env = worker_env(settings, HANDLERS)
    done = run_worker_command(env, "--handler", "recorder", "--handler", "no-such-handler")
    assert done.returncode == 2
    assert "no-such-handler" in done.stderr
    assert "recorder" not in done.stderr.replace("--handler", "")


def test_a_handler_timeout_not_below_the_claim_lease_refuses_to_start(settings: Settings) -> None:
    env = worker_env(settings, HANDLERS, HOOKQ_CLAIM_LEASE="1")
    done = run_worker_command(env)
    assert done.returncode == 2
    assert "HOOKQ_CLAIM_LEASE" in done.stderr
    assert "recorder" in done.stderr


async def _started(recording: Recording, client: aioredis.Redis, n: int) -> bool:
    return len(await recording.start_records(client)) >= n


def _wait_consuming(worker: WorkerProcess, count: int, timeout: float = 45.0) -> None:
    """Until ``count`` processes (restarts included) said they consume."""
    deadline = time.monotonic() + timeout
    while worker.output().count(READY_LINE) < count:
        assert worker.proc.poll() is None, f"the supervisor exited:\n{worker.tail()}"
        assert time.monotonic() < deadline, f"not {count} processes consuming:\n{worker.tail()}"
        time.sleep(0.05)


def _children(worker: WorkerProcess) -> list[int]:
    return [child.pid for child in psutil.Process(worker.proc.pid).children()]


async def test_worker_processes_have_their_own_metrics_port_are_replaced_and_drain(
    settings: Settings,
    names: Names,
    channel: AbstractChannel,
    redis_client: aioredis.Redis,
    tmp_path: Path,
) -> None:
    port = free_port()
    while port + 1 > 65535 or not _port_free(port + 1):
        port = free_port()
    env = worker_env(settings, HANDLERS, HOOKQ_WORKER_METRICS_PORT=str(port))
    recording = Recording(names)
    args = ("--processes", "2", "--prefetch", "1")
    with WorkerProcess.start(env, tmp_path / "w.log", *args) as worker:
        await asyncio.to_thread(_wait_consuming, worker, 2)
        # Each process answers on the configured port plus its index.
        for each in (port, port + 1):
            assert http_status(f"http://127.0.0.1:{each}/readyz") == 200
        victim = _children(worker)[0]
        psutil.Process(victim).kill()
        await asyncio.to_thread(_wait_consuming, worker, 3)
        assert victim not in _children(worker)
        assert len(_children(worker)) == 2
        for each in (port, port + 1):
            assert http_status(f"http://127.0.0.1:{each}/readyz") == 200

        for delivery_id in ("evt-1", "evt-2", "evt-3", "evt-4"):
            await publish_event(channel, names, delivery_id, standard_body(sleep=1.0))
        # One event in flight in each process (prefetch 1), then SIGTERM to the supervisor.
        await eventually(lambda: _started(recording, redis_client, 2))
        worker.terminate()
        assert await asyncio.to_thread(worker.wait) == 0

    effects = await recording.effect_counts(redis_client)
    starts = await recording.start_records(redis_client)
    assert len({s["pid"] for s in starts}) == 2  # both processes took part
    assert set(effects.values()) == {1}  # what started finished, once
    assert len(effects) == len(starts) >= 2

    async def rest_left() -> bool:  # a quorum queue applies returns asynchronously
        ready = await ready_count(channel, names.handler_queue("recorder"))
        return ready == 4 - len(effects)

    await eventually(rest_left, timeout=5)
    assert '"process exited: restarting it"' in worker.output()
    assert worker.output().count('"worker drained"') == 2


def test_processes_usage_errors_exit_2(settings: Settings) -> None:
    env = worker_env(settings, HANDLERS)
    for value in ("0", "many"):
        done = run_worker_command(env, "--processes", value)
        assert done.returncode == 2
        assert "--processes" in done.stderr
    env = worker_env(settings, HANDLERS, HOOKQ_WORKER_METRICS_PORT="65535")
    done = run_worker_command(env, "--processes", "2")
    assert done.returncode == 2
    assert "HOOKQ_WORKER_METRICS_PORT" in done.stderr


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
