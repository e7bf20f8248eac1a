"""Fixtures of the handler tests; ``plugin_dir`` lives in ``tests.handlers.plugins`` so that
other test packages (the worker's end-to-end tests) can import it the same way."""

from tests.handlers.plugins import plugin_dir

__all__ = ["plugin_dir"]
