"""Without wrk on ``PATH``, a run that includes the benchmark smoke test stops before its first
test and says how to install wrk; a run that does not include it is not concerned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SMOKE = "tests/bench/test_bench_smoke.py"


def pytest_without_wrk(tmp_path: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    # An empty directory as PATH: no wrk, whatever the machine has installed.
    env = {**os.environ, "PATH": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_run_with_the_bench_smoke_test_stops_at_once_naming_the_install_command(
    tmp_path: Path,
) -> None:
    done = pytest_without_wrk(tmp_path, SMOKE)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "wrk is not installed" in output
    assert "apt-get install -y wrk" in output
    assert "no tests ran" in output  # stopped before the first test, not failed at the end


def test_a_run_without_the_bench_smoke_test_does_not_need_wrk(tmp_path: Path) -> None:
    done = pytest_without_wrk(
        tmp_path, f"{SMOKE}::test_parts_run_in_their_fixed_order_whatever_the_order_asked"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
