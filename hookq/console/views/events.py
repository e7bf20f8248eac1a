"""The event archive: ``/events`` (search), ``/events/show?id=`` (an event's trace, what
``hookq events show`` prints), ``/events/replay`` (how many events a replay will send, then
``POST`` to send them); and ``/api/events``, ``/api/events/show``, ``POST /api/events/replay``.

Every read and the replay are ``hookq.events``'s functions, the ones the CLI runs: a search is a
``Selection``, a replay from here is ``hookq events replay`` with the same selection (one event:
its delivery id), and the JSON answers are ``hookq events list|show|replay --json``'s shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import structlog
from aiohttp import web

from hookq.console.auth import OPERATOR
from hookq.console.views.common import (
    BadInput,
    api_json,
    console_of,
    field,
    redirect_with_notice,
    render,
)
from hookq.events import (
    ArchivedEvent,
    ArchiveMissing,
    ReplayError,
    Selection,
    replay,
    search,
    trace,
)
from hookq.events import render as shapes
from hookq.events.selection import time_or_none

log = structlog.get_logger("hookq.console")

DEFAULT_SINCE = "24h"  # a search with no window reads the last day, not the whole archive
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000  # rows one page or API answer holds
FILTERS = ("source", "type", "since", "until", "contains", "ids", "limit")
ALL_BOUND = ""  # the replay form's "every handler bound to each event"


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string")
    return value.strip() or None


def selection_of(
    data: Mapping[str, Any], *, default_limit: int | None = DEFAULT_LIMIT
) -> Selection:
    """A search's filters, from a query, a form or an API body (``hookq events list``'s
    options, same syntax); ``BadInput`` names the one that is wrong. Without a limit: at most
    ``default_limit`` events (a page's rows; a replay takes every match)."""
    ids = data.get("ids") or ()
    if isinstance(ids, str):
        ids = ids.replace(",", " ").split()
    if not isinstance(ids, list | tuple) or not all(isinstance(i, str) for i in ids):
        raise BadInput("ids must be delivery ids (a list, or separated by spaces or commas)")
    try:
        return Selection.typed(
            source=_text(data, "source"),
            type_pattern=_text(data, "type"),
            since=_text(data, "since"),
            until=_text(data, "until"),
            contains=_text(data, "contains"),
            ids=ids,
            limit=_limit(data.get("limit"), default_limit),
        )
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def _limit(value: Any, default: int | None) -> int | None:
    if value is None or value == "":
        return default
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise BadInput("limit must be a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _search_query(request: web.Request) -> dict[str, str]:
    """The page's filters as given, the default window filled in (shown in the form)."""
    given = {name: request.query.get(name, "") for name in FILTERS}
    if not any(given[name] for name in ("since", "until", "ids")):
        given["since"] = DEFAULT_SINCE
    given["limit"] = given["limit"] or str(DEFAULT_LIMIT)  # so a replay sends what is shown
    return given


async def _found(request: web.Request, selection: Selection) -> tuple[list[Any], str]:
    try:
        return await search(console_of(request).settings, selection), ""
    except ArchiveMissing as exc:
        return [], str(exc)


async def events_page(request: web.Request) -> web.Response:
    query = _search_query(request)
    found, missing = await _found(request, selection_of(query))
    rows = [shapes.row(event) | {"show": _show_query(event)} for event in found]
    return render(
        request,
        "events.html",
        "events",
        query=query,
        rows=rows,
        missing=missing,
        handlers=sorted(console_of(request).specs),
    )


def _show_query(event: ArchivedEvent) -> str:
    # From its receipt: the trace reads from there, not the whole archive.
    return urlencode({"id": event.delivery_id, "since": shapes.iso(event.received_at)})


async def _trace(request: web.Request) -> dict[str, Any] | None:
    console = console_of(request)
    try:
        moment = time_or_none(_text(request.query, "since"))
    except ValueError as exc:
        raise BadInput(f"since: {exc}") from None
    try:
        found = await trace(console.settings, field(request.query, "id"), since=moment)
    except ArchiveMissing:
        return None
    return None if found is None else shapes.detail(found, console.privacy)


async def event_page(request: web.Request) -> web.Response:
    shown = await _trace(request)
    return render(
        request,
        "event.html",
        "events",
        status=200 if shown else 404,
        delivery_id=request.query.get("id", ""),
        event=shown,
        handlers=sorted(console_of(request).specs),
    )


def _handlers(data: Mapping[str, Any]) -> list[str] | None:
    """The replay's handler (None: every handler bound to each event)."""
    handler = data.get("handler", ALL_BOUND)
    if not isinstance(handler, str):
        raise BadInput("handler must be a handler's name (or empty: every bound handler)")
    return [handler] if handler != ALL_BOUND else None


async def _replay(
    request: web.Request, data: Mapping[str, Any], *, dry_run: bool
) -> dict[str, object]:
    console = console_of(request)
    selection, handlers = selection_of(data, default_limit=None), _handlers(data)
    try:
        summary = await replay(console.settings, selection, handlers, dry_run=dry_run)
    except (ReplayError, ArchiveMissing) as exc:
        raise BadInput(str(exc)) from None
    if not dry_run:
        log.info(
            "console events replay",
            operator=request[OPERATOR].name,
            replay_id=summary.replay_id,
            handlers=list(summary.handlers),
            matched=summary.matched,
            sent=summary.sent,
            selection=selection.to_json(),
        )
    return summary.to_json()


async def replay_confirm(request: web.Request) -> web.Response:
    """How many events a replay will send, and to which handlers, before it sends them."""
    planned = await _replay(request, request.query, dry_run=True)
    given = {name: request.query[name] for name in (*FILTERS, "handler") if name in request.query}
    return render(request, "event_replay.html", "events", planned=planned, given=given)


async def replay_act(request: web.Request) -> web.Response:
    done = await _replay(request, await request.post(), dry_run=False)
    raise redirect_with_notice(
        request,
        "/events",
        f"replay {done['replay_id']}: matched {done['matched']}, sent {done['sent']}",
    )


async def api_events(request: web.Request) -> web.Response:
    found, missing = await _found(request, selection_of(request.query))
    if missing:
        return api_json({"error": "no_archive", "message": missing}, 404)
    return api_json([shapes.row(event) for event in found])


async def api_event(request: web.Request) -> web.Response:
    shown = await _trace(request)
    if shown is None:
        return api_json({"error": "not_found", "message": "no archived event with this id"}, 404)
    return api_json(shown)


async def api_replay(request: web.Request) -> web.Response:
    try:
        data = await request.json()
    except ValueError:
        raise BadInput("the body must be JSON: {handler, source, type, since, ...}") from None
    if not isinstance(data, dict):
        raise BadInput("the body must be a JSON object")
    return api_json(await _replay(request, data, dry_run=bool(data.get("dry_run", False))))
