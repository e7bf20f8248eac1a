"""``hookq ingress --processes N``: one supervisor, children sharing the port (SO_REUSEPORT) and
summing their metrics; a killed child is replaced; SIGTERM drains them all (exit 0); a child
that cannot start ends the supervisor with a message."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import senders
from tests.reliability.conftest import process_env
from tests.reliability.load import send_all
from tests.reliability.procs import REPO, free_port
from tests.support.events import eventually

COMMAND = [sys.executable, "-m", "hookq.cli", "ingress"]


@contextmanager
def supervised(
    settings: Settings, port: int, log: Path, processes: str = "2"
) -> Iterator[subprocess.Popen[bytes]]:
    """``hookq ingress --processes`` on ``port``, ready; killed (with its children) at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
    env.update(
        process_env(settings, Names(settings.namespace)),
        HOOKQ_INGRESS_HOST="127.0.0.1",
        HOOKQ_INGRESS_PORT=str(port),
        PYTHONPATH=str(REPO),
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*COMMAND, "--processes", processes], env=env, stdout=out, stderr=out, cwd=REPO
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            for child in psutil.Process(proc.pid).children():
                child.kill()
            proc.kill()
            proc.wait(10)


def children(proc: subprocess.Popen[bytes]) -> set[int]:
    return {child.pid for child in psutil.Process(proc.pid).children()}


def wait_listening(log: Path, count: int, timeout: float = 30.0) -> None:
    """Until ``count`` children (so far, restarts included) listen, connected to the broker."""
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count('"publisher ready"') < count:
        assert time.monotonic() < deadline, f"not {count} processes listening: {log.read_text()}"
        time.sleep(0.1)


def established(pid: int, port: int) -> int:
    return sum(
        1
        for conn in psutil.Process(pid).net_connections("tcp")
        if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == port
    )


async def test_two_processes_share_the_port_sum_their_metrics_survive_a_kill_and_drain(
    settings: Settings, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "ingress.log"
    with supervised(settings, port, log) as proc:
        await asyncio.to_thread(wait_listening, log, 2)
        pids = children(proc)
        assert len(pids) == 2
        # Connections held open: the kernel spread them over both children's sockets.
        with ExitStack() as held:
            for _ in range(24):
                sock = held.enter_context(socket.create_connection(("127.0.0.1", port)))
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hookq\r\n\r\n")
                assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            spread = {pid: established(pid, port) for pid in pids}
        assert all(spread.values()), f"a child answered no connection: {spread}"

        events = [senders.standard("proc.share", {"n": n}) for n in range(30)]
        outcomes = await send_all(f"http://127.0.0.1:{port}", events, concurrency=6)
        assert len(outcomes.acked) == 30
        # Whichever child answers the scrape counts the requests of both.
        assert _requests_counted(await asyncio.to_thread(_scrape, port)) == 30

        # A child SIGKILLed: another takes its place on the port.
        victim = min(pids)
        psutil.Process(victim).send_signal(signal.SIGKILL)

        def replaced() -> bool:
            now = children(proc)
            return len(now) == 2 and victim not in now

        await eventually(replaced, timeout=20)
        await asyncio.to_thread(wait_listening, log, 3)
        more = [senders.standard("proc.restart", {}) for _ in range(10)]
        assert len((await send_all(f"http://127.0.0.1:{port}", more)).acked) == 10
        # The dead child's counts stay in the sum: a counter never goes back.
        assert _requests_counted(await asyncio.to_thread(_scrape, port)) == 40

        pids = children(proc)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 60) == 0
    assert not any(_alive(pid) for pid in pids)
    text = log.read_text()
    assert '"process exited: restarting it"' in text
    assert text.count('"ingress stopping"') == 2


def test_children_that_cannot_listen_end_the_supervisor_with_exit_2(
    settings: Settings, tmp_path: Path
) -> None:
    with socket.socket() as busy:  # no SO_REUSEPORT: the children cannot share it
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with supervised(settings, port, tmp_path / "ingress.log") as proc:
            assert proc.wait(60) == 2
    log = (tmp_path / "ingress.log").read_text()
    assert "HOOKQ_INGRESS_PORT" in log
    assert "refused to start (exit 2)" in log


def test_usage_errors_exit_2_with_a_message() -> None:
    for value in ("0", "-2", "lots", ""):
        done = subprocess.run(
            [*COMMAND, "--processes", value], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, value
        assert "--processes" in done.stderr


def _scrape(port: int) -> str:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text: str = response.read().decode()
        return text


def _requests_counted(metrics: str) -> float:
    lines = [
        line for line in metrics.splitlines() if line.startswith("hookq_ingress_requests_total")
    ]
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines)


def _alive(pid: int) -> bool:
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return False
    return bool(status != psutil.STATUS_ZOMBIE)
