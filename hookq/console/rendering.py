"""Pages from templates, in which nothing from outside is ever markup.

Jinja2 with autoescaping on for every template (``autoescape=True``, not a file-name rule):
every value is escaped as it is written, in text and in attributes (SVG titles included).
Templates never use ``|safe`` or ``Markup`` (tests/console/test_templates.py checks), so a
provider's id, an error message or a payload string can only ever be text. Characters that
would fool a reader rather than the browser (control and bidi characters, zero-width ones) are
made visible by ``hookq.display.safe``, through the ``shown`` filters, wherever an operator
reads data. Every page is sent with a Content-Security-Policy that allows scripts, styles and
images from the console only (a second wall, should an escape ever be missed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jinja2
from aiohttp import web

from hookq.display import json_text, safe

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def shown(value: Any) -> str:
    """One value on one line, every control character visible (escaped by autoescape next)."""
    return "" if value is None else safe(str(value))


def shown_lines(value: Any) -> str:
    """Text of several lines (a traceback, a body): new lines and tabs kept, the rest visible."""
    return "" if value is None else safe(str(value), lines=True)


def shown_json(value: Any) -> str:
    """A value as indented JSON, unsafe characters as JSON escapes (``display.json_text``)."""
    return json_text(value)


def when(value: float | str | None) -> str:
    """A time as operators read it everywhere in hookq: ISO 8601, UTC, to the second."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return safe(value)
    stamp = datetime.fromtimestamp(value, UTC)
    return stamp.isoformat(timespec="seconds").replace("+00:00", "Z")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hookq.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(shown=shown, shown_lines=shown_lines, shown_json=shown_json, when=when)
    return env


def page(env: jinja2.Environment, template: str, status: int = 200, **context: Any) -> web.Response:
    text = env.get_template(template).render(**context)
    return web.Response(
        status=status, text=text, content_type="text/html", headers=dict(SECURITY_HEADERS)
    )
