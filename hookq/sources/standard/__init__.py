"""The standard source: authentication and identification (webhook) and event models."""

from hookq.sources.standard import models
from hookq.sources.standard.models import *  # noqa: F403 - the models are this package's public API
from hookq.sources.standard.webhook import StandardSource

__all__ = ["StandardSource"]
__all__ += models.__all__
