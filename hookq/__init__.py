"""hookq: webhooks from support and chat platforms, authenticated, queued durably on RabbitMQ,
validated into typed events and handed to your handlers.

The handler API::

    from hookq import Backoff, HandlerContext, Reject, Retry, handler

The typed models: ``from hookq.sources.<source> import <Model>`` (plain, livechat, starya,
standard). Everything else lives in the subpackages that show the data flow: ``ingress``,
``sources``, ``worker``, ``handlers``, and the operators' tools ``dlq``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookq.handlers.api import Backoff, HandlerContext, Reject, Retry, handler

__all__ = ["Backoff", "HandlerContext", "Reject", "Retry", "handler"]

if not TYPE_CHECKING:  # hidden from mypy, which would otherwise type any misspelt name as Any

    def __getattr__(name: str) -> Any:
        # Loaded on first use: every ``hookq`` command imports this package, and ``--help``
        # must not pay for the API's imports (structlog, aio-pika).
        if name in __all__:
            from hookq.handlers import api

            return getattr(api, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
