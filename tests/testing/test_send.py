"""``hookq send``: a real ``hookq send`` process signs an event and posts it to a real
``hookq ingress`` process, which queues it on the real broker; a refusal, an unreachable
ingress and every usage error each have their exit code and message."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aio_pika.abc import AbstractQueue, AbstractRobustConnection

from hookq.cli import main
from hookq.message import Header
from hookq.send.sender import Order, send, shown
from hookq.settings import Settings
from hookq.sources.catalogue import example
from hookq.topology import Names, declare_exchanges
from tests.conftest import SECRETS
from tests.reliability.procs import Fleet, free_port
from tests.support.workers import run_hookq

STARYA_HEADERS = {
    "HOOKQ_STARYA_ID_HEADER": "X-Starya-Id",
    "HOOKQ_STARYA_TIMESTAMP_HEADER": "X-Starya-Timestamp",
}


def env_of(settings: Settings, **overrides: str) -> dict[str, str]:
    """What the ingress and ``hookq send`` both read: the broker, the namespace, the secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKQ_")}
    env.update(
        HOOKQ_AMQP_URL=settings.amqp_url,
        HOOKQ_NAMESPACE=settings.namespace,
        HOOKQ_LOG_FORMAT="json",
        **{f"HOOKQ_{name.upper()}_SECRETS": secret for name, secret in SECRETS.items()},
        **STARYA_HEADERS,
    )
    env.update(overrides)
    return env


