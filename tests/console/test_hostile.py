"""A dead letter whose delivery id, error and body hold markup, script and terminal escape
sequences is shown as text, in a real browser: the literal text is visible, no script runs
(no dialog, no global it would set, no Content-Security-Policy refusal: the page never even
tried), and control characters are shown as visible escapes (``hookq.display.safe``)."""

from __future__ import annotations

import aiohttp
from aio_pika.abc import AbstractRobustConnection
from playwright.async_api import ConsoleMessage, Dialog, Page, expect

from hookq.settings import Settings
from hookq.topology import Names
from tests.console.conftest import TOKEN, Browser, StartConsole, log_in
from tests.console.support import HANDLER, declare_flaky
from tests.worker.test_dlq_records import dead_message, publish_dead

SCRIPT = "<script>window.__pwned = 1; alert(1)</script>"
IMG = '<img src=x onerror="window.__pwned = 2; alert(2)">'
MARKUP = "<b>bold</b> &amp; </td></tr></table><h1>injected</h1>"
ESCAPES = "\x1b[2J\x1b]0;title\x07\u202e"
EVIL_ID = f"id{SCRIPT}"
EVIL_MESSAGE = f"{IMG} {MARKUP} {ESCAPES}"
EVIL_TYPE = 'Evil"><svg onload=alert(3)>'
SHOWN_ESCAPES = "\\x1b[2J\\x1b]0;title\\x07\\u202e"  # how safe() shows them


class Watch:
    """What a page would show if anything were interpreted: dialogs and CSP refusals."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.refusals: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused" in message.text:
            self.refusals.append(message.text)


async def no_script_ran(page: Page, watch: Watch) -> None:
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    assert watch.dialogs == []
    assert watch.refusals == []
    assert await page.locator("h1", has_text="injected").count() == 0
    assert await page.locator("img[src=x], svg[onload], script:not([src])").count() == 0


async def test_a_hostile_dead_letter_is_shown_as_text(
    console_settings: Settings,
    names: Names,
    amqp: AbstractRobustConnection,
    start_console: StartConsole,
    browser: Browser,
) -> None:
    await declare_flaky(amqp, names)
    letter = dead_message(
        EVIL_ID,
        handler=HANDLER,
        event_type="order.created",
        error_type=EVIL_TYPE,
        error_message=EVIL_MESSAGE,
        body={"note": f"{SCRIPT} {MARKUP} {ESCAPES}", SCRIPT: [IMG]},
    )
    await publish_dead(amqp, names, [letter], handler=HANDLER)
    running = await start_console(console_settings, sample=False)

    page = await browser.page()
    watch = Watch(page)
    await log_in(page, running.url)
    await page.goto(f"{running.url}/issues")
    group = page.locator("tr.issue")
    await expect(group).to_have_count(1)
    await expect(group.locator(".error-type")).to_have_text(EVIL_TYPE)
    await expect(group.locator(".delivery-id")).to_have_text(EVIL_ID)
    await expect(group.locator(".error-message")).to_have_text(f"{IMG} {MARKUP} {SHOWN_ESCAPES}")
    assert await group.get_attribute("data-error-type") == EVIL_TYPE  # an attribute, intact
    await no_script_ran(page, watch)

    await group.locator(".delivery-id").click()  # the dead letter's page
    await expect(page.locator("h1 .delivery-id")).to_have_text(EVIL_ID)
    await expect(page.locator("dd.error_message")).to_have_text(f"{IMG} {MARKUP} {SHOWN_ESCAPES}")
    await expect(page.locator("dd.error_type")).to_have_text(EVIL_TYPE)
    traceback = await page.locator("pre.traceback").inner_text()
    assert f"{EVIL_TYPE}: {IMG} {MARKUP} {SHOWN_ESCAPES}" in traceback
    body = await page.locator("pre.body").inner_text()
    assert SCRIPT in body  # JSON-escaped strings: the markup literally, the controls escaped
    assert "\\u001b[2J" in body
    assert "\x1b" not in body
    await no_script_ran(page, watch)

    # Scripts get JSON in which no control character is raw (the markup is just a string).
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        http.get(f"{running.url}/api/issues") as answer,
    ):
        raw = await answer.read()
    assert b"\x1b" not in raw
    assert "\u202e".encode() not in raw
    groups = await answer.json()
    assert groups[0]["error_type"] == EVIL_TYPE
    assert groups[0]["sample"]["delivery_id"] == EVIL_ID
