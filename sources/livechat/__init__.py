"""The livechat source: authentication and identification (webhook) and event models."""

from sources.livechat import models
from sources.livechat.models import *  # noqa: F403 - the models are this package's public API
from sources.livechat.webhook import LivechatSource

__all__ = ["LivechatSource"]
__all__ += models.__all__
