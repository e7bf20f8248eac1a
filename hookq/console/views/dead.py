"""A dead letter: ``/dead?handler=H&id=DELIVERY_ID`` and ``/api/dead`` (same query): its
failure record, traceback, headers and body, masked by the privacy policy (``dlq.report.detail``,
what ``hookq dlq show`` prints). Read as ``hookq dlq show --handler H ID`` reads it: a browse
that keeps only the letters asked for whole."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hookq.console.issues import BROWSE_WAIT
from hookq.console.views.common import api_json, console_of, field, render
from hookq.dlq import operations, report
from hookq.dlq.browse import Reading
from hookq.dlq.queues import connect
from hookq.message import Header

FIELDS = (
    ("Handler", "handler"), ("Queue", "queue"), ("Position", "position"), ("Source", "source"),
    ("Event type", "event_type"), ("Attempts", "attempts"), ("Error type", "error_type"),
    ("Error message", "error_message"), ("First failed", "first_failed_at"),
    ("Failed", "failed_at"), ("Received", "received_at"), ("Replays", "replays"),
    ("Replayed", "replayed_at"), ("Routing key", "routing_key"), ("Content type", "content_type"),
)  # fmt: skip


async def _details(request: web.Request) -> tuple[str, str, list[dict[str, Any]], list[str]]:
    console = console_of(request)
    handler, delivery_id = field(request.query, "handler"), field(request.query, "id")
    reading = Reading(whole=lambda record: record.delivery_id == delivery_id)
    async with await connect(console.settings, "console-show") as connection:
        read = await operations.read_queues(
            connection, console.settings, [handler], wait=BROWSE_WAIT, reading=reading
        )
    found = [r for r in read.records if r.delivery_id == delivery_id]
    return handler, delivery_id, [report.detail(r, console.privacy) for r in found], read.notes


async def dead_page(request: web.Request) -> web.Response:
    handler, delivery_id, details, notes = await _details(request)
    for detail in details:
        # The traceback is shown below in full lines, not inside the header table.
        detail["headers"] = {k: v for k, v in detail["headers"].items() if k != Header.TRACEBACK}
    return render(
        request,
        "dead.html",
        "issues",
        status=200 if details else 404,
        handler=handler,
        delivery_id=delivery_id,
        details=details,
        notes=notes,
        fields=FIELDS,
    )


async def api_dead(request: web.Request) -> web.Response:
    _handler, _id, details, _notes = await _details(request)
    return api_json(details, 200 if details else 404)
