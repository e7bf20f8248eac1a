"""structlog set-up: JSON lines off a terminal, readable on one; secrets and personal data masked.

Per-message context (delivery id, source, event type, handler) is bound with
``structlog.contextvars.bound_contextvars`` where the message is handled.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

from hookq.settings import Settings

# Keys whose values never reach a log line, wherever they appear in an event dict.
SENSITIVE_KEYS = frozenset(
    {
        "secret",
        "secrets",
        "secret_key",
        "authorization",
        "password",
        "token",
        "signature",
        "cpf",
        "email",
        "phone",
        "birthdate",
        "birth_date",
    }
)
MASK = "[redacted]"


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if k.lower() in SENSITIVE_KEYS else _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


def redact_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: masks sensitive keys at any depth."""
    for key, value in event_dict.items():
        event_dict[key] = MASK if key.lower() in SENSITIVE_KEYS else _mask(value)
    return event_dict


class StderrLogger:
    """Writes each line to the ``sys.stderr`` of the moment, not the one at configuration
    time: a process that swaps its stderr (a test runner capturing output) never has its logs
    written to a closed stream."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = err = critical = exception = fatal = msg


class WithoutRequestContent(logging.Filter):
    """aiohttp logs a request it cannot parse with the offending bytes (an ``Authorization``
    line, say) in the message and the traceback, past structlog's masking: keep the fact and
    the error type, drop the content."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        record.refused_error = error  # for code that inspects records; no formatter prints it
        record.msg = "request refused" + (f" ({type(error).__name__})" if error else "")
        record.args = None
        record.exc_info = record.exc_text = None
        return True


def _stderr_logger(*_args: Any) -> StderrLogger:
    return StderrLogger()


def _json_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


def configure_logging(settings: Settings) -> None:
    use_console = settings.log_format == "console" or (
        settings.log_format == "auto" and sys.stderr.isatty()
    )
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer()
        if use_console
        else structlog.processors.JSONRenderer(serializer=_json_dumps)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_sensitive,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[settings.log_level]
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
    # Libraries that log through the standard library (aio-pika, aiohttp) at WARNING and up.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")
    for name in ("aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithoutRequestContent) for f in logger.filters):
            logger.addFilter(WithoutRequestContent())
