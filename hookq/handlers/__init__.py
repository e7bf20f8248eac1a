"""The handler plugin API and the built-in handlers.

Teams write ``from hookq.handlers import handler, HandlerContext, Retry, Reject``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookq.handlers.api import Backoff, HandlerContext, HandlerSpec, Reject, Retry, handler

__all__ = ["Backoff", "HandlerContext", "HandlerSpec", "Reject", "Retry", "handler"]

if not TYPE_CHECKING:  # hidden from mypy, which would otherwise type any misspelt name as Any

    def __getattr__(name: str) -> Any:
        # The API is loaded on first use, not with the package: `hookq --help` imports
        # hookq.handlers.cli, and must not pay for the API's structlog and aio-pika (topology).
        if name in __all__:
            from hookq.handlers import api

            return getattr(api, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
