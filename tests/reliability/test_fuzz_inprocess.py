"""Hostile input, generated, against the ingress application in this process and the real
broker: no 5xx, every hostile request refused unless it carried a valid credential, and exactly
the accepted requests reach the broker. The ingress's own log lines are scanned too."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from hypothesis import HealthCheck, given, settings

from hookq.settings import Settings
from tests.reliability import hostile
from tests.reliability.conftest import Scale
from tests.reliability.inprocess import InProcessIngress
from tests.reliability.logscan import leaks_in
from tests.reliability.senders import standard
from tests.reliability.summary import SUMMARY

STRATEGIES = {
    "random": hostile.random_requests(),
    "signed_hostile": hostile.signed_hostile_bodies(),
    "one_bit_off": hostile.one_bit_off(),
    "stale_or_future": hostile.stale_or_future(),
    "odd_timestamps": hostile.odd_timestamps(),
    "header_tricks": hostile.header_tricks(),
}


def answered_400(record: logging.LogRecord) -> bool:
    """aiohttp logs a request it could not parse or decode at ERROR, though it answers 400 (and
    again when it drains the undecodable rest of a body the ingress refused)."""
    # hookq.logs strips the request's content from aiohttp's records, keeping the exception
    # aside in ``refused_error``.
    exc = getattr(record, "refused_error", None) or (
        record.exc_info[1] if record.exc_info else None
    )
    if isinstance(exc, RequestPayloadError):
        return True
    return isinstance(exc, HttpProcessingError) and exc.code == 400


@pytest.fixture
def ingress(settings: Settings) -> Iterator[InProcessIngress]:
    with InProcessIngress(settings) as ingress:
        yield ingress


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
def test_hostile_requests_never_500_and_only_accepted_reach_the_broker(
    kind: str, ingress: InProcessIngress, scale: Scale, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    refused_but_accepted: list[hostile.Case] = []
    server_errors: list[tuple[int, hostile.Case]] = []
    cases: list[hostile.Case] = []

    @settings(
        max_examples=scale.fuzz_examples,
        deadline=None,
        derandomize=not scale.full,  # CI: the same cases each run; the full run explores
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(case=STRATEGIES[kind])
    def run(case: hostile.Case) -> None:
        SUMMARY.fuzz_cases += 1
        cases.append(case)
        status = ingress.post(case.path, case.body, case.headers)
        if status >= 500:
            server_errors.append((status, case))
        if case.must_refuse and status < 400:
            refused_but_accepted.append(case)

    run()
    assert len(cases) >= scale.fuzz_examples // 2, "hypothesis generated too few cases"
    # A control that must be accepted: proves the harness can see an acceptance at all.
    control = standard("rel.control", {"n": 1})
    assert ingress.post(control.path, control.body, control.headers) == 200

    assert not server_errors, f"5xx answers: {server_errors[:3]}"
    assert not refused_but_accepted, f"accepted but must be refused: {refused_but_accepted[:3]}"
    assert ingress.published() == ingress.accepted, "broker holds other messages than the 2xx"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and not answered_400(r)]
    assert not errors, f"server errors logged: {[r.getMessage() for r in errors[:3]]}"
    assert ingress.keeper.lines or kind == "signed_hostile", "the ingress logged no refusal"
    leaked = [label for line in ingress.keeper.lines for label in leaks_in(line)]
    assert not leaked, f"secrets or personal data in ingress logs: {sorted(set(leaked))}"
