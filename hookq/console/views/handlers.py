"""``/handlers`` and ``/api/handlers``: what ``hookq handlers --json`` prints (patterns, queues,
retry policy), and the hooks a worker with these settings runs."""

from __future__ import annotations

from aiohttp import web

from hookq.console.views.common import api_json, console_of, render
from hookq.handlers.cli import describe
from hookq.topology import Names, format_delay


def _listing(request: web.Request) -> list[dict[str, object]]:
    console = console_of(request)
    names = Names(console.settings.namespace)
    return [describe(spec, names) for spec in console.specs.values()]


async def handlers_page(request: web.Request) -> web.Response:
    console = console_of(request)
    return render(
        request,
        "handlers.html",
        "handlers",
        handlers=_listing(request),
        hooks=console.hooks,
        namespace=console.settings.namespace,
        discovery_error=console.discovery_error,
        format_delay=format_delay,
    )


async def api_handlers(request: web.Request) -> web.Response:
    console = console_of(request)
    return api_json(
        {
            "namespace": console.settings.namespace,
            "handlers": _listing(request),
            "hooks": console.hooks,
        }
    )
