"""aiohttp's connection handling, bounded and answering JSON.

aiohttp answers what its HTTP parser refuses (a bad header line, a line too long, an unknown
method or version) in ``RequestHandler.handle_error``, before any application code runs, as
text that repeats the offending line. ``IngressProtocol`` answers those, like every other error
of the ingress, as ``{"error": code, "message": why}`` without echoing any input, and counts
them. aiohttp builds its ``RequestHandler`` in ``Server.__call__``: ``IngressServer`` builds
ours, and ``IngressRunner`` (an ``AppRunner``) serves the application through it.

Connection bounds (aiohttp's defaults keep an idle connection for an hour and drain a refused
body for ten seconds):

- keep-alive: an idle connection, or one still sending a request's headers, is closed after
  ``ingress_keepalive_timeout`` (aiohttp's keep-alive timer runs while no complete request has
  arrived, headers included);
- no lingering close: a request answered before its body was read is closed at once, so the
  rest of the body is never read or decompressed.
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import http_exceptions, web

from hookq.ingress.app import METRICS_KEY, error
from hookq.ingress.metrics import IngressMetrics
from hookq.settings import Settings

log = structlog.get_logger("hookq.ingress")

# The ``source`` label of requests refused before they reached a route.
UNPARSED = "unparsed"

# Why the parser refused, by exception class (first match): said without repeating the input.
PARSER_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (http_exceptions.LineTooLong, "the request line or a header is too long"),
    (http_exceptions.BadHttpMethod, "the request method is not valid"),
    (http_exceptions.BadStatusLine, "the request line is not valid HTTP/1.1"),
    (http_exceptions.InvalidHeader, "a header line is not valid"),
    (http_exceptions.InvalidURLError, "the request target is not valid"),
    (http_exceptions.PayloadEncodingError, "the body framing is not valid"),
)


def parser_error_message(exc: BaseException | None) -> str:
    for cls, message in PARSER_ERRORS:
        if isinstance(exc, cls):
            return message
    return "the request is not valid HTTP/1.1"


class IngressProtocol(web.RequestHandler):
    """One connection: aiohttp's, with its error answers in JSON and counted."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # ``message`` is aiohttp's text, which quotes the offending line: never sent or logged.
        del message
        if request.writer.output_size > 0:  # an answer was under way: the connection is broken
            raise ConnectionError("cannot answer: a response was already started")
        log.debug("request refused by the HTTP parser", status=status, error=type(exc).__name__)
        if status >= 500:
            log.error("unexpected error", status=status, exc_info=exc)
            response = error(status, "internal_error", "the ingress failed; retry later")
        else:
            response = error(status, "bad_http", parser_error_message(exc))
        response.force_close()
        manager = self._manager
        if isinstance(manager, IngressServer):
            manager.metrics.count_request(UNPARSED, status)
        return response


class IngressServer(web.Server):
    """aiohttp's ``Server``, making ``IngressProtocol`` connections."""

    def __init__(self, *args: Any, metrics: IngressMetrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    def __call__(self) -> web.RequestHandler:
        return IngressProtocol(self, loop=self._loop, **self._kwargs)


class IngressRunner(web.AppRunner):
    """An ``AppRunner`` whose server is an ``IngressServer``."""

    async def _make_server(self) -> web.Server:
        # The application's own server, re-made as ours with the same handler and options.
        server = await super()._make_server()
        options = {"handler_cancellation": server.handler_cancellation, **self._kwargs}
        return IngressServer(
            server.request_handler,
            request_factory=server.request_factory,
            metrics=self.app[METRICS_KEY],
            **options,
        )


def runner_options(settings: Settings) -> dict[str, Any]:
    """The connection bounds, as aiohttp's ``RequestHandler`` options."""
    return {
        "keepalive_timeout": settings.ingress_keepalive_timeout,
        "lingering_time": 0,
        # What a connection buffers before its handler reads (twice this): with aiohttp's
        # 64 KiB, 300 connections sending bodies held ~100 MB more before being answered.
        "read_bufsize": 16 * 1024,
        # No access log: one line per request is the hot path's largest cost; metrics count.
        "access_log": None,
    }


def make_runner(app: web.Application, settings: Settings, **options: Any) -> IngressRunner:
    return IngressRunner(app, handle_signals=False, **runner_options(settings), **options)