def hookq_send(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_hookq(env, "send", *args)


@pytest.fixture
def ingress_port(settings: Settings, tmp_path: Path) -> Iterator[int]:
    fleet = Fleet(log_dir=tmp_path, base_env=env_of(settings))
    try:
        _spawned, port = fleet.ingress()
        yield port
    finally:
        fleet.stop_all()


@pytest.fixture
async def tap(amqp: AbstractRobustConnection, names: Names) -> AsyncIterator[AbstractQueue]:
    """Every event the ingress publishes (a queue bound to every routing key)."""
    channel = await amqp.channel()
    events, _ = await declare_exchanges(channel, names)
    queue = await channel.declare_queue(f"{names.namespace}.tap", auto_delete=True)
    await queue.bind(events, routing_key="#")
    yield queue
    await channel.close()


async def test_each_source_sent_lands_in_the_queue(
    settings: Settings, ingress_port: int, tap: AbstractQueue, tmp_path: Path
) -> None:
    env = env_of(settings, HOOKQ_INGRESS_PORT=str(ingress_port))
    standard = tmp_path / "invoice.json"
    standard.write_text('{"type": "invoice.paid", "data": {"amount": 4200}}')
    cases = [
        ("plain.thread.chat_sent", []),  # the default URL: HOOKQ_INGRESS_PORT
        ("livechat.incoming_chat", ["--url", f"http://127.0.0.1:{ingress_port}/"]),
        ("starya.user.created", []),  # HMAC over the configured id and timestamp headers
        ("standard.invoice.paid", ["--file", str(standard)]),
    ]
    for selector, args in cases:
        done = hookq_send(env, selector, *args)
        assert done.returncode == 0, (selector, done.stdout, done.stderr)
        status, answer = done.stdout.split("\n", 1)
        assert status == "200 OK"
        delivery_id = json.loads(answer)["delivery_id"]
        message = await tap.get(timeout=10)
        await message.ack()
        source, event_type = selector.split(".", 1)
        assert message.headers[Header.SOURCE] == source
        assert message.headers[Header.EVENT_TYPE] == event_type
        assert message.headers[Header.DELIVERY_ID] == delivery_id
    assert delivery_id.startswith("msg_")  # Standard Webhooks: the webhook-id the kit made


async def test_a_wrong_secret_prints_the_401_answer_and_exits_1(
    settings: Settings, ingress_port: int, tap: AbstractQueue
) -> None:
    env = env_of(settings, HOOKQ_INGRESS_PORT=str(ingress_port))
    done = hookq_send(env, "plain.thread.chat_sent", "--secret", "not-the-ingress-secret")
    assert done.returncode == 1, done.stderr
    status, answer = done.stdout.split("\n", 1)
    assert status == "401 Unauthorized"
    assert json.loads(answer)["error"] == "unauthorized"
    assert "Plain-Request-Signature" in json.loads(answer)["message"]
    assert await tap.get(fail=False, no_ack=True) is None  # nothing was queued


def test_an_unreachable_ingress_exits_3(settings: Settings) -> None:
    port = free_port()  # nothing listens there
    env = env_of(settings, HOOKQ_INGRESS_PORT=str(port))
    done = hookq_send(env, "livechat.incoming_event")
    assert done.returncode == 3
    assert done.stdout == ""
    assert f"cannot reach the ingress at http://127.0.0.1:{port}/webhooks/livechat" in done.stderr


@pytest.mark.parametrize(
    ("selector", "args", "unset", "said"),
    [
        ("nosuch.thing", [], "", "unknown source 'nosuch'"),
        ("plain", [], "", "give SOURCE.TYPE"),
        ("plain.thread.nothing", [], "", "has no example of event type 'thread.nothing'"),
        ("standard.invoice.paid", [], "", "(--file PAYLOAD)"),
        ("plain.thread.chat_sent", [], "HOOKQ_PLAIN_SECRETS", "HOOKQ_PLAIN_SECRETS is not set"),
        ("plain.thread.chat_sent", ["--file", "/nonexistent.json"], "", "cannot read"),
        ("plain.thread.email_sent", ["--file", "CHAT"], "", "is a plain.thread.chat_sent event"),
        ("starya.chat.created", ["--file", "NOT_JSON"], "", "would refuse this payload"),
        ("plain.thread.chat_sent", ["--url", "ftp://host"], "", "not an http:// or https://"),
    ],
)
def test_usage_errors_exit_2_saying_why(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    selector: str,
    args: list[str],
    unset: str,
    said: str,
) -> None:
    files = {"CHAT": example("plain", "thread.chat_sent"), "NOT_JSON": b"\x1b[2J{"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    args = [str(tmp_path / a) if a in files else a for a in args]
    env = env_of(settings, HOOKQ_INGRESS_PORT=str(free_port()))
    env.pop(unset, None)
    for name in [n for n in os.environ if n.startswith("HOOKQ_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["send", selector, *args]) == 2  # the command line, in this process
    out, err = capsys.readouterr()
    assert out == ""
    assert said in err
    assert "\x1b" not in err


def test_an_insecure_source_needs_no_secret(settings: Settings) -> None:
    port = free_port()
    env = env_of(settings, HOOKQ_INGRESS_PORT=str(port), HOOKQ_INSECURE_SOURCES="plain")
    del env["HOOKQ_PLAIN_SECRETS"]
    done = hookq_send(env, "plain.thread.chat_sent")
    assert done.returncode == 3, done.stderr  # signed and sent: only nobody listened


def test_the_answer_is_shown_as_text() -> None:
    hostile = json.dumps({"error": "x", "message": "\x1b]0;owned\x07\u202e"})
    assert "\x1b" not in shown(hostile)
    assert "\u202e" not in shown(hostile)
    assert json.loads(shown(hostile)) == json.loads(hostile)  # still the same JSON
    assert shown("plain \x1b[31mtext") == "plain \\x1b[31mtext"


def test_send_in_process_reports_to_the_given_streams(settings: Settings) -> None:
    out, err = io.StringIO(), io.StringIO()
    order = Order("plain.thread.chat_sent", None, f"http://127.0.0.1:{free_port()}", None, 2.0)
    assert send(order, settings, out, err) == 3
    assert out.getvalue() == ""
    assert "cannot reach the ingress" in err.getvalue()
