"""``hookq console`` as an operator starts it: it refuses to start without a token (exit 2,
naming the variable) unless marked insecure, which it says loudly and then serves without a
login; with tokens it serves the login page; a port in use stops it at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from hookq.settings import Settings
from tests.console.conftest import TOKEN, free_port
from tests.support.workers import REPO, run_hookq


def console_env(settings: Settings, port: int, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
    return env | {
        "HOOKQ_AMQP_URL": settings.amqp_url,
        "HOOKQ_REDIS_URL": settings.redis_url,
        "HOOKQ_NAMESPACE": settings.namespace,
        "HOOKQ_CONSOLE_HOST": "127.0.0.1",
        "HOOKQ_CONSOLE_PORT": str(port),
        "HOOKQ_BUILTIN_HANDLERS": "",
        "HOOKQ_LOG_FORMAT": "json",
        "PYTHONPATH": str(REPO),
        **more,
    }


def hookq_console(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hookq.cli", "console"],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def get(url: str) -> tuple[int, str, str]:
    """(status, final URL, body), following redirects; waits for the console to listen."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - our own URL
                return answer.status, answer.url, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, url, exc.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run_to_exit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_hookq(env, "console")


def test_without_a_token_the_console_refuses_to_start(settings: Settings) -> None:
    done = run_to_exit(console_env(settings, free_port()))
    assert done.returncode == 2
    assert "HOOKQ_CONSOLE_TOKENS not set" in done.stderr
    assert "HOOKQ_CONSOLE_INSECURE" in done.stderr


def test_a_short_token_is_refused_naming_the_variable(settings: Settings) -> None:
    done = run_to_exit(console_env(settings, free_port(), HOOKQ_CONSOLE_TOKENS="short"))
    assert done.returncode == 2
    assert "HOOKQ_CONSOLE_TOKENS" in done.stderr
    assert "at least 16 characters" in done.stderr
    assert "short" not in done.stderr.replace("short token", "")  # the value is not repeated


def test_marked_insecure_it_warns_loudly_and_serves_without_a_login(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    env = console_env(settings, port, HOOKQ_CONSOLE_INSECURE="true")
    proc = hookq_console(env, tmp_path / "console.log")
    try:
        status, url, body = get(f"http://127.0.0.1:{port}/issues")
        assert (status, url) == (200, f"http://127.0.0.1:{port}/issues")
        assert "INSECURE CONSOLE" in body
        lines = (tmp_path / "console.log").read_text().splitlines()
        warnings = [json.loads(line) for line in lines if "INSECURE CONSOLE" in line]
        assert [w["level"] for w in warnings] == ["warning"]
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_with_tokens_it_serves_the_login_page(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = console_env(settings, port, HOOKQ_CONSOLE_TOKENS=TOKEN)
    proc = hookq_console(env, tmp_path / "console.log")
    try:
        status, url, body = get(f"http://127.0.0.1:{port}/issues")
        assert status == 200
        assert url.startswith(f"http://127.0.0.1:{port}/login?next=")
        assert 'name="token"' in body
        assert TOKEN not in (tmp_path / "console.log").read_text()
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_a_port_in_use_stops_it_naming_the_setting(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_to_exit(console_env(settings, port, HOOKQ_CONSOLE_TOKENS=TOKEN))
    assert done.returncode == 2
    assert "HOOKQ_CONSOLE_PORT" in done.stderr
    assert "in use" in done.stderr
