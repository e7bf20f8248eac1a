"""A failed browser test leaves a screenshot of each page it had open under its own temporary
directory, and its failure report names them (tests/console/conftest.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.workers import REPO

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_failed_browser_test_writes_and_names_a_screenshot_of_each_page(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "tests/console/screenshot_probe.py"),
            *("-p", "no:cacheprovider", "--basetemp", str(tmp_path / "inner"), "-q"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "console screenshots" in done.stdout
    named = [Path(p) for p in re.findall(r"^\s+(/\S+\.png)$", done.stdout, flags=re.MULTILINE)]
    assert [p.name for p in named] == ["page-1.png", "page-2.png"], done.stdout
    for path in named:
        assert path.is_relative_to(tmp_path / "inner")
        assert path.read_bytes().startswith(PNG)
