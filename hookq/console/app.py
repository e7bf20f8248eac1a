"""The console's aiohttp application: routes, the two middlewares (errors, then ``auth``), and
the shared state built from the settings."""

from __future__ import annotations

import traceback
from pathlib import Path

import aiormq
import structlog
from aiohttp import web

from hookq.console import auth
from hookq.console.access import Operators
from hookq.console.auth import Handler
from hookq.console.issues import IssueBoard
from hookq.console.rendering import SECURITY_HEADERS, environment
from hookq.console.sampler import Sampler
from hookq.console.sessions import Sessions
from hookq.console.state import CONSOLE, Console
from hookq.console.views import dead, events, handlers, issues, login, overview
from hookq.console.views.common import BadInput, api_error
from hookq.display import safe
from hookq.dlq.browse import QueueBusy
from hookq.dlq.queues import UnknownHandler
from hookq.handlers.api import HandlerSpec
from hookq.privacy import Privacy
from hookq.settings import Settings

STATIC = Path(__file__).with_name("static")
log = structlog.get_logger("hookq.console")


def discover_handlers(settings: Settings) -> tuple[dict[str, HandlerSpec], str]:
    """The handlers a worker with these settings runs; a broken discovery is shown, not fatal
    (operators still reach the dead letters, as ``hookq dlq`` does)."""
    from hookq.handlers.registry import discover

    try:
        return discover(settings), ""
    except Exception as exc:  # a team's module failing to import must not lock operators out
        return {}, f"handler discovery failed: {type(exc).__name__}: {exc}"


def worker_hooks(
    settings: Settings, specs: dict[str, HandlerSpec] | None = None
) -> tuple[list[str], str]:
    """The hooks a worker with these settings runs, as ``hookq handlers`` lists them."""
    from hookq.worker.hook_registry import HookError, hook_names

    try:
        return hook_names(settings, specs), ""
    except HookError as exc:
        return [], str(exc)


def build_console(settings: Settings) -> Console:
    operators = Operators.from_settings(settings)
    specs, discovery_error = discover_handlers(settings)
    hooks, hook_error = worker_hooks(settings, specs)
    return Console(
        settings=settings,
        operators=operators,
        sessions=Sessions.with_secret(
            settings.console_secret, settings.console_session_ttl, operators
        ),
        privacy=Privacy.from_settings(settings),
        templates=environment(),
        specs=specs,
        hooks=hooks,
        board=IssueBoard(settings),
        sampler=Sampler(settings, specs),
        discovery_error="; ".join(e for e in (discovery_error, hook_error) if e),
    )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What cannot be done is said, as JSON to scripts and as text to people; the broker's
    messages and names typed by operators are shown as text."""
    is_api = request.path.startswith("/api/")
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (BadInput, UnknownHandler) as exc:
        status, code, message = 400, "bad_request", str(exc)
    except QueueBusy as exc:
        status, code, message = 503, "busy", str(exc)
    except (OSError, aiormq.exceptions.AMQPError) as exc:
        status, code, message = 503, "broker", f"broker error: {type(exc).__name__}: {exc}"
    except Exception as exc:
        log.error("console error", path=request.path, error=traceback.format_exception(exc))
        status, code = 500, "internal"
        message = f"unexpected error ({type(exc).__name__}); see the console's log"
    if is_api:
        return api_error(status, code, message)
    return web.Response(
        status=status,
        text=f"{status}: {safe(message)}",
        content_type="text/plain",
        headers=dict(SECURITY_HEADERS),
    )


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def favicon(_request: web.Request) -> web.Response:
    return web.Response(status=204)  # browsers ask; there is none


async def _headers(_request: web.Request, response: web.StreamResponse) -> None:
    """Every answer, static files and errors included, with the security headers."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def create_app(console: Console) -> web.Application:
    app = web.Application(middlewares=[errors, auth.authenticate], client_max_size=64 * 1024)
    app.on_response_prepare.append(_headers)
    app[CONSOLE] = console
    r = app.router
    r.add_get("/healthz", healthz)
    r.add_get("/favicon.ico", favicon)
    r.add_get("/login", login.login_page)
    r.add_post("/login", login.login)
    r.add_post("/logout", login.logout)
    r.add_get("/", overview.overview_page)
    r.add_get("/overview/body", overview.overview_body)
    r.add_get("/issues", issues.issues_page)
    r.add_get("/issues/table", issues.issues_table)
    r.add_get("/issues/confirm", issues.confirm_page)
    r.add_post("/issues/{verb}", issues.act)
    r.add_get("/dead", dead.dead_page)
    r.add_get("/handlers", handlers.handlers_page)
    r.add_get("/events", events.events_page)
    r.add_get("/events/show", events.event_page)
    r.add_get("/events/replay", events.replay_confirm)
    r.add_post("/events/replay", events.replay_act)
    r.add_get("/api/overview", overview.api_overview)
    r.add_get("/api/issues", issues.api_issues)
    r.add_post("/api/issues/{verb}", issues.api_act)
    r.add_get("/api/dead", dead.api_dead)
    r.add_get("/api/handlers", handlers.api_handlers)
    r.add_get("/api/events", events.api_events)
    r.add_get("/api/events/show", events.api_event)
    r.add_post("/api/events/replay", events.api_replay)
    r.add_static("/static/", STATIC)
    return app
