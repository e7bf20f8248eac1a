"""A private PostgreSQL server a test may stop and start (never the shared one).

    with PrivatePostgres() as pg:     # initdb in a temporary directory, listening on pg.url
        pg.stop()                     # an outage ("fast": connections closed; or hard=True)
        pg.start()                    # back, same port and data

Uses PostgreSQL 15's own binaries (``initdb``, ``pg_ctl``); run as root, they run as the
``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from tests.support.redis_server import free_port

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PrivatePostgres:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._dir = Path(tempfile.mkdtemp(prefix="hookq-pg-"))
        self._data = self._dir / "data"
        self._log = self._dir / "log"
        if os.geteuid() == 0:
            shutil.chown(self._dir, "postgres", "postgres")
        self._run(
            [str(BIN / "initdb"), "-D", str(self._data), "-A", "trust", "-U", "postgres", "-N"]
        )

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(
            _as_postgres(argv), capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise AssertionError(f"{argv[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=60"
        )
        pg_ctl = [str(BIN / "pg_ctl"), "-D", str(self._data), "-o", options, "-l", str(self._log)]
        self._run([*pg_ctl, "-w", "-t", "30", "start"])

    def stop(self, hard: bool = False) -> None:
        mode = "immediate" if hard else "fast"
        self._run([str(BIN / "pg_ctl"), "-D", str(self._data), "-m", mode, "-w", "stop"])

    def log(self) -> str:
        return self._log.read_text(errors="replace")

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        with contextlib.suppress(AssertionError):
            self.stop(hard=True)
        shutil.rmtree(self._dir, ignore_errors=True)
