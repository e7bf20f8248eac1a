"""``/login`` and ``/logout``: a token exchanged for a session cookie.

A wrong token and a right one take the same path through ``Operators.identify`` (every token
compared, in constant time); a refusal is logged with the address it came from, never with
what was typed.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from hookq.console.access import ANONYMOUS
from hookq.console.auth import OPERATOR, safe_next, set_cookie
from hookq.console.rendering import page
from hookq.console.sessions import LOGIN_COOKIE, LOGIN_TTL, SESSION_COOKIE
from hookq.console.views.common import console_of

log = structlog.get_logger("hookq.console")


def _form(request: web.Request, status: int = 200, error: str = "") -> web.Response:
    console = console_of(request)
    cookie, csrf = console.sessions.login_form(request.cookies.get(LOGIN_COOKIE))
    response = page(
        console.templates,
        "login.html",
        status,
        csrf=csrf,
        next=safe_next(request.query.get("next")),
        error=error,
        insecure=console.operators.insecure,
    )
    set_cookie(response, request, LOGIN_COOKIE, cookie, LOGIN_TTL)
    return response


async def login_page(request: web.Request) -> web.Response:
    return _form(request)


async def login(request: web.Request) -> web.Response:
    console = console_of(request)
    form = await request.post()
    nonce = console.sessions.login_nonce(request.cookies.get(LOGIN_COOKIE))
    presented = form.get("csrf")
    if nonce is None or not console.sessions.csrf_ok(
        nonce, presented if isinstance(presented, str) else None, "login"
    ):
        raise web.HTTPForbidden(
            text="403: the login form expired or was not this console's; reload the login page"
        )
    token = form.get("token")
    operator = console.operators.identify(token if isinstance(token, str) else "")
    if operator is None and not console.operators.insecure:
        log.warning("console login refused", remote=request.remote)
        return _form(request, 401, "That token is not one of this console's.")
    operator = operator or ANONYMOUS
    _session, cookie = console.sessions.issue(operator)
    log.info("console login", operator=operator.name, remote=request.remote)
    target = form.get("next")
    response = web.HTTPSeeOther(safe_next(target if isinstance(target, str) else None))
    set_cookie(response, request, SESSION_COOKIE, cookie, console.sessions.ttl)
    response.del_cookie(LOGIN_COOKIE, path="/")
    raise response


async def logout(request: web.Request) -> web.Response:
    log.info("console logout", operator=request[OPERATOR].name)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
