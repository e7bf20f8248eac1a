"""Fixtures of the reliability suite: the real processes it starts (with their logs scanned for
secrets and personal data when each test ends), the scale of the run, and the summary line.

``HOOKQ_RELIABILITY_FULL=1`` selects the full run (5,000 events, the shared RabbitMQ restarted);
without it CI runs the same scenarios at a smaller scale, and the broker outage is simulated
with a TCP proxy in front of the ingress instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hookq.settings import Settings
from hookq.topology import Names
from tests.conftest import LIVECHAT_SECRET, PLAIN_SECRET, STANDARD_SECRET, STARYA_SECRET
from tests.reliability.effects import EFFECTS_KEY, EFFECTS_URL
from tests.reliability.logscan import describe, scan_files
from tests.reliability.procs import Fleet
from tests.reliability.summary import SUMMARY

FULL = os.environ.get("HOOKQ_RELIABILITY_FULL") == "1"


@dataclass(frozen=True)
class Scale:
    full: bool
    events: int  # the chaos scenario's distinct events
    kills: int  # SIGKILLs of workers, at least
    fuzz_examples: int  # hypothesis examples per strategy
    outage_events: int  # events sent across each broker or Redis outage


@pytest.fixture(scope="session")
def scale() -> Scale:
    if FULL:
        return Scale(full=True, events=5000, kills=8, fuzz_examples=400, outage_events=1500)
    return Scale(full=False, events=600, kills=5, fuzz_examples=60, outage_events=250)


def process_env(settings: Settings, names: Names) -> dict[str, str]:
    """The ``HOOKQ_*`` environment that gives a process the test's settings and namespace."""
    return {
        "HOOKQ_NAMESPACE": settings.namespace,
        "HOOKQ_AMQP_URL": settings.amqp_url,
        "HOOKQ_REDIS_URL": settings.redis_url,
        "HOOKQ_PLAIN_SECRETS": PLAIN_SECRET,
        "HOOKQ_LIVECHAT_SECRETS": LIVECHAT_SECRET,
        "HOOKQ_STARYA_SECRETS": STARYA_SECRET,
        "HOOKQ_STANDARD_SECRETS": STANDARD_SECRET,
        "HOOKQ_LOG_FORMAT": "json",
        "HOOKQ_LOG_LEVEL": "DEBUG",
        # Effects go to the shared Redis even when a scenario points the worker at its own.
        EFFECTS_URL: settings.redis_url,
        EFFECTS_KEY: names.redis_key("effects"),
    }


@pytest.fixture
def fleet(settings: Settings, names: Names, tmp_path: Path) -> Iterator[Fleet]:
    """Starts processes for one test; stops them all at its end, then scans their logs."""
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    fleet = Fleet(log_dir=log_dir, base_env=process_env(settings, names))
    try:
        yield fleet
    finally:
        fleet.stop_all()
    leaks = scan_files(fleet.log_files())
    assert not leaks, f"secrets or personal data in process logs: {describe(leaks)}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY.scenarios or SUMMARY.fuzz_cases:
        terminalreporter.write_line(SUMMARY.line())
