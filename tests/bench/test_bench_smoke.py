"""``python -m bench --quick`` completes and prints its one table with every row.

A smoke test, not a timed one: it asserts no figure (the machine running CI is not the one the
figures are for), only that every part ran against the real RabbitMQ and Redis, that wrk was
there to drive the ingress, and that the run left its table and nothing else behind.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import redis

from bench.__main__ import PARTS, parse_args
from bench.broker import listed_names
from bench.report import COLUMNS

REPO = Path(__file__).resolve().parents[2]

# (part, start of the measure) of every row the full run prints.
EXPECTED_ROWS = [
    ("validation starya", "events/s"),
    ("validation livechat", "events/s"),
    ("validation plain", "events/s"),
    ("validation standard", "events/s"),
    ("ingress plain", "requests/s"),
    ("ingress plain", "latency"),
    ("ingress plain", "CPU per request"),
    ("ingress livechat", "requests/s"),
    ("ingress livechat", "latency"),
    ("ingress livechat", "CPU per request"),
    ("memory", "ingress peak RSS under wrk"),
    ("archive", "ingress requests/s, archive on vs off"),
    ("archive", "ingress latency"),
    ("archive", "RabbitMQ CPU per request"),
    ("archive", "list a 1-hour window"),
    ("worker", "events/s"),
    ("worker", "the same, against FastStream"),
    ("memory", "worker peak RSS draining"),
    ("ingress processes", "requests/s"),
    ("worker processes", "events/s"),
    ("end to end", "HTTP request to handler call"),
    ("end to end", "HTTP answer"),
    ("memory", "ingress peak RSS at"),
    ("memory", "worker peak RSS at"),
    ("tracing", "end to end p50 / p99"),
    ("tracing", "ingress CPU per event"),
    ("tracing", "worker CPU per event"),
    ("destinations", "events/s forwarded"),
    ("destinations", "provider request -> destination receipt"),
]


def table_rows(stdout: str) -> list[list[str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


@pytest.mark.usefixtures("wrk")  # a prerequisite: see tests/bench/conftest.py
def test_quick_bench_prints_every_row(tmp_path: Path, amqp_url: str, redis_url: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            # The inbox part has a smoke test of its own (tests/inbox/test_bench_inbox.py).
            "--parts",
            ",".join(part for part in PARTS if part != "inbox"),
            f"--amqp-url={amqp_url}",
            f"--redis-url={redis_url}",
            f"--results={tmp_path}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    rows = table_rows(done.stdout)
    assert rows[0] == list(COLUMNS)
    body = rows[2:]
    for part, measure in EXPECTED_ROWS:
        assert any(r[0] == part and r[1].startswith(measure) for r in body), (part, measure)
    assert len(body) == len(EXPECTED_ROWS), done.stdout
    assert not [r for r in body if "FAILED" in r[2]], done.stdout

    saved = orjson.loads((tmp_path / "latest.json").read_bytes())
    assert len(saved["rows"]) == len(EXPECTED_ROWS)
    assert (tmp_path / "latest.md").read_text().splitlines()[0].startswith("| Part |")

    # Everything the run declared lived in its own namespace and was deleted with it.
    namespace_prefix = f"{saved['meta']['namespace']}."
    assert listed_names("queues", namespace_prefix) == []
    assert listed_names("exchanges", namespace_prefix) == []
    with redis.Redis.from_url(redis_url) as client:
        assert client.keys(f"{saved['meta']['namespace']}:*") == []


def test_parts_run_in_their_fixed_order_whatever_the_order_asked() -> None:
    # The worker part binds the events the ingress part counts in its unrouted keeper.
    asked = parse_args(["--parts", "tracing,e2e,worker,archive,ingress"]).parts
    assert asked == ["ingress", "archive", "worker", "e2e", "tracing"]
