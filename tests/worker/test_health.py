"""A worker process says what it is doing: /healthz and /readyz, start-up failures named at
once (exit 2), brokers and Redis that refuse explained, and every log line JSON."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from hookq.settings import Settings
from tests.support.redis_server import PrivateRedis, free_port
from tests.support.workers import WorkerProcess, run_worker_command, worker_env


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - a test URL
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:g}s")
        time.sleep(0.1)


def log_lines(worker: WorkerProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in worker.output().splitlines() if line.strip()]


def test_healthz_and_readyz_follow_redis(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    with PrivateRedis(tmp_path) as redis_server:
        env = worker_env(
            settings.model_copy(update={"redis_url": redis_server.url}),
            handler_modules="tests.support.handlers",
            HOOKQ_WORKER_METRICS_PORT=str(port),
            HOOKQ_WORKER_METRICS_HOST="127.0.0.1",
        )
        with WorkerProcess.start(env, tmp_path / "worker.log") as worker:
            worker.wait_ready()
            base = f"http://127.0.0.1:{port}"
            assert get(f"{base}/healthz") == (200, {"status": "alive"})
            assert get(f"{base}/readyz") == (200, {"status": "ready"})
            redis_server.stop()
            # Noticed without traffic: the worker pings Redis every few seconds.
            wait_for(lambda: get(f"{base}/readyz")[0] == 503)
            status, body = get(f"{base}/readyz")
            assert status == 503
            assert "redis unavailable" in body["reasons"]  # type: ignore[operator]
            assert get(f"{base}/healthz")[0] == 200  # alive all along
            redis_server.start()
            wait_for(lambda: get(f"{base}/readyz")[0] == 200, timeout=30)


def test_a_busy_metrics_port_exits_2_naming_it_before_any_connection(
    settings: Settings, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = worker_env(
            settings,
            handler_modules="tests.support.handlers",
            HOOKQ_WORKER_METRICS_PORT=str(port),
            HOOKQ_WORKER_METRICS_HOST="127.0.0.1",
            # Nothing answers there: a worker that connected first would wait forever.
            HOOKQ_AMQP_URL="amqp://guest:guest@127.0.0.1:1/",
            HOOKQ_REDIS_URL="redis://127.0.0.1:1/0",
        )
        started = time.monotonic()
        result = run_worker_command(env)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0]
    assert "HOOKQ_WORKER_METRICS_PORT" in lines[0]
    assert "in use" in lines[0]
    assert time.monotonic() - started < 30


def test_a_refusing_broker_is_explained_and_every_line_is_json(
    settings: Settings, tmp_path: Path
) -> None:
    wrong_password = settings.amqp_url.replace("guest:guest@", "guest:not-the-password@")
    unknown_vhost = settings.amqp_url.rstrip("/") + "/no-such-vhost"
    for url, reason in (
        (wrong_password, "wrong credentials: the broker at 127.0.0.1:5672 refused user 'guest'"),
        (unknown_vhost, "virtual host 'no-such-vhost'"),
        ("amqp://guest:guest@127.0.0.1:1/", "connection refused at 127.0.0.1:1"),
    ):
        env = worker_env(settings, handler_modules="tests.support.handlers", HOOKQ_AMQP_URL=url)
        log = tmp_path / f"worker-{len(reason)}.log"
        with WorkerProcess.start(env, log) as worker:
            wait_for(lambda w=worker: '"broker unreachable, retrying"' in w.output())
            time.sleep(0.5)
            worker.terminate()
            assert worker.wait() == 0
            lines = log_lines(worker)  # every line parses: nothing plain in the stream
        refused = [line for line in lines if line["event"] == "broker unreachable, retrying"]
        assert reason in str(refused[0]["reason"])
        assert "not-the-password" not in worker.output()
        assert all("level" in line and "timestamp" in line for line in lines)
