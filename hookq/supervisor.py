"""``--processes N``: one supervisor, N children running the same command, for every core.

The supervisor only starts, watches and stops its children; it connects to nothing. Each child
is the command run as a separate process (``python -m hookq.cli <the same arguments> --child
INDEX``), with the same settings, and does its work as one process would: ingress children
share the listening port (SO_REUSEPORT: the kernel spreads connections over them), worker
children consume the same queues (the broker spreads messages over them). Dedupe in Redis
already makes several workers safe.

- A child that dies is started again, after a backoff that grows while it keeps dying soon after
  its start (``QUICK_EXIT`` seconds); ``MAX_QUICK_EXITS`` quick deaths in a row mean it cannot
  start: the supervisor stops the others and exits 1 saying so. A child exiting 2 (a setting
  or a port refused) ends the supervisor at once with 2: restarting would not help.
- SIGTERM or SIGINT: every child gets SIGTERM and drains as one process does; the supervisor
  exits 0 once all of them exited 0.
- The children die with the supervisor (Linux: the parent-death signal), so a SIGKILLed
  supervisor leaves no process consuming alone.

Light on purpose: ``hookq --help`` builds the parser, and ``processes_count`` is its type.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

QUICK_EXIT = 10.0  # seconds: a child dying sooner did not manage to start
MAX_QUICK_EXITS = 5  # in a row, for one child: the supervisor gives up
FIRST_BACKOFF, MAX_BACKOFF = 0.5, 10.0  # seconds before a restart, doubling per quick exit
STOP_MARGIN = 15.0  # seconds past the children's own grace before they are SIGKILLed
EXIT_USAGE = 2  # hookq.cli's: a child refusing its settings
PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def processes_count(text: str) -> int:
    """``--processes``: a number of processes, at least 1, or ``auto`` (one per core)."""
    if text == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of processes (a number, or auto)"
        ) from None
    if count < 1:
        raise argparse.ArgumentTypeError("at least 1 process (or auto: one per core)")
    return count


def add_arguments(parser: argparse.ArgumentParser, spreads: str) -> None:
    parser.add_argument(
        "--processes",
        type=processes_count,
        default=1,
        metavar="N",
        help=f"run N processes under one supervisor ({spreads}); auto: one per core. "
        "A crashed process is restarted; SIGTERM drains them all (default: 1, no supervisor)",
    )
    # Set by the supervisor on the command line of each of its children: which one it is.
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)


@dataclass
class Child:
    index: int
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_exits: int = 0
    restart_at: float | None = None  # when a dead child is due to start again


@dataclass
class Supervisor:
    """``argv``: the command's own arguments (``--processes`` included: a child ignores it)."""

    command: str
    argv: Sequence[str]
    count: int
    grace: float
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    say: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr))
    # What a child runs, before the arguments (tests run something else).
    program: Sequence[str] = (sys.executable, "-m", "hookq.cli")
    children: list[Child] = field(default_factory=list)
    _stopping: bool = False
    _log: Any = None

    def run(self) -> int:
        import structlog  # here: the parser imports this module (see the docstring)

        self._log = structlog.get_logger("hookq.supervisor")
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        self.children = [Child(index) for index in range(self.count)]
        try:
            for child in self.children:
                self._start(child)
            self._log.info("supervising", command=self.command, processes=self.count)
            code = self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return code if code is not None else self._drained()

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _watch(self) -> int | None:
        """Until a stop signal (None) or a child that cannot start (the exit code)."""
        while not self._stopping:
            now = time.monotonic()
            for child in self.children:
                if child.proc is not None and (code := child.proc.poll()) is not None:
                    failed = self._exited(child, code, now)
                    if failed is not None:
                        return failed
                if child.proc is None and child.restart_at is not None and now >= child.restart_at:
                    self._start(child)
            time.sleep(0.1)
        return None

    def _exited(self, child: Child, code: int, now: float) -> int | None:
        quick = now - child.started_at < QUICK_EXIT
        child.proc = None
        if quick and code == EXIT_USAGE:
            self.say(f"hookq {self.command}: process {child.index} refused to start (exit 2)")
            return EXIT_USAGE
        child.quick_exits = child.quick_exits + 1 if quick else 1
        if child.quick_exits >= MAX_QUICK_EXITS:
            self.say(
                f"hookq {self.command}: process {child.index} exited {child.quick_exits} times "
                f"in a row within {QUICK_EXIT:g}s of starting (last exit code {code}): "
                "giving up (see its log above)"
            )
            return 1
        delay = min(FIRST_BACKOFF * 2 ** (child.quick_exits - 1), MAX_BACKOFF)
        self._log.warning(
            "process exited: restarting it", child=child.index, code=code, delay=delay
        )
        child.restart_at = now + delay
        return None

    def _start(self, child: Child) -> None:
        argv = [*self.program, *self.argv, "--child", str(child.index)]
        # preexec_fn is safe here: the supervisor runs no thread.
        child.proc = subprocess.Popen(argv, env=dict(self.env), preexec_fn=_die_with_parent)  # noqa: S603 - our own command line
        child.started_at, child.restart_at = time.monotonic(), None
        self._log.info("process started", child=child.index, pid=child.proc.pid)

    def _stop_all(self) -> None:
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        if running:
            self._log.info("stopping: draining every process", processes=len(running))
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace + STOP_MARGIN
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _drained(self) -> int:
        codes = [c.proc.returncode for c in self.children if c.proc is not None]
        failed = [code for code in codes if code != 0]
        if failed:
            self.say(f"hookq {self.command}: processes exited with {failed} while stopping")
        return 1 if failed else 0


def _die_with_parent() -> None:
    """In the child, before it runs: SIGTERM when the supervisor dies (Linux only)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
