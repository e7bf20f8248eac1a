"""The processes under test: started with their own environment, watched (peak RSS), stopped.

Every process the benchmark starts goes through ``started`` and is ended by its own pid when
the block exits (SIGTERM, then SIGKILL after a grace), even when the benchmark fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def hookq_command(*args: str) -> list[str]:
    """``hookq <args>``: the installed console script beside this interpreter if there is one."""
    script = Path(sys.executable).parent / "hookq"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from hookq.cli import main; sys.exit(main())", *args]


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment minus any HOOKQ_* of the caller's, plus ``extra``; ``bench`` importable
    (the worker loads the no-op handler from it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@contextlib.contextmanager
def started(
    command: Sequence[str], env: Mapping[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, cwd=REPO
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def check_running(process: subprocess.Popen[bytes], what: str, log_path: Path) -> None:
    if process.poll() is not None:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{what} exited with {process.returncode}; its log ends:\n{tail}")


def peak_rss_kernel(pid: int) -> int | None:
    """The kernel's high-water mark of the resident set (Linux ``VmHWM``), in bytes."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


class PeakRss:
    """Samples a process's RSS with psutil in a thread; ``peak`` also asks the kernel's
    high-water mark where there is one, which sees spikes between samples."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval
        self._sampled = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._interval)

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            self._sampled = max(self._sampled, self._process.memory_info().rss)

    @property
    def peak(self) -> int:
        self.sample()
        return max(self._sampled, peak_rss_kernel(self._process.pid) or 0)


async def wait_until(
    check: Callable[[], Awaitable[bool]], limit: float, what: str, interval: float = 0.05
) -> None:
    """Poll ``check()`` until true; ``TimeoutError`` naming ``what``."""
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {limit:g}s")
        await asyncio.sleep(interval)


class CpuUse:
    """CPU seconds spent by named processes, and by the whole machine, over a block: shows
    where a run's time went and how busy the machine was with work that is not ours."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._processes = {}
        for name, pid in pids.items():
            with contextlib.suppress(psutil.Error):
                self._processes[name] = psutil.Process(pid)
        self._start: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.wall = 0.0
        self.machine_busy = 0.0  # CPU seconds of every process on the machine

    @staticmethod
    def _cpu(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    @staticmethod
    def _machine() -> float:
        times = psutil.cpu_times()
        return float(times.user + times.system + getattr(times, "nice", 0.0))

    def __enter__(self) -> CpuUse:
        for name, process in self._processes.items():
            with contextlib.suppress(psutil.Error):
                self._start[name] = self._cpu(process)
        self._start["<machine>"], self._start["<wall>"] = self._machine(), time.monotonic()
        return self

    def __exit__(self, *_exc: object) -> None:
        for name, process in self._processes.items():
            with contextlib.suppress(psutil.Error, KeyError):
                self.seconds[name] = self._cpu(process) - self._start[name]
        self.machine_busy = self._machine() - self._start["<machine>"]
        self.wall = time.monotonic() - self._start["<wall>"]


def broker_pid(port: int = 5672) -> int | None:
    """The local RabbitMQ's Erlang VM, when it runs on this machine (for its CPU share): the
    one listening on the AMQP ``port``, when several nodes run here (other engineers' private
    ones, a test's cluster)."""
    candidates = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "beam.smp"]
    for process in candidates:
        with contextlib.suppress(psutil.Error):
            for conn in process.net_connections("tcp"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
                    return int(process.pid)
    return int(candidates[0].pid) if len(candidates) == 1 else None
