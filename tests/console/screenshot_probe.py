"""A browser test that fails on purpose, for test_screenshots.py (run only by it: its name is
not ``test_*.py``, so the suite does not collect it)."""

from __future__ import annotations

from hookq.settings import Settings
from tests.console.conftest import Browser, StartConsole, log_in


async def test_fails_with_two_pages_open(
    console_settings: Settings, start_console: StartConsole, browser: Browser
) -> None:
    running = await start_console(console_settings, sample=False)
    first = await browser.page()
    await log_in(first, running.url)
    second = await browser.page()
    await second.goto(f"{running.url}/handlers")
    raise AssertionError("failing on purpose: the screenshots must be written and named")
