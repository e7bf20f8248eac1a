"""Issues: ``/issues`` (the groups, refreshing themselves), ``/issues/confirm`` (how many
letters an action will touch), ``POST /issues/replay|purge``; and ``/api/issues`` (GET, and
POST ``/api/issues/replay|purge`` with a group's handler, event type and error type)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hookq.console import actions
from hookq.console.auth import OPERATOR
from hookq.console.issues import IssueKey
from hookq.console.views.common import (
    BadInput,
    api_json,
    console_of,
    field,
    redirect_with_notice,
    render,
)

VERBS = {"replay": "Replay", "purge": "Purge"}
PAST = {"replay": "replayed", "purge": "purged"}


def key_of(data: Any) -> IssueKey:
    return IssueKey(field(data, "handler"), field(data, "event_type"), field(data, "error_type"))


def verb_of(request: web.Request) -> str:
    verb = request.match_info.get("verb") or request.query.get("action", "")
    if verb not in VERBS:
        raise BadInput(f"unknown action {verb!r}: replay or purge")
    return verb


async def _board(request: web.Request) -> dict[str, Any]:
    console = console_of(request)
    board = await console.board.read()
    rows = [
        {
            "issue": issue,
            "json": issue.as_json(console.privacy),
            "dead_query": ""
            if issue.sample is None
            else urlencode({"handler": issue.key.handler, "id": issue.sample.delivery_id}),
        }
        for issue in board.issues
    ]
    return {"board": board, "rows": rows}


async def issues_page(request: web.Request) -> web.Response:
    return render(request, "issues.html", "issues", **await _board(request))


async def issues_table(request: web.Request) -> web.Response:
    """The table alone: what the page fetches to refresh itself (server-rendered, escaped)."""
    return render(request, "_issues_table.html", "issues", **await _board(request))


async def confirm_page(request: web.Request) -> web.Response:
    verb, key = verb_of(request), key_of(request.query)
    preview = await actions.preview(console_of(request).settings, key)
    return render(
        request, "confirm.html", "issues", verb=verb, label=VERBS[verb], key=key, preview=preview
    )


async def act(request: web.Request) -> web.Response:
    verb, key = verb_of(request), key_of(await request.post())
    console = console_of(request)
    moved = await actions.act_on_issue(console.settings, request[OPERATOR], verb, key)
    console.board.invalidate()
    raise redirect_with_notice(request, "/issues", f"{VERBS[verb]}: {actions.summary(moved)}")


async def api_issues(request: web.Request) -> web.Response:
    console = console_of(request)
    board = await console.board.read()
    return api_json([issue.as_json(console.privacy) for issue in board.issues])


async def api_act(request: web.Request) -> web.Response:
    verb = verb_of(request)
    try:
        data = await request.json()
    except ValueError:
        raise BadInput("the body must be JSON: {handler, event_type, error_type}") from None
    key = key_of(data)
    console = console_of(request)
    moved = await actions.act_on_issue(console.settings, request[OPERATOR], verb, key)
    console.board.invalidate()
    return api_json(
        {
            "action": verb,
            "handler": key.handler,
            "event_type": key.event_type,
            "error_type": key.error_type,
            PAST[verb]: moved.done,
            "complete": moved.complete,
            "run_id": moved.run_id,
            "summary": actions.summary(moved),
        }
    )
