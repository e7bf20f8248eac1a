"""The README's destinations: its TOML example is a valid file, and its three lines of Python
on the receiving side verify a real delivery (and refuse a forged one)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
import structlog
from standardwebhooks.webhooks import WebhookVerificationError

from hookq.destinations.config import load_destinations
from hookq.destinations.delivery import Forwarder, Transport
from hookq.handlers.api import HandlerContext
from hookq.privacy import Privacy
from hookq.topology import Names
from tests.test_readme import README, python_blocks

TOML_BLOCK = re.compile(r"^```toml\n(?P<code>.*?)^```", re.M | re.S)


def readme_file(tmp_path: Path) -> Path:
    (block,) = [m["code"] for m in TOML_BLOCK.finditer(README) if "[[destination]]" in m["code"]]
    path = tmp_path / "destinations.toml"
    path.write_text(block)
    return path


def receiver_module() -> ModuleType:
    (block,) = [b for b in python_blocks() if b.module == "crm_receiver"]
    assert len([line for line in block.code.splitlines() if line.strip()]) <= 5
    module = ModuleType(block.module)
    exec(compile(block.code, "README.md", "exec"), module.__dict__)  # noqa: S102 - our README
    return module


def test_the_readme_file_and_receiver(tmp_path: Path) -> None:
    (crm,) = load_destinations(readme_file(tmp_path))
    assert (crm.name, crm.rate_limit and str(crm.rate_limit)) == ("crm", "10/s")
    forwarder = Forwarder(crm, Transport("redis://unused"), Names("hookq"), Privacy())
    body = b'{"type":"thread.created","payload":{"id":"th_1"}}'
    ctx = HandlerContext(
        handler="crm",
        delivery_id="pEv_01README",
        source="plain",
        event_type="thread.created",
        attempt=1,
        max_attempts=8,
        received_at=datetime.now(UTC),
        headers={},
        log=structlog.get_logger(),
        body=body,
    )
    headers = forwarder.headers(ctx, datetime.now(UTC).timestamp())
    secret = crm.secrets[0].get_secret_value()
    verified_event = receiver_module().verified_event
    assert verified_event(body, headers, secret) == {
        "type": "thread.created",
        "payload": {"id": "th_1"},
    }
    with pytest.raises(WebhookVerificationError):
        verified_event(body.replace(b"th_1", b"th_2"), headers, secret)
