"""The starya source: authentication and identification (webhook) and event models."""

from hookq.sources.starya import models
from hookq.sources.starya.models import *  # noqa: F403 - the models are this package's public API
from hookq.sources.starya.webhook import StaryaSource

__all__ = ["StaryaSource"]
__all__ += models.__all__
