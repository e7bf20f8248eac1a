"""Who may see and do what: every page needs a session, every API call a bearer token, every
state-changing page request its session's CSRF token.

- Pages (everything but ``/api/``, ``/login`` and ``/static/``) read the session cookie only;
  without a valid one, the answer is a redirect to the login page (``303``), and nothing runs.
  A ``POST`` without the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``)
  is refused with ``403`` before its view runs: nothing changes.
- The API (``/api/``) reads ``Authorization: Bearer <token>`` only, never the cookie: a page
  of another site can make a browser send cookies, but never this header, so the API needs no
  CSRF token. Without a valid token: ``401``.
- With no token configured (``HOOKQ_CONSOLE_INSECURE``), everyone is the anonymous operator:
  a session is issued to any browser (CSRF tokens still apply), the API takes any request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NoReturn
from urllib.parse import quote

from aiohttp import web

from hookq.console.access import ANONYMOUS, Operator
from hookq.console.sessions import SESSION_COOKIE, Session
from hookq.console.state import CONSOLE, Console

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION = web.RequestKey("session", Session)
OPERATOR = web.RequestKey("operator", Operator)
PUBLIC_PATHS = frozenset({"/login", "/healthz", "/favicon.ico"})
SAFE_METHODS = frozenset({"GET", "HEAD"})


def secure_request(request: web.Request, console: Console) -> bool:
    """Served over HTTPS: directly, or (trusted only when configured) behind a proxy."""
    if request.secure:
        return True
    if not console.settings.console_trust_forwarded_proto:
        return False
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


def set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    value: str,
    max_age: float | None,
) -> None:
    console = request.app[CONSOLE]
    response.set_cookie(
        name,
        value,
        max_age=None if max_age is None else int(max_age),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure_request(request, console),
    )


def bearer_operator(request: web.Request, console: Console) -> Operator | None:
    if console.operators.insecure:
        return ANONYMOUS
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return console.operators.identify(token.strip())


def api_unauthorized() -> web.Response:
    return web.json_response(
        {"error": "unauthorized", "message": "send Authorization: Bearer <console token>"},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="hookq console"'},
    )


def login_redirect(request: web.Request) -> NoReturn:
    target = request.path_qs if request.method in SAFE_METHODS else "/"
    raise web.HTTPSeeOther(f"/login?next={quote(target, safe='')}")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this console only (never another site's)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


async def csrf_token_of(request: web.Request) -> str | None:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("csrf")
        return value if isinstance(value, str) else None
    return None


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    console = request.app[CONSOLE]
    if request.path in PUBLIC_PATHS or request.path.startswith("/static/"):
        return await handler(request)
    if request.path.startswith("/api/"):
        operator = bearer_operator(request, console)
        if operator is None:
            return api_unauthorized()
        request[OPERATOR] = operator
        return await handler(request)
    session = console.sessions.read(request.cookies.get(SESSION_COOKIE))
    issued: str | None = None
    if session is None:
        if not console.operators.insecure:
            login_redirect(request)
        session, issued = console.sessions.issue(ANONYMOUS)
    if request.method not in SAFE_METHODS:
        presented = await csrf_token_of(request)
        if not console.sessions.csrf_ok(session.nonce, presented):
            raise web.HTTPForbidden(
                text="403: this request lacks its CSRF token (reload the page and try again); "
                "nothing was changed"
            )
    request[SESSION] = session
    request[OPERATOR] = session.operator
    response = await handler(request)
    if issued is not None:
        set_cookie(response, request, SESSION_COOKIE, issued, console.sessions.ttl)
    return response
