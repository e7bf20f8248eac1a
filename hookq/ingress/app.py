"""The aiohttp application: ``POST /webhooks/{source}``, health, readiness and metrics.

Thin by design: the provider module authenticates and identifies, the publisher makes it
durable, and this module only turns their outcomes into HTTP answers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

import orjson
import structlog
from aiohttp import web

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
        return error(404, "unknown_source", f"no source named {name[:40]!r} is enabled")
    response = await _receive(request, source, app[PUBLISHER_KEY], app[SETTINGS_KEY])
    metrics.count_request(name, response.status)
    return response


async def _receive(
    request: web.Request, source: Source, publisher: Publisher, settings: Settings
) -> web.Response:
    limit = settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return error(413, "too_large", f"body over {limit} bytes")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return error(413, "too_large", f"body over {limit} bytes")
    except web.RequestPayloadError:
        return error(400, "bad_body", "body does not match its Content-Encoding")
    received_at = time.time()
    try:
        accepted = source.accept(request.headers, body, received_at)
        check_identity(accepted)
    except WebhookRejected as exc:
        log.info("webhook refused", source=source.name, status=exc.status, reason=str(exc))
        return error(exc.status, exc.code, str(exc))

    started = time.perf_counter()
    try:
        await publisher.publish(source.name, accepted, received_at)
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
    # aiohttp refuses (413) a body that grows past client_max_size while it is read; the
    # Content-Length check above refuses announced ones before reading a byte.
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS_KEY] = settings
    app[SOURCES_KEY] = sources
    app[PUBLISHER_KEY] = publisher
    app[METRICS_KEY] = metrics or IngressMetrics()
    app.router.add_post("/webhooks/{source}", receive_webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    return app
