"""Who may see and do what: pages need a session (else the login page), the API a bearer token
(else 401), every state-changing page request its CSRF token (else 403, and nothing changed);
tokens are compared in constant time; sessions are signed, expire, and end with their token;
every action is logged with who did it, never with a token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import pytest
from aio_pika.abc import AbstractRobustConnection
from structlog.testing import capture_logs

from hookq.console import access
from hookq.console.access import Operators
from hookq.console.sessions import LOGIN_COOKIE, SESSION_COOKIE, Sessions
from hookq.settings import Settings
from hookq.topology import Names
from tests.console.conftest import OTHER_TOKEN, TOKEN, StartConsole, client
from tests.console.support import HANDLER, dead_count, declare_flaky
from tests.support.events import ready_count
from tests.worker.test_dlq_records import dead_message, publish_dead

PAGES = (
    "/",
    "/overview/body",
    "/issues",
    "/issues/table",
    "/handlers",
    "/events",
    "/dead?handler=x&id=y",
)
API = ("/api/overview", "/api/issues", "/api/handlers", "/api/dead?handler=x&id=y")
GROUP = {"handler": HANDLER, "event_type": "thread.chat_sent", "error_type": "RuntimeError"}


async def three_dead(amqp: AbstractRobustConnection, names: Names) -> None:
    await declare_flaky(amqp, names)
    letters = [dead_message(f"d{n}", handler=HANDLER) for n in range(3)]
    await publish_dead(amqp, names, letters, handler=HANDLER)


async def handler_queue_ready(amqp: AbstractRobustConnection, names: Names) -> int:
    channel = await amqp.channel()
    try:
        return await ready_count(channel, names.handler_queue(HANDLER))
    finally:
        await channel.close()


async def test_pages_without_a_session_redirect_to_the_login_page(
    console_settings: Settings, start_console: StartConsole
) -> None:
    running = await start_console(console_settings, sample=False)
    # A bearer token is not a session: pages read the cookie only.
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with client(headers=headers) as http:
        for path in PAGES:
            async with http.get(f"{running.url}{path}", allow_redirects=False) as answer:
                assert answer.status == 303, path
                assert answer.headers["Location"].startswith("/login?next=/"), path
        for path in ("/issues/replay", "/issues/purge", "/logout"):
            async with http.post(f"{running.url}{path}", allow_redirects=False) as answer:
                assert answer.status == 303, path
                assert answer.headers["Location"].startswith("/login"), path


async def test_the_api_without_a_bearer_token_is_401_even_with_a_session(
    console_settings: Settings, start_console: StartConsole
) -> None:
    running = await start_console(console_settings, sample=False)
    cookies = await running.login_cookies()
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token-of-this-console"},
        {"Authorization": TOKEN},
    ):
        async with client(cookies=cookies, headers=headers) as http:
            for path in API:
                async with http.get(f"{running.url}{path}") as answer:
                    assert answer.status == 401, (path, headers)
                    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
                    assert (await answer.json())["error"] == "unauthorized"
            async with http.post(f"{running.url}/api/issues/replay", json=GROUP) as answer:
                assert answer.status == 401


async def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
    console_settings: Settings,
    names: Names,
    amqp: AbstractRobustConnection,
    start_console: StartConsole,
) -> None:
    await three_dead(amqp, names)
    running = await start_console(console_settings, sample=False)
    alice = await running.login_cookies()
    bob = await running.login_cookies(OTHER_TOKEN)
    forged = [
        {},  # none
        {"csrf": "0" * 64},  # a wrong one
        {"csrf": running.session_csrf(bob)},  # another session's
    ]
    async with client(cookies=alice) as http:
        for verb in ("replay", "purge"):
            for extra in forged:
                url = f"{running.url}/issues/{verb}"
                async with http.post(url, data=GROUP | extra, allow_redirects=False) as answer:
                    assert answer.status == 403, (verb, extra)
                    assert "nothing was changed" in await answer.text()
        assert await dead_count(amqp, names) == 3
        assert await handler_queue_ready(amqp, names) == 0
        # A logout without it leaves the session working.
        async with http.post(f"{running.url}/logout", allow_redirects=False) as answer:
            assert answer.status == 403
        async with http.get(f"{running.url}/issues", allow_redirects=False) as answer:
            assert answer.status == 200

        # With the token, the same request is carried out.
        data = GROUP | {"csrf": running.session_csrf(alice)}
        async with http.post(
            f"{running.url}/issues/replay", data=data, allow_redirects=False
        ) as answer:
            assert answer.status == 303
    assert await dead_count(amqp, names) == 0
    assert await handler_queue_ready(amqp, names) == 3


async def test_a_login_without_the_forms_token_is_refused(
    console_settings: Settings, start_console: StartConsole
) -> None:
    running = await start_console(console_settings, sample=False)
    async with client() as http:
        answer = await http.post(
            f"{running.url}/login", data={"token": TOKEN}, allow_redirects=False
        )
        assert answer.status == 403
        assert SESSION_COOKIE not in {c.key for c in http.cookie_jar}


class Spy:
    """Counts the calls of ``access.compare_digest``, passing them through."""

    def __init__(self, real: Callable[[bytes, bytes], bool]) -> None:
        self.real = real
        self.calls = 0

    def __call__(self, a: bytes, b: bytes) -> bool:
        self.calls += 1
        assert len(a) == len(b)  # equal lengths: the only case compare_digest is constant-time
        return self.real(a, b)


@pytest.mark.parametrize(
    "presented",
    [TOKEN, OTHER_TOKEN, "wrong-token-0123456789abcdef", TOKEN[:-1], TOKEN + "x", "", "ä" * 40],
    ids=["first", "second", "wrong", "prefix", "longer", "empty", "non-ascii"],
)
def test_a_token_is_compared_with_every_configured_token_whichever_it_is(
    presented: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why a spy and not a stopwatch: a timing test of a microsecond difference is flaky on a
    # shared 2-core machine, and it would prove less. What makes the comparison constant-time
    # is that every presented token takes the same path: hashed to a fixed length, then
    # compared with hmac.compare_digest against every configured token, with no early exit on
    # a match or on a length. That path is what this counts.
    spy = Spy(access.compare_digest)
    monkeypatch.setattr(access, "compare_digest", spy)
    operators = Operators([TOKEN, OTHER_TOKEN, "third-token-0123456789abcdef"], ["a", "b", "c"])
    found = operators.identify(presented)
    assert spy.calls == 3
    expected = {TOKEN: "a", OTHER_TOKEN: "b"}.get(presented)
    assert (found.name if found else None) == expected


async def test_logins_and_bearer_tokens_take_the_same_comparisons_right_or_wrong(
    console_settings: Settings, start_console: StartConsole, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = await start_console(console_settings, sample=False)
    spy = Spy(access.compare_digest)
    monkeypatch.setattr(access, "compare_digest", spy)
    counts = []
    for token in (TOKEN, "wrong-token-0123456789abcdef"):
        spy.calls = 0
        async with client() as http:
            form = await http.get(f"{running.url}/login")
            html = await form.text()
            csrf = html.split('name="csrf" value="')[1].split('"')[0]
            await http.post(
                f"{running.url}/login",
                data={"token": token, "csrf": csrf},
                allow_redirects=False,
            )
            await http.get(
                f"{running.url}/api/issues", headers={"Authorization": f"Bearer {token}"}
            )
        counts.append(spy.calls)
    assert counts == [4, 4]  # two tokens, twice (the form, the API), right or wrong


async def test_sessions_are_signed_expire_and_end_with_their_token(
    console_settings: Settings, start_console: StartConsole
) -> None:
    short = console_settings.model_copy(
        update={"console_session_ttl": 1.0, "console_secret": "k" * 40}
    )
    running = await start_console(short, sample=False)
    cookies = await running.login_cookies(OTHER_TOKEN)
    value = cookies[SESSION_COOKIE]
    sessions = running.console.sessions
    assert sessions.read(value) is not None
    assert sessions.read(value[:-2] + ("AA" if value[-2:] != "AA" else "BB")) is None  # altered
    # Another console with the same key, where bob's token was removed (rotated out).
    rotated = Operators([TOKEN], ["alice"])
    assert Sessions(b"k" * 40, 3600, rotated).read(value) is None
    # Bob's token moved to the first place: the session is bound to the token, not the place.
    moved = Operators([OTHER_TOKEN, TOKEN], ["bob", "alice"])
    assert Sessions(b"k" * 40, 3600, moved).read(value) is None
    await asyncio.sleep(2.1)
    async with (
        client(cookies=cookies) as http,
        http.get(f"{running.url}/issues", allow_redirects=False) as answer,
    ):
        assert answer.status == 303  # expired


async def test_cookies_are_httponly_samesite_strict_and_secure_over_https_only(
    console_settings: Settings, start_console: StartConsole
) -> None:
    async def login_cookie_header(settings: Settings, headers: dict[str, str]) -> str:
        running = await start_console(settings, sample=False)
        # No cookie jar: behind a proxy, a Secure cookie crosses plain HTTP to the console.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            async with http.get(f"{running.url}/login", headers=headers) as form:
                html = await form.text()
                login = form.cookies[LOGIN_COOKIE]
                assert "HttpOnly" in login.output()
            csrf = html.split('name="csrf" value="')[1].split('"')[0]
            async with http.post(
                f"{running.url}/login",
                data={"token": TOKEN, "csrf": csrf},
                headers=headers | {"Cookie": f"{LOGIN_COOKIE}={login.value}"},
                allow_redirects=False,
            ) as answer:
                cookie = answer.cookies[SESSION_COOKIE]
                return cookie.output()

    https = {"X-Forwarded-Proto": "https"}
    plain = await login_cookie_header(console_settings, https)  # the header is not trusted
    assert "HttpOnly" in plain
    assert "SameSite=Strict" in plain
    assert "Path=/" in plain
    assert "Secure" not in plain
    trusting = console_settings.model_copy(update={"console_trust_forwarded_proto": True})
    assert "Secure" in await login_cookie_header(trusting, https)
    assert "Secure" not in await login_cookie_header(trusting, {})


async def test_after_login_only_this_consoles_paths_are_followed(
    console_settings: Settings, start_console: StartConsole
) -> None:
    running = await start_console(console_settings, sample=False)
    for target, expected in [
        ("/issues", "/issues"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ]:
        async with client() as http:
            form = await http.get(f"{running.url}/login")
            csrf = (await form.text()).split('name="csrf" value="')[1].split('"')[0]
            answer = await http.post(
                f"{running.url}/login",
                data={"token": TOKEN, "csrf": csrf, "next": target},
                allow_redirects=False,
            )
            assert answer.headers["Location"] == expected, target


async def test_every_action_is_logged_with_who_did_it_and_never_the_token(
    console_settings: Settings,
    names: Names,
    amqp: AbstractRobustConnection,
    start_console: StartConsole,
) -> None:
    await three_dead(amqp, names)
    running = await start_console(console_settings, sample=False)
    with capture_logs() as logs:
        cookies = await running.login_cookies(OTHER_TOKEN)
        async with client(cookies=cookies) as http:
            data = GROUP | {"csrf": running.session_csrf(cookies)}
            await http.post(f"{running.url}/issues/purge", data=data, allow_redirects=False)
        async with client() as http:
            form = await http.get(f"{running.url}/login")
            csrf = (await form.text()).split('name="csrf" value="')[1].split('"')[0]
            await http.post(f"{running.url}/login", data={"token": "x" * 20, "csrf": csrf})
    events = [(e["event"], e.get("operator")) for e in logs if e["event"].startswith("console")]
    assert events == [
        ("console login", "bob"),
        ("console purge", "bob"),
        ("console login refused", None),
    ]
    purge = next(e for e in logs if e["event"] == "console purge")
    assert purge["done"] == 3
    assert (purge["handler"], purge["error_type"]) == (HANDLER, "RuntimeError")
    assert not [
        e for e in logs if any(TOKEN in str(v) or OTHER_TOKEN in str(v) for v in e.values())
    ]
    assert await dead_count(amqp, names) == 0


def test_the_login_cookie_is_reused_while_valid() -> None:
    sessions = Sessions(b"k" * 40, 3600, Operators([TOKEN]))
    cookie, csrf = sessions.login_form(None)
    assert sessions.login_form(cookie) == (cookie, csrf)
    assert sessions.login_form("tampered")[0] != cookie
