"""``/events``: the event archive's pages. They call ``hookq.events`` (``hookq events list``,
``show``, ``replay``), which is not part of this build yet: until it is, the page says so
rather than linking nowhere."""

from __future__ import annotations

from aiohttp import web

from hookq.console.views.common import render


async def events_page(request: web.Request) -> web.Response:
    return render(request, "events.html", "events")
