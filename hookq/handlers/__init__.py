"""The handler plugin API and the built-in handlers.

Teams write ``from hookq.handlers import handler, HandlerContext, Retry, Reject``.
"""

from hookq.handlers.api import Backoff, HandlerContext, HandlerSpec, Reject, Retry, handler

__all__ = ["Backoff", "HandlerContext", "HandlerSpec", "Reject", "Retry", "handler"]
