"""The benchmark's load generator, wrk, is a prerequisite of the tests that run the benchmark.

A run that selected such a test (it uses the ``wrk`` fixture) and has no ``wrk`` on ``PATH``
stops before its first test, saying how to install it: the alternatives were a skip (never, in
this suite) or a failure reported after every other test had run.
"""

from __future__ import annotations

import shutil

import pytest

WRK_MISSING = (
    "wrk is not installed, and the benchmark smoke test (tests/bench) drives the ingress with it. "
    "Install it first: apt-get install -y wrk (macOS: brew install wrk); see the README's "
    "prerequisites."
)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly or shutil.which("wrk"):
        return
    if any("wrk" in getattr(item, "fixturenames", ()) for item in session.items):
        pytest.exit(WRK_MISSING, returncode=pytest.ExitCode.TESTS_FAILED)


@pytest.fixture(scope="session")
def wrk() -> str:
    """The path of wrk; the run stopped before any test if it is missing (see above)."""
    path = shutil.which("wrk")
    if path is None:  # only if the check above was bypassed (e.g. by another plugin)
        pytest.fail(WRK_MISSING, pytrace=False)
    return path
