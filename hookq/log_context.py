"""The fields of the message being processed, on every log line written while it is.

The worker binds a message's delivery id, source, event type, handler and attempt once per
message. structlog's ``bind_contextvars`` keeps one context variable per field, set and reset
one by one (about 5 us per message, 4 % of the worker's CPU: docs/benchmarks.md); here they
are one mapping in one variable, which ``merge_context`` (the first of every log line's
processors, ``hookq.logs``) adds to a line that is written. A field given on the line itself,
or bound with ``structlog.contextvars``, wins.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar, Token
from typing import Any

from structlog.contextvars import merge_contextvars

_fields: ContextVar[Mapping[str, Any] | None] = ContextVar("hookq_log_fields", default=None)


Bound = Token[Mapping[str, Any] | None]


def bind(fields: Mapping[str, Any]) -> Bound:
    """``fields`` on every line logged from here (in this task and those it starts) until
    ``unbind``; they replace the fields bound before, which ``unbind`` puts back."""
    return _fields.set(fields)


def unbind(token: Bound) -> None:
    _fields.reset(token)


def merge_context(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog's ``merge_contextvars``, then the bound message's fields."""
    event_dict = merge_contextvars(logger, method_name, event_dict)
    fields = _fields.get()
    if fields:
        for key, value in fields.items():
            event_dict.setdefault(key, value)
    return event_dict
