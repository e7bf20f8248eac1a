"""LiveChat webhooks about chat, thread and event properties, thread tags and summaries."""

from __future__ import annotations

from hookq.sources.base import ProviderModel
from hookq.sources.livechat.envelope import DeletedProperties, LivechatWebhook, Properties
from hookq.sources.livechat.objects import Summary

# Properties ----------------------------------------------------------------------------------
# The "updated" webhooks carry only the properties that changed; the "deleted" ones name them.


class ChatPropertiesUpdatedPayload(ProviderModel):
    chat_id: str
    properties: Properties


class ThreadPropertiesUpdatedPayload(ChatPropertiesUpdatedPayload):
    thread_id: str


class EventPropertiesUpdatedPayload(ThreadPropertiesUpdatedPayload):
    event_id: str


class ChatPropertiesDeletedPayload(ProviderModel):
    chat_id: str
    properties: DeletedProperties


class ThreadPropertiesDeletedPayload(ChatPropertiesDeletedPayload):
    thread_id: str


class EventPropertiesDeletedPayload(ThreadPropertiesDeletedPayload):
    event_id: str


class ChatPropertiesUpdated(LivechatWebhook[ChatPropertiesUpdatedPayload]):
    """Sent when chat properties are updated; carries only the updated ones."""


class ChatPropertiesDeleted(LivechatWebhook[ChatPropertiesDeletedPayload]):
    """Sent when chat properties are deleted; names the deleted ones per namespace."""


class ThreadPropertiesUpdated(LivechatWebhook[ThreadPropertiesUpdatedPayload]):
    """Sent when thread properties are updated; carries only the updated ones."""


class ThreadPropertiesDeleted(LivechatWebhook[ThreadPropertiesDeletedPayload]):
    """Sent when thread properties are deleted; names the deleted ones per namespace."""


class EventPropertiesUpdated(LivechatWebhook[EventPropertiesUpdatedPayload]):
    """Sent when event properties are updated; carries only the updated ones."""


class EventPropertiesDeleted(LivechatWebhook[EventPropertiesDeletedPayload]):
    """Sent when event properties are deleted; names the deleted ones per namespace."""


# Thread tags and summary ---------------------------------------------------------------------


class ThreadTagPayload(ProviderModel):
    chat_id: str
    thread_id: str
    tag: str


class ThreadTagged(LivechatWebhook[ThreadTagPayload]):
    """Sent when a thread is tagged."""


class ThreadUntagged(LivechatWebhook[ThreadTagPayload]):
    """Sent when a tag is removed from a thread."""


class ThreadSummarySetPayload(ProviderModel):
    chat_id: str
    thread_id: str
    summary: Summary


class ThreadSummarySet(LivechatWebhook[ThreadSummarySetPayload]):
    """Sent when a thread's generated summary is set (v3.6)."""


__all__ = [
    "ChatPropertiesDeleted",
    "ChatPropertiesDeletedPayload",
    "ChatPropertiesUpdated",
    "ChatPropertiesUpdatedPayload",
    "EventPropertiesDeleted",
    "EventPropertiesDeletedPayload",
    "EventPropertiesUpdated",
    "EventPropertiesUpdatedPayload",
    "ThreadPropertiesDeleted",
    "ThreadPropertiesDeletedPayload",
    "ThreadPropertiesUpdated",
    "ThreadPropertiesUpdatedPayload",
    "ThreadSummarySet",
    "ThreadSummarySetPayload",
    "ThreadTagPayload",
    "ThreadTagged",
    "ThreadUntagged",
]
