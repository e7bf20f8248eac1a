"""Logging: JSON lines off a terminal (every line, the libraries' and tracebacks included),
readable on one; masked by the project's privacy policy (``hookq.privacy``).

hookq logs through structlog; libraries (aio-pika, aiormq, aiohttp, asyncio) through the
standard library, whose records are rendered by the same processors (structlog's
``ProcessorFormatter``), so one policy masks both and a JSON log stream has no plain line.
Per-message context (delivery id, source, event type, handler) is bound by the worker
(``hookq.log_context``).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson
import structlog

from hookq.display import safe
from hookq.log_context import merge_context
from hookq.privacy import MASK, Privacy
from hookq.settings import Settings

__all__ = ["MASK", "configure_logging"]


class StderrLogger:
    """Writes each line to the ``sys.stderr`` of the moment, not the one at configuration
    time: a process that swaps its stderr (a test runner capturing output) never has its logs
    written to a closed stream."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = err = critical = exception = fatal = msg


class WithoutRequestContent(logging.Filter):
    """aiohttp logs a request it cannot parse with the offending bytes (an ``Authorization``
    line, say) in the message and the traceback: keep the fact and the error type, drop the
    content."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        record.refused_error = error  # for code that inspects records; no formatter prints it
        record.msg = "request refused" + (f" ({type(error).__name__})" if error else "")
        record.args = None
        record.exc_info = record.exc_text = None
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The standard library's records, to the ``sys.stderr`` of the moment."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _stderr_logger(*_args: Any) -> StderrLogger:
    return StderrLogger()


def _json_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


def _as_displayed(renderer: structlog.typing.Processor) -> structlog.typing.Processor:
    """On a terminal, values (a delivery id, an error quoting a payload) are shown as text:
    their control characters escaped (``hookq.display``), never acted on by the terminal."""

    def render(logger: Any, method: str, event_dict: Any) -> Any:
        for key, value in event_dict.items():
            if isinstance(value, str):
                event_dict[key] = safe(value, lines=key == "exception")
        return renderer(logger, method, event_dict)

    return render


def configure_logging(settings: Settings) -> None:
    use_console = settings.log_format == "console" or (
        settings.log_format == "auto" and sys.stderr.isatty()
    )
    privacy = Privacy.from_settings(settings)
    renderer: structlog.typing.Processor = (
        _as_displayed(structlog.dev.ConsoleRenderer())
        if use_console
        else structlog.processors.JSONRenderer(serializer=_json_dumps)
    )
    # Tracebacks become a field before masking: what a traceback quotes is masked too.
    shared: list[structlog.typing.Processor] = [
        merge_context,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        *([] if use_console else [structlog.processors.format_exc_info]),
        privacy.log_processor,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[settings.log_level]
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(shared, renderer)


def _route_standard_logging(
    shared: list[structlog.typing.Processor], renderer: structlog.typing.Processor
) -> None:
    """Libraries that log through the standard library (aio-pika, aiohttp) at WARNING and up,
    rendered like hookq's own lines."""
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithoutRequestContent) for f in logger.filters):
            logger.addFilter(WithoutRequestContent())
