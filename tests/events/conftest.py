"""In-process workers and a confirming channel, as the worker tests have them."""

from tests.worker.conftest import channel, start_worker

__all__ = ["channel", "start_worker"]
