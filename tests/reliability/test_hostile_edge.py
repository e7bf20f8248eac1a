"""The edge attacks' generators (tests/reliability/hostile_edge.py) against a real ``hookq
ingress`` with short timeouts (1 s): each answered case gets an allowed status and a JSON body
that repeats nothing it was sent; each stalled or cut-off connection is ended by the server; and
afterwards the process is healthy, within its memory bound, back to its descriptors, and has
published nothing but the valid control requests."""

from __future__ import annotations

import contextlib
import socket
import time

import orjson
import psutil
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from hookq.settings import Settings
from tests.reliability import attacks, hostile_edge, rawhttp
from tests.reliability.conftest import Scale
from tests.reliability.hostile_edge import MARKER, Answered, Stalled
from tests.reliability.procs import Fleet, Spawned
from tests.reliability.summary import SUMMARY
from tests.reliability.test_hostile_process import assert_healthy, send_valid, unrouted_count

# A stalled connection is ended within its timeout (1 s) and the keep-alive timer's slack.
ENDED_WITHIN = 3.0


def fuzz(scale: Scale, fraction: int = 1) -> hsettings:
    return hsettings(
        max_examples=max(3, scale.fuzz_examples // fraction),
        deadline=None,
        derandomize=not scale.full,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture
def quick_ingress(fleet: Fleet) -> tuple[Spawned, int]:
    return fleet.ingress(HOOKQ_INGRESS_KEEPALIVE_TIMEOUT="1", HOOKQ_INGRESS_BODY_TIMEOUT="1")


def check_answer(port: int, case: Answered) -> None:
    status, received = rawhttp.answer(port, case.data)
    assert status in case.allowed, (case.label, status, received[:300])
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"application/json" in head.lower(), (case.label, head)
    assert set(orjson.loads(body)) == {"error", "message"}, (case.label, body)
    assert MARKER not in received, (case.label, received[:300])


def ended_by_server(sock: socket.socket, wait: float) -> bool:
    sock.settimeout(wait)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


@pytest.mark.parametrize("kind", ["compression_bombs", "malformed_header_lines", "huge_timestamps"])
def test_answered_attacks(
    kind: str, quick_ingress: tuple[Spawned, int], settings: Settings, scale: Scale
) -> None:
    process, port = quick_ingress
    strategy = getattr(hostile_edge, kind)()
    cases: list[str] = []

    @fuzz(scale, fraction=2)
    @given(strategy)
    def run(case: Answered) -> None:
        cases.append(case.label)
        check_answer(port, case)

    run()
    SUMMARY.fuzz_cases += len(cases)
    assert len(set(cases)) > 1, f"the generator barely varied: {set(cases)}"
    assert send_valid(port) == 200
    assert_healthy(process, port)
    assert unrouted_count(settings) == 1, "something other than the valid request published"


def test_stalled_and_cut_off_connections_are_ended(
    quick_ingress: tuple[Spawned, int], settings: Settings, scale: Scale
) -> None:
    process, port = quick_ingress
    idle_fds = psutil.Process(process.pid).num_fds()
    batches = 0

    @fuzz(scale, fraction=10)
    @given(
        st.lists(
            st.one_of(hostile_edge.slow_requests(), hostile_edge.cut_off_uploads()),
            min_size=5,
            max_size=40,
        ),
        hostile_edge.idle_floods(),
    )
    def run(cases: list[Stalled], idle: int) -> None:
        nonlocal batches
        batches += 1
        with attacks.idle_connections(port, idle) as idle_socks:
            socks = []
            for case in cases:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                with contextlib.suppress(OSError):
                    sock.sendall(case.data)
                if case.abort:  # RST: the abrupt end of a crashed sender
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                    sock.close()
                else:
                    socks.append((case, sock))
            assert send_valid(port) == 200  # served meanwhile
            started = time.monotonic()
            kept = [
                case.label
                for case, sock in socks
                if not ended_by_server(sock, max(0.1, started + ENDED_WITHIN - time.monotonic()))
            ]
            kept_idle = sum(not ended_by_server(sock, 0.5) for sock in idle_socks[:20])
            for _, sock in socks:
                sock.close()
        SUMMARY.fuzz_cases += len(cases) + idle
        assert not kept, f"connections the server kept past its timeouts: {kept}"
        assert not kept_idle, f"{kept_idle} idle connections kept past the keep-alive timeout"

    run()
    assert batches >= 3
    time.sleep(1.0)
    assert psutil.Process(process.pid).num_fds() - idle_fds < 20, "descriptors not given back"
    assert_healthy(process, port)
    assert unrouted_count(settings) == batches, "something other than the valid requests"
