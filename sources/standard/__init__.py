"""The standard source: authentication and identification (webhook) and event models."""

from sources.standard import models
from sources.standard.models import *  # noqa: F403 - the models are this package's public API
from sources.standard.webhook import StandardSource

__all__ = ["StandardSource"]
__all__ += models.__all__
