"""The plain source: authentication and identification (webhook) and event models."""

from hookq.sources.plain import models
from hookq.sources.plain.models import *  # noqa: F403 - the models are this package's public API
from hookq.sources.plain.webhook import PlainSource

__all__ = ["PlainSource"]
__all__ += models.__all__
