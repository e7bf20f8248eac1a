"""The livechat source: authentication and identification (webhook) and event models."""

from hookq.sources.livechat import models
from hookq.sources.livechat.models import *  # noqa: F403 - the models are this package's public API
from hookq.sources.livechat.webhook import LivechatSource

__all__ = ["LivechatSource"]
__all__ += models.__all__
