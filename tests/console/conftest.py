"""The console under test: served in the test's process on a free port (``start_console``),
driven by Debian's Chromium through Playwright (``browser``), with a real worker process when a
test needs one (``tests.support.workers``).

Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``; CI installs it), launched
headless with a fresh profile per test: never ``playwright install``'s own browser build.

A test that fails leaves a screenshot of each page it had open under its ``tmp_path``
(``screenshots/``), and its failure report names the files (``pytest_runtest_makereport``).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import BrowserContext, Page, async_playwright

from hookq.console.app import build_console, create_app
from hookq.console.sessions import SESSION_COOKIE
from hookq.console.state import Console
from hookq.settings import Settings

TOKEN = "alice-token-0123456789abcdef"
OTHER_TOKEN = "bob-token-fedcba9876543210"
OPERATORS = ("alice", "bob")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = "screenshots"


@pytest.fixture
def console_settings(settings: Settings) -> Settings:
    """The suite's settings with two operators, the console's test handler and quick samples."""
    return settings.model_copy(
        update={
            "console_tokens": [TOKEN, OTHER_TOKEN],
            "console_token_names": list(OPERATORS),
            "console_sample_interval": 0.5,
            "handler_modules": ["tests.console.handlers"],
            "builtin_handlers": [],
        }
    )


@dataclass
class RunningConsole:
    url: str
    console: Console

    async def login_cookies(self, token: str = TOKEN) -> dict[str, str]:
        """Log in as a browser would (the form, then the token); the cookies it ends with."""
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            form = await http.get(f"{self.url}/login")
            csrf = _hidden(await form.text(), "csrf")
            answer = await http.post(
                f"{self.url}/login",
                data={"token": token, "csrf": csrf, "next": "/"},
                allow_redirects=False,
            )
            assert answer.status == 303, await answer.text()
            return {cookie.key: cookie.value for cookie in jar}

    def session_csrf(self, cookies: dict[str, str]) -> str:
        session = self.console.sessions.read(cookies[SESSION_COOKIE])
        assert session is not None
        return self.console.sessions.csrf(session.nonce)


def client(**options: Any) -> aiohttp.ClientSession:
    """An HTTP client that keeps the cookies of an IP address's site (aiohttp's default jar
    drops them), as a browser does."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), **options)


def _hidden(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


StartConsole = Callable[..., Awaitable[RunningConsole]]


@pytest.fixture
async def start_console() -> AsyncIterator[StartConsole]:
    runners: list[tuple[web.AppRunner, Console]] = []

    async def start(settings: Settings, *, sample: bool = True) -> RunningConsole:
        console = build_console(settings)
        runner = web.AppRunner(create_app(console), access_log=None, handle_signals=False)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        if sample:
            await console.sampler.start()
        runners.append((runner, console))
        return RunningConsole(f"http://127.0.0.1:{port}", console)

    yield start
    for runner, console in runners:
        await runner.cleanup()
        await console.sampler.stop()


@dataclass
class Browser:
    """Chromium's context of one test, and the pages opened in it (screenshotted on failure)."""

    context: BrowserContext
    screenshots: Path
    pages: list[Page] = field(default_factory=list)

    async def page(self) -> Page:
        page = await self.context.new_page()
        page.set_default_timeout(15_000)
        self.pages.append(page)
        return page


@pytest.fixture
async def browser(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium", pytrace=False)
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        driven = Browser(context, tmp_path / SCREENSHOTS)
        request.node.console_browser = driven
        try:
            yield driven
        finally:
            report = getattr(request.node, "console_failed", None)
            if report is not None:
                for page, path in zip(driven.pages, report, strict=False):
                    if not page.is_closed():
                        await page.screenshot(path=str(path), full_page=True)
            await context.close()


def screenshot_paths(browser: Browser) -> list[Path]:
    browser.screenshots.mkdir(exist_ok=True)
    return [browser.screenshots / f"page-{n}.png" for n in range(1, len(browser.pages) + 1)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    browser: Browser | None = getattr(item, "console_browser", None)
    if report.when != "call" or not report.failed or browser is None:
        return report
    # Written by the browser fixture's teardown (in the test's event loop), right after this.
    paths = screenshot_paths(browser)
    item.console_failed = paths  # type: ignore[attr-defined]
    listing = "\n".join(f"  {path}" for path in paths) or "  (no page was open)"
    report.sections.append(("console screenshots", f"a screenshot of each page:\n{listing}"))
    return report


async def log_in(page: Page, url: str, token: str = TOKEN) -> None:
    await page.goto(f"{url}/login")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{url}/")


def iter_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_strings(item)
