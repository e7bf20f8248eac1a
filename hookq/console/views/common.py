"""What every page shares: its frame (who is logged in, the CSRF token for its forms, a notice
left by the previous action) and the JSON answers of the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from hookq.console.auth import OPERATOR, SESSION, set_cookie
from hookq.console.rendering import page
from hookq.console.sessions import FLASH_COOKIE
from hookq.console.state import CONSOLE, Console
from hookq.display import json_text

NAV = (
    ("overview", "/", "Overview"),
    ("issues", "/issues", "Issues"),
    ("events", "/events", "Events"),
    ("handlers", "/handlers", "Handlers"),
)


def console_of(request: web.Request) -> Console:
    return request.app[CONSOLE]


def render(
    request: web.Request, template: str, active: str, status: int = 200, **context: Any
) -> web.Response:
    console = console_of(request)
    session = request[SESSION]
    flash = console.sessions.read_flash(request.cookies.get(FLASH_COOKIE))
    response = page(
        console.templates,
        template,
        status,
        nav=NAV,
        active=active,
        operator=request[OPERATOR],
        csrf=console.sessions.csrf(session.nonce),
        flash=flash,
        insecure=console.operators.insecure,
        **context,
    )
    if flash is not None:
        response.del_cookie(FLASH_COOKIE, path="/")
    return response


def redirect_with_notice(request: web.Request, location: str, notice: str) -> web.HTTPSeeOther:
    """A redirect after an action (so a reload does not repeat it), carrying its outcome."""
    response = web.HTTPSeeOther(location)
    flash = console_of(request).sessions.flash(notice)
    set_cookie(response, request, FLASH_COOKIE, flash, 120)
    return response


def api_json(data: Any, status: int = 200) -> web.Response:
    # display.json_text: control and bidi characters as JSON escapes (a script may print it).
    return web.Response(
        status=status, text=json_text(data, indent=False), content_type="application/json"
    )


def api_error(status: int, error: str, message: str) -> web.Response:
    return api_json({"error": error, "message": message}, status)


class BadInput(ValueError):
    """A request the console cannot act on: 400, with the message (``app.errors``)."""


def field(data: Any, name: str) -> str:
    """A required string of a request's JSON or form (``BadInput`` names it)."""
    value = data.get(name) if isinstance(data, Mapping) else None
    if not isinstance(value, str):
        raise BadInput(f"{name} is required (a string)")
    return value
