"""``python -m bench --quick --parts inbox`` completes with its four rows (a smoke test of the
harness: no figure is asserted, the machine running it is not the one the figures are for)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bench.test_bench_smoke import table_rows
from tests.support.workers import REPO


def test_quick_inbox_bench_prints_its_rows(
    tmp_path: Path, amqp_url: str, redis_url: str, postgres_url: str
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--parts",
            "inbox",
            f"--amqp-url={amqp_url}",
            f"--redis-url={redis_url}",
            f"--postgres-url={postgres_url}",
            f"--results={tmp_path}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    body = table_rows(done.stdout)[2:]
    assert [row[0] for row in body] == ["inbox"] * 4, done.stdout
    assert not [row for row in body if "FAILED" in row[2]], done.stdout
    ratio = float(body[0][4])
    assert ratio > 0
    # py-spy sampled the transactional worker inside the claim and the commit.
    assert "claim: BEGIN, INSERT row, SAVEPOINT" in body[2][2], body[2]
    assert "commit: RELEASE, COMMIT" in body[2][2], body[2]
