"""The attacks of issue 12 (items 1 and 2) against a real ``hookq ingress`` process, with the
latency of a legitimate webhook and the process's memory and descriptors asserted.

Bounds, and why (numbers from docs/reliability.md, measured on the 2-core test machine):

- Compression bombs: before, one connection looping 1 GiB gzip bombs took a signed webhook
  from 3 ms to 6.8 s p50 (aiohttp's lingering close inflated each whole bomb on the event
  loop). Now a bomb costs what was read to refuse it (1 MiB inflated, then the connection is
  closed): p50 9 to 35 ms while the attacking client itself competes for the two cores. The
  bound, 250 ms p50 and 2 s for any one request, is 7x the worst measured and 27x under the
  failure.
- Memory: the ingress idles at ~80 MB. Before, 5 rounds of 200 aborted 1 MiB uploads took it
  to 444 MB and 300 held bodies to 707 MB, never given back. Now: ~98 MB after the rounds,
  flat from one round to the next; ~116 MB while 300 bodies are held. Bounds: 60 MB over the
  idle process (bodies in flight are bounded at 16 MiB, read twice at most, plus what 300
  connections buffer before being answered), and under 10 MB of growth from the second round
  to the last (a leak of one dropped request per round is 1 MiB: 200 MB a round).
"""

from __future__ import annotations

import functools
import socket
import statistics
import time

import psutil
import pytest

from tests.reliability import attacks, rawhttp
from tests.reliability.procs import Fleet, Spawned
from tests.reliability.summary import SUMMARY

MIB = 1024 * 1024
GROWTH_BOUND = 60 * MIB


@functools.cache
def gigabyte_bomb() -> bytes:
    """1 GiB of zeros, gzip: about 1,040,000 bytes, under the 1 MiB body limit."""
    bomb = attacks.gzip_bomb_stream(1024 * MIB)
    assert len(bomb) < MIB
    return bomb


@pytest.fixture
def ingress(fleet: Fleet) -> tuple[Spawned, int]:
    return fleet.ingress()


def latencies(port: int, count: int, pause: float) -> list[float]:
    results = attacks.timed_signed_posts(port, count, pause)
    assert [status for status, _ in results] == [200] * count, results
    return [seconds for _, seconds in results]


def test_compression_bombs_cost_only_what_was_read(ingress: tuple[Spawned, int]) -> None:
    process, port = ingress
    idle_rss = process.rss_bytes()
    quiet = latencies(port, 10, 0.05)
    with attacks.BombLoop(port, gigabyte_bomb()) as loop:
        time.sleep(1.0)
        attacked = latencies(port, 20, 0.2)
    SUMMARY.fuzz_cases += len(loop.answers)
    assert len(loop.answers) >= 5, "the bomb loop barely ran"
    assert all(status == 413 for status in loop.answers if status is not None), loop.answers
    assert sum(status == 413 for status in loop.answers) >= len(loop.answers) // 2
    p50 = statistics.median(attacked)
    print(
        f"bombs: {len(loop.answers)} answered; signed webhook p50 "
        f"{statistics.median(quiet) * 1000:.1f} ms quiet, {p50 * 1000:.1f} ms under bombs "
        f"(max {max(attacked) * 1000:.1f} ms); RSS {process.rss_bytes() / MIB:.0f} MiB"
    )
    assert p50 < 0.25, f"p50 {p50 * 1000:.0f} ms under bombs (quiet: {quiet})"
    assert max(attacked) < 2.0, attacked
    assert process.rss_bytes() - idle_rss < GROWTH_BOUND


def test_aborted_uploads_do_not_pin_memory(ingress: tuple[Spawned, int]) -> None:
    process, port = ingress
    idle_rss = process.rss_bytes()
    after: list[int] = []
    for _ in range(5):
        attacks.aborted_uploads(port, 200, MIB)
        settle(process.pid)
        after.append(process.rss_bytes())
    SUMMARY.fuzz_cases += 1000
    assert latencies(port, 3, 0.0)
    growth = [(rss - idle_rss) / MIB for rss in after]
    print(f"aborted uploads: idle {idle_rss / MIB:.0f} MiB, after each round {growth} MiB more")
    assert max(after) - idle_rss < GROWTH_BOUND, f"MiB over idle per round: {growth}"
    # Pinned, each round kept its 200 MiB (the red team's 2.2 GB); freed, later rounds reuse
    # the memory of the first. 30 MiB over three rounds is allocator noise on a loaded
    # machine (5 to 21 MiB seen), a twentieth of what one pinned round would add.
    assert after[-1] - after[1] < 30 * MIB, f"MiB over idle per round: {growth}"


def settle(pid: int, timeout: float = 10.0) -> None:
    """Until the process holds no connection from an attack (they are all closed)."""
    process = psutil.Process(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for c in process.net_connections("tcp") if c.raddr) <= 1:
            return
        time.sleep(0.1)


def test_held_bodies_are_bounded_and_small_webhooks_still_pass(
    ingress: tuple[Spawned, int],
) -> None:
    process, port = ingress
    idle_rss = process.rss_bytes()
    with attacks.held_bodies(port, 300, MIB) as held:
        time.sleep(1.0)
        during = latencies(port, 5, 0.1)
        held_rss = process.rss_bytes()
    SUMMARY.fuzz_cases += len(held)
    print(
        f"held bodies: {len(held)} held; RSS {idle_rss / MIB:.0f} -> {held_rss / MIB:.0f} MiB; "
        f"webhooks meanwhile: max {max(during) * 1000:.1f} ms"
    )
    assert held_rss - idle_rss < GROWTH_BOUND, f"{(held_rss - idle_rss) / MIB:.0f} MiB over idle"
    assert max(during) < 2.0, during


def read_to_eof(sock: socket.socket, wait: float) -> bool:
    """Whether the server ends this connection within ``wait`` (an answer may come first)."""
    sock.settimeout(wait)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_idle_and_slow_connections_are_closed(fleet: Fleet) -> None:
    """2,000 idle connections, and slow headers and bodies, are closed after their timeouts
    (1 s here): descriptors come back; webhooks meanwhile pass."""
    process, port = fleet.ingress(
        HOOKQ_INGRESS_KEEPALIVE_TIMEOUT="1", HOOKQ_INGRESS_BODY_TIMEOUT="1"
    )
    idle_fds = psutil.Process(process.pid).num_fds()
    slow_head = rawhttp.request(b"/webhooks/plain", [b"Host: x", b"X-Slow: " + b"s" * 200])
    slow_body = rawhttp.request(b"/webhooks/standard", [b"Host: x", b"Content-Length: 500"])
    with attacks.idle_connections(port, 2000) as idle:
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
        for n, sock in enumerate(slow):
            # Headers that never end, or a body that never ends.
            sock.sendall(slow_head[:-4] if n % 2 else slow_body + b"{")
        assert latencies(port, 3, 0.0)
        time.sleep(2.0)
        assert all(read_to_eof(sock, 1.0) for sock in idle[:50] + slow), "connections kept"
        fds = psutil.Process(process.pid).num_fds()
        for sock in slow:
            sock.close()
    SUMMARY.fuzz_cases += 2100
    print(f"idle and slow connections: {fds - idle_fds} descriptors over idle after 2 s")
    assert fds - idle_fds < 50, f"{fds - idle_fds} descriptors over idle after the timeouts"
