"""Every page and API view answers for a logged-in operator, with what it is for."""

from __future__ import annotations

import aiohttp

from hookq.settings import Settings
from tests.console.conftest import TOKEN, StartConsole

# Each page, and a text only it shows. The fragments are what pages fetch to refresh a part.
PAGES = {
    "/": "<h1>Overview</h1>",
    "/overview/body": "<h2>Archive</h2>",
    "/issues": "<h1>Issues</h1>",
    "/issues/table": "No dead letters.",
    "/handlers": "<h1>Handlers</h1>",
    "/events": "<h1>Events</h1>",
}


async def test_every_page_answers_a_logged_in_operator(
    console_settings: Settings, start_console: StartConsole
) -> None:
    running = await start_console(console_settings)
    cookies = await running.login_cookies()
    async with aiohttp.ClientSession(cookies=cookies) as http:
        for path, shows in PAGES.items():
            async with http.get(f"{running.url}{path}", allow_redirects=False) as answer:
                text = await answer.text()
                assert answer.status == 200, (path, text)
                assert shows in text
                assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
        async with http.get(f"{running.url}/handlers") as answer:
            assert "flaky" in await answer.text()


async def test_every_api_view_answers_a_bearer(
    console_settings: Settings, start_console: StartConsole
) -> None:
    running = await start_console(console_settings)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for path in ("/api/overview", "/api/issues", "/api/handlers"):
            async with http.get(f"{running.url}{path}") as answer:
                assert answer.status == 200, (path, await answer.text())
                assert answer.content_type == "application/json"
