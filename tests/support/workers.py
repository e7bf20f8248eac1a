"""Running ``hookq worker`` as a real process, for tests that kill, stop or race workers.

    env = worker_env(settings, handler_modules="tests.support.handlers", HOOKQ_CLAIM_LEASE="3")
    with WorkerProcess.start(env, tmp_path / "w1.log") as worker:
        worker.wait_ready()          # its "worker consuming" log line: queues declared, consuming
        ...
        worker.kill()                # SIGKILL; or worker.terminate() (SIGTERM) then worker.wait()

The process runs ``python -m hookq.cli worker`` from the repository root (so ``tests.*``
handler modules import), configured only by ``HOOKQ_*`` variables, with JSON logs written to a
file (``output()``; a pipe could fill up and stall the worker). Leaving the ``with`` block kills
a process still running. Failures carry the tail of its log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from hookq.settings import Settings

REPO = Path(__file__).resolve().parents[2]
READY_LINE = '"worker consuming"'


def worker_env(settings: Settings, handler_modules: str = "", **overrides: str) -> dict[str, str]:
    """The environment of a worker for ``settings``' broker, Redis and namespace: no built-in
    handler, no metrics port, JSON logs; ``overrides`` are more ``HOOKQ_*`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
    env.update(
        {
            "HOOKQ_AMQP_URL": settings.amqp_url,
            "HOOKQ_REDIS_URL": settings.redis_url,
            "HOOKQ_NAMESPACE": settings.namespace,
            "HOOKQ_HANDLER_MODULES": handler_modules,
            "HOOKQ_BUILTIN_HANDLERS": "",
            "HOOKQ_WORKER_METRICS_PORT": "0",
            "HOOKQ_LOG_FORMAT": "json",
            "HOOKQ_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(REPO),
        }
    )
    env.update(overrides)
    return env


def run_hookq(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``hookq *args`` to completion, its output captured (it must exit by itself)."""
    return subprocess.run(
        [sys.executable, "-m", "hookq.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_worker_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``hookq worker *args`` to completion (for usage errors: it must exit by itself)."""
    return run_hookq(env, "worker", *args)


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path, log_file: IO[bytes]) -> None:
        self.proc = proc
        self.log_path = log_path
        self._log_file = log_file

    @classmethod
    def start(cls, env: dict[str, str], log_path: Path, *args: str) -> WorkerProcess:
        """Start ``hookq worker *args`` (e.g. ``--handler``, ``--prefetch``)."""
        log_file = log_path.open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "hookq.cli", "worker", *args],
            cwd=REPO,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        return cls(proc, log_path, log_file)

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._log_file.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the worker consumes every queue (fails if it exits or takes too long)."""
        deadline = time.monotonic() + timeout
        while READY_LINE not in self.output():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker not ready after {timeout:g}s:\n{self.tail()}")
            time.sleep(0.05)

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def wait(self, timeout: float = 30.0) -> int:
        """The exit code (fails if the process is still running after ``timeout``)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"worker still running after {timeout:g}s:\n{self.tail()}"
            ) from None
