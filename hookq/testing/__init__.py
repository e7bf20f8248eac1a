"""hookq's testing kit: what a handler's author needs to test it without guesswork.

    from hookq.testing import run_handler, signed_request

    result = await run_handler(sync_thread, "plain", "thread.chat_sent")
    assert result.done                       # or .retried (with .delay), .dead, .invalid

- ``run_handler`` runs a handler in this process, without a broker or Redis, through the
  worker's own pipeline: the ingress's authentication and identification, validation into the
  typed model, the handler with its timeout, and the outcome the worker would settle (done,
  retry after a delay tier, dead with the reason, invalid), hooks included.
- ``signed_request`` builds the request a provider would send for any catalogued event (its
  example from ``hookq.sources.catalogue``) or a payload of yours, signed the provider's way.

Importing this package costs nothing: each name loads its module on first use (``hookq send``
uses the signing alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookq.testing.runner import Result, run_handler
    from hookq.testing.signing import SECRETS, SignedRequest, signed_request, source_settings

_MODULES = {
    "Result": "runner",
    "run_handler": "runner",
    "SECRETS": "signing",
    "SignedRequest": "signing",
    "signed_request": "signing",
    "source_settings": "signing",
}
__all__ = [
    "SECRETS",
    "Result",
    "SignedRequest",
    "run_handler",
    "signed_request",
    "source_settings",
]

if not TYPE_CHECKING:  # hidden from mypy, which would otherwise type any misspelt name as Any

    def __getattr__(name: str) -> Any:
        module = _MODULES.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
