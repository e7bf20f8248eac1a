"""A private RabbitMQ node for the tests that restart a broker (never the shared one).

    with PrivateBroker.start() as broker:   # node hookqarch@localhost, AMQP on 5681
        ... broker.url ...
        broker.restart()                    # stop the node, start it on the same data
    # stopped and its data directory removed

Its own data, logs, configuration and Erlang cookie live in a temporary directory; no plugin
(no management port). ``rabbitmqctl`` is the node's own, run with the same home (cookie).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

SBIN = Path("/usr/lib/rabbitmq/bin")
NODE = "hookqarch@localhost"
AMQP_PORT = 5681
DIST_PORT = 25681
STARTUP_TIMEOUT = 90.0


class PrivateBroker:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.url = f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/"
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls) -> PrivateBroker:
        base = Path(tempfile.mkdtemp(prefix="hookqarch-"))
        (base / "home").mkdir()
        cookie = base / "home" / ".erlang.cookie"
        cookie.write_text("HOOKQARCHIVETESTCOOKIE")
        cookie.chmod(0o400)
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{AMQP_PORT}\n"
            # Small and quick: the tests publish a few hundred small events.
            "disk_free_limit.absolute = 50MB\n"
        )
        (base / "rabbitmq-env.conf").write_text("")
        broker = cls(base)
        broker._launch()
        return broker

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env |= {
            "HOME": str(self.base / "home"),
            "RABBITMQ_NODENAME": NODE,
            "RABBITMQ_NODE_PORT": str(AMQP_PORT),
            "RABBITMQ_DIST_PORT": str(DIST_PORT),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": str(self.base / "node.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        return env

    def ctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SBIN / "rabbitmqctl"), "-n", NODE, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def _launch(self) -> None:
        log = (self.base / "server.log").open("ab")
        self._process = subprocess.Popen(
            [str(SBIN / "rabbitmq-server")], env=self._env(), stdout=log, stderr=log
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"private broker exited: {self.tail()}")
            done = self.ctl("await_startup", "--timeout", "10", timeout=30)
            if done.returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"private broker did not start: {self.tail()}")

    def stop(self) -> None:
        if self._process is None:
            return
        self.ctl("stop", timeout=60)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self._launch()

    def tail(self, lines: int = 30) -> str:
        path = self.base / "server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> PrivateBroker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
