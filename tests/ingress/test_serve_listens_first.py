"""``hookq ingress`` binds its port before it reaches the broker: a port in use is said at
once (exit 2, one line naming the port and HOOKQ_INGRESS_PORT), and with the broker away the
process already listens (``/healthz`` 200, ``/readyz`` 503)."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.conftest import STANDARD_SECRET
from tests.reliability import senders
from tests.reliability.procs import free_port, http_status

# Nothing listens on port 1: connecting is refused, and the publisher retries forever.
UNREACHABLE_BROKER = "amqp://guest:guest@127.0.0.1:1/"
COMMAND = [sys.executable, "-c", "from hookq.cli import main; raise SystemExit(main(['ingress']))"]


def ingress_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
    env.update(
        HOOKQ_AMQP_URL=UNREACHABLE_BROKER,
        HOOKQ_INGRESS_HOST="127.0.0.1",
        HOOKQ_INGRESS_PORT=str(port),
        HOOKQ_SOURCES="standard",
        HOOKQ_STANDARD_SECRETS=STANDARD_SECRET,
        HOOKQ_LOG_FORMAT="json",
    )
    return env


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_port_in_use_exits_2_naming_it(busy_port: int) -> None:
    started = time.monotonic()
    result = subprocess.run(
        COMMAND, env=ingress_env(busy_port), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{busy_port}" in lines[0]
    assert "HOOKQ_INGRESS_PORT" in lines[0]
    # Said at once: the unreachable broker was never waited for (its retries take seconds).
    assert time.monotonic() - started < 15


def test_it_listens_while_the_broker_is_unreachable() -> None:
    port = free_port()
    process = subprocess.Popen(
        COMMAND, env=ingress_env(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while http_status(f"http://127.0.0.1:{port}/healthz", timeout=1) != 200:
            assert process.poll() is None, "the ingress exited"
            assert time.monotonic() < deadline, "the ingress never listened"
            time.sleep(0.1)
        assert http_status(f"http://127.0.0.1:{port}/readyz", timeout=1) == 503
        # A webhook meanwhile: 503 (the provider retries), not a 500 for the missing channel.
        event = senders.standard("listen.first", {})
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", event.path, body=event.body, headers=event.headers)
        assert connection.getresponse().status == 503
        connection.close()
    finally:
        process.terminate()
        process.wait(15)
