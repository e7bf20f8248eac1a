"""The aiohttp application: ``POST /webhooks/{source}``, health, readiness and metrics.

Thin by design: the provider module authenticates and identifies, the publisher makes it
durable, and this module only turns their outcomes into HTTP answers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping

import orjson
import structlog
from aiohttp import web
from aiohttp.web_urldispatcher import MatchInfoError, SystemRoute, UrlMappingMatchInfo

from hookq.ingress.body import BodyBudget, Busy, read_body, reservation
from hookq.ingress.metrics import CONTENT_TYPE_LATEST, IngressMetrics
from hookq.ingress.publisher import BrokerUnavailable, Publisher
from hookq.settings import Settings
from hookq.sources.base import Accepted, BadPayload, Source, WebhookRejected

log = structlog.get_logger("hookq.ingress")

# Event types become routing-key words: keep them to characters that cannot be topic syntax.
EVENT_TYPE = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+){0,15}")
MAX_EVENT_TYPE = 200
MAX_DELIVERY_ID = 200

SOURCES_KEY = web.AppKey("sources", dict[str, Source])
PUBLISHER_KEY = web.AppKey("publisher", Publisher)
METRICS_KEY = web.AppKey("metrics", IngressMetrics)
SETTINGS_KEY = web.AppKey("settings", Settings)
BUDGET_KEY = web.AppKey("budget", BodyBudget)
# The trace context to put in the message, when tracing is on (hookq.tracing).
TRACE_KEY = web.RequestKey("trace", dict[str, str])
WEBHOOK_ROUTE = "/webhooks/{source}"


def json_response(status: int, payload: Mapping[str, object], **headers: str) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(payload), content_type="application/json", headers=headers
    )


def error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return json_response(status, {"error": code, "message": message}, **headers)


def check_identity(accepted: Accepted) -> None:
    if len(accepted.event_type) > MAX_EVENT_TYPE or not EVENT_TYPE.fullmatch(accepted.event_type):
        raise BadPayload(
            f"event type {accepted.event_type[:80]!r} is not dot-separated words of "
            "letters, digits, '_' and '-'"
        )
    if len(accepted.delivery_id) > MAX_DELIVERY_ID or not accepted.delivery_id.isprintable():
        raise BadPayload(f"delivery id is not printable or longer than {MAX_DELIVERY_ID}")


async def receive_webhook(request: web.Request) -> web.Response:
    app = request.app
    metrics = app[METRICS_KEY]
    name = request.match_info["source"]
    source = app[SOURCES_KEY].get(name)
    if source is None:
        metrics.count_request("unknown", 404)
        # The name is not repeated: an answer never echoes what the sender sent.
        return error(404, "unknown_source", "no source of that name is enabled")
    try:
        response = await _receive(request, source, app[PUBLISHER_KEY], app[SETTINGS_KEY])
    except Exception:
        # A bug, not the sender's fault: a JSON 500, logged and counted like any answer.
        log.exception("unexpected error", source=name)
        response = error(500, "internal_error", "not queued; the ingress failed, retry later")
    metrics.count_request(name, response.status)
    return response


async def _receive(
    request: web.Request, source: Source, publisher: Publisher, settings: Settings
) -> web.Response:
    budget = request.app[BUDGET_KEY]
    try:
        reserved = reservation(request, settings.max_body_bytes)
        budget.reserve(reserved)
    except Busy as exc:
        return error(exc.status, exc.code, str(exc), **{"Retry-After": str(settings.retry_after)})
    except WebhookRejected as exc:
        return error(exc.status, exc.code, str(exc))
    try:
        return await _receive_body(request, source, publisher, settings)
    finally:
        budget.release(reserved)


async def _receive_body(
    request: web.Request, source: Source, publisher: Publisher, settings: Settings
) -> web.Response:
    try:
        body = await read_body(request, settings.max_body_bytes, settings.ingress_body_timeout)
        received_at = time.time()
        accepted = source.accept(request.headers, body, received_at)
        check_identity(accepted)
    except WebhookRejected as exc:
        log.info("webhook refused", source=source.name, status=exc.status, reason=str(exc))
        return error(exc.status, exc.code, str(exc))

    started = time.perf_counter()
    try:
        await publisher.publish(source.name, accepted, received_at, request.get(TRACE_KEY))
    except BrokerUnavailable as exc:
        log.warning(
            "broker did not confirm",
            source=source.name,
            delivery_id=accepted.delivery_id,
            error=str(exc),
        )
        return error(
            503,
            "broker_unavailable",
            "not queued; retry later",
            **{"Retry-After": str(settings.retry_after)},
        )
    request.app[METRICS_KEY].observe_publish(source.name, time.perf_counter() - started)
    # Exactly 200 (not 202): LiveChat counts anything else as a failed delivery.
    return json_response(200, {"delivery_id": accepted.delivery_id})


Handler = Callable[[web.Request], Awaitable[web.Response]]


def traced(handler: Handler) -> Handler:
    """``handler`` inside the ingress's server span, which continues the caller's
    ``traceparent`` (or starts a trace) and whose context travels in the message headers.
    Only built when tracing is on: off, a request pays nothing for it."""
    from hookq import tracing

    async def receive(request: web.Request) -> web.Response:
        source = request.match_info["source"]
        with tracing.receiving(request.headers, source, WEBHOOK_ROUTE) as (span, carrier):
            request[TRACE_KEY] = carrier
            response = await handler(request)
            span.set_attribute("http.response.status_code", response.status)
            return response

    return receive


# What aiohttp answers a request no route takes, as JSON codes.
HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}


class JsonErrorRoute(SystemRoute):
    """The answer to a request no route takes (aiohttp's 404 or 405), as JSON."""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        exc = self._http_exception
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        return error(
            exc.status, HTTP_ERROR_CODES.get(exc.status, "http_error"), exc.reason, **allow
        )


def answer_unrouted_in_json(router: web.UrlDispatcher) -> None:
    """What ``router`` cannot route (aiohttp's 404 and 405) is answered in JSON.

    Every error answer is JSON without a middleware, which aiohttp would run around every
    request (with one of its own): about 5 us per webhook (docs/benchmarks.md). The routes'
    handlers answer their own errors (``json_500`` for the small ones). (aiohttp deprecates
    giving an application a router of another class: this one's resolution is wrapped.)"""
    resolve = router.resolve

    async def resolve_or_answer(request: web.Request) -> UrlMappingMatchInfo:
        match = await resolve(request)
        if isinstance(match, MatchInfoError):
            return UrlMappingMatchInfo({}, JsonErrorRoute(match.http_exception))
        return match

    router.resolve = resolve_or_answer  # type: ignore[method-assign]


def json_500(handler: Handler) -> Handler:
    """``handler``, whose unexpected exception is a JSON 500, logged and counted."""

    async def answer(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except Exception:
            log.exception("unexpected error", path=request.path[:80])
            request.app[METRICS_KEY].count_request("none", 500)
            return error(500, "internal_error", "the ingress failed; retry later")

    return answer


async def healthz(_request: web.Request) -> web.Response:
    return json_response(200, {"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    if request.app[PUBLISHER_KEY].ready:
        return json_response(200, {"status": "ready"})
    return json_response(503, {"status": "broker not connected"})


async def metrics_view(request: web.Request) -> web.Response:
    return web.Response(
        body=request.app[METRICS_KEY].render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


def create_app(
    settings: Settings,
    sources: dict[str, Source],
    publisher: Publisher,
    metrics: IngressMetrics | None = None,
) -> web.Application:
    # The body limit is ``read_body``'s; aiohttp's own (client_max_size) applies to reads the
    # ingress does not make.
    app = web.Application(client_max_size=settings.max_body_bytes)
    answer_unrouted_in_json(app.router)
    if settings.tracing_enabled:
        from hookq import tracing

        tracing.configure(settings)
    app[SETTINGS_KEY] = settings
    app[BUDGET_KEY] = BodyBudget(settings.max_bodies_in_flight_bytes)
    app[SOURCES_KEY] = sources
    app[PUBLISHER_KEY] = publisher
    app[METRICS_KEY] = metrics or IngressMetrics()
    app.router.add_post(
        WEBHOOK_ROUTE, traced(receive_webhook) if settings.tracing_enabled else receive_webhook
    )
    app.router.add_get("/healthz", json_500(healthz))
    app.router.add_get("/readyz", json_500(readyz))
    app.router.add_get("/metrics", json_500(metrics_view))
    return app
