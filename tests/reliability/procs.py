"""The real processes a reliability scenario runs: ``hookq ingress``, ``hookq worker`` and a
private ``redis-server``, each with its stdout and stderr captured to a file for the log scan.

Every process listens on 127.0.0.1 only. Kills and restarts are recorded with their time and pid,
so that a duplicated effect can be traced back to the kill that explains it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
HOOKQ = Path(sys.executable).with_name("hookq")
# The memory an ingress may use, whatever it was sent.
RSS_BOUND = 150 * 1024 * 1024
# The worker's log line once it consumes every handler's queue.
WORKER_READY = '"worker consuming"'


class ProcessFailed(RuntimeError):
    """A process did not come up, or died: the message carries the tail of its log."""


def free_port() -> int:
    # Bound then released: a small race with other processes, acceptable on a test machine.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ProcessFailed(f"exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise ProcessFailed(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def http_status(url: str, timeout: float = 5.0) -> int:
    """GET a local URL: its status, or 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - 127.0.0.1
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return 0


@dataclass
class Spawned:
    """One started process and the file its output goes to."""

    role: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    started_at: float

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_bytes(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class Kill:
    pid: int
    at: float


@dataclass
class Fleet:
    """Every process a test started, its logs, and the record of its kills and restarts."""

    log_dir: Path
    base_env: Mapping[str, str]
    processes: list[Spawned] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    restarts: int = 0

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
        env.update(self.base_env)
        env.update(overrides)
        # Handler modules of the suite (tests.reliability.*) import from the repository root.
        env["PYTHONPATH"] = str(REPO)
        return env

    def spawn(self, role: str, argv: list[str], env: Mapping[str, str]) -> Spawned:
        log_path = self.log_dir / f"{role}-{len(self.processes)}.log"
        with log_path.open("wb") as out:
            proc = subprocess.Popen(
                argv, env=dict(env), stdout=out, stderr=subprocess.STDOUT, cwd=REPO
            )
        spawned = Spawned(role, proc, log_path, time.time())
        self.processes.append(spawned)
        return spawned

    def ingress(self, port: int | None = None, **env: str) -> tuple[Spawned, int]:
        """A ``hookq ingress`` on 127.0.0.1, ready (connected to the broker); returns it and
        its port."""
        port = port or free_port()
        spawned = self.spawn(
            "ingress",
            [str(HOOKQ), "ingress"],
            self.env(HOOKQ_INGRESS_HOST="127.0.0.1", HOOKQ_INGRESS_PORT=str(port), **env),
        )
        self._wait_http(spawned, f"http://127.0.0.1:{port}/readyz", timeout=30)
        return spawned, port

    def worker(self, env: Mapping[str, str], *args: str, wait: bool = True) -> Spawned:
        """A ``hookq worker``; with ``wait``, returned once it consumes every handler's queue."""
        spawned = self.spawn(
            "worker",
            [str(HOOKQ), "worker", *args],
            self.env(HOOKQ_WORKER_METRICS_PORT=str(free_port()), **env),
        )
        if wait:
            self.wait_consuming(spawned)
        return spawned

    def wait_consuming(self, spawned: Spawned, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while WORKER_READY not in spawned.log_path.read_text(errors="replace"):
            if not spawned.alive() or time.monotonic() > deadline:
                self.stop(spawned)
                raise ProcessFailed(f"worker {spawned.pid} not consuming: {spawned.log_tail()}")
            time.sleep(0.05)

    def redis_server(self, port: int, data_dir: Path, *options: str) -> Spawned:
        """A private Redis with an fsync-always append-only file: survives SIGKILL whole.
        ``options``: more of redis-server's (``--replicaof``, or ``--sentinel`` with a config
        file first)."""
        spawned = self.spawn(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(data_dir),
                *options,
            ],
            self.env(),
        )
        try:
            wait_for_port(port, 15, spawned.proc)
        except ProcessFailed as exc:
            raise ProcessFailed(f"redis-server: {exc}\n{spawned.log_tail()}") from None
        return spawned

    def _wait_http(self, spawned: Spawned, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not spawned.alive():
                break
            if http_status(url, timeout=1.0) == 200:
                return
            time.sleep(0.1)
        self.stop(spawned)
        raise ProcessFailed(
            f"{spawned.role} (pid {spawned.pid}) did not answer {url}: {spawned.log_tail()}"
        )

    def kill(self, spawned: Spawned) -> Kill:
        """SIGKILL, recorded: the time is taken before the signal, so any effect the process
        recorded is strictly earlier than the recorded kill."""
        kill = Kill(spawned.pid, time.time())
        spawned.proc.send_signal(signal.SIGKILL)
        spawned.proc.wait(10)
        self.kills.append(kill)
        return kill

    def stop(self, spawned: Spawned, grace: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace``; returns the exit code."""
        if spawned.alive():
            spawned.proc.send_signal(signal.SIGTERM)
            try:
                spawned.proc.wait(grace)
            except subprocess.TimeoutExpired:
                spawned.proc.kill()
                spawned.proc.wait(10)
        return spawned.proc.returncode

    def stop_all(self) -> None:
        for spawned in reversed(self.processes):
            self.stop(spawned, grace=5.0)

    def log_files(self) -> Iterator[Path]:
        return (spawned.log_path for spawned in self.processes)
