"""LiveChat chat webhooks: chats, access, users, events, routing status, customers.

One class per action, each the envelope with its typed payload. Actions of the same shape share
a payload class (and differ only in the class a handler annotates).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import model_validator

from hookq.sources.base import ProviderModel
from hookq.sources.livechat.envelope import LivechatWebhook
from hookq.sources.livechat.events import Event
from hookq.sources.livechat.objects import Access, Chat, Queue, TransferTarget
from hookq.sources.livechat.users import Customer, User

# Chats ---------------------------------------------------------------------------------------


class IncomingChatPayload(ProviderModel):
    chat: Chat
    requester_id: str | None = None
    transferred_from: TransferTarget | None = None


class IncomingChat(LivechatWebhook[IncomingChatPayload]):
    """Sent when a chat starts with a new thread; carries the whole chat, and the thread's
    initial events if it started with some."""


class ChatDeactivatedPayload(ProviderModel):
    chat_id: str
    thread_id: str
    # Missing when the router, not a user, closed the thread.
    user_id: str | None = None


class ChatDeactivated(LivechatWebhook[ChatDeactivatedPayload]):
    """Sent when a chat is deactivated by closing its open thread."""


# Chat access ---------------------------------------------------------------------------------


class ChatAccessUpdatedPayload(ProviderModel):
    id: str
    access: Access


class ChatAccessUpdated(LivechatWebhook[ChatAccessUpdatedPayload]):
    """Sent when who may access a chat changes; carries the updated access."""


class ChatTransferredPayload(ProviderModel):
    chat_id: str
    # manual, inactive, assigned, unassigned, other: reasons LiveChat adds to, so any string.
    reason: str
    transferred_to: TransferTarget
    thread_id: str | None = None  # present if the chat is active
    requester_id: str | None = None
    queue: Queue | None = None  # present if the chat is queued after the transfer


class ChatTransferred(LivechatWebhook[ChatTransferredPayload]):
    """Sent when a chat is transferred to another group or agent."""


# Chat users ----------------------------------------------------------------------------------


class UserAddedToChatPayload(ProviderModel):
    chat_id: str
    user: User
    reason: str
    thread_id: str | None = None
    # agent or customer; kept a string should LiveChat add participant kinds.
    user_type: str | None = None
    requester_id: str | None = None


class UserAddedToChat(LivechatWebhook[UserAddedToChatPayload]):
    """Sent when a customer or an agent is added to a chat."""


class UserRemovedFromChatPayload(ProviderModel):
    chat_id: str
    user_id: str
    reason: str
    thread_id: str | None = None
    user_type: str | None = None
    requester_id: str | None = None


class UserRemovedFromChat(LivechatWebhook[UserRemovedFromChatPayload]):
    """Sent when a customer or an agent is removed from a chat."""


# Events --------------------------------------------------------------------------------------


class EventPayload(ProviderModel):
    chat_id: str
    thread_id: str
    event: Event


class IncomingEvent(LivechatWebhook[EventPayload]):
    """Sent when an event (message, file, form...) is sent to a chat."""


class EventUpdated(LivechatWebhook[EventPayload]):
    """Sent when an event is updated; the payload carries the whole updated event."""


class EventDeletedPayload(ProviderModel):
    chat_id: str
    thread_id: str
    event_id: str


class EventDeleted(LivechatWebhook[EventDeletedPayload]):
    """Sent when an event is deleted from a chat (v3.6)."""


class RichMessagePostback(ProviderModel):
    id: str
    toggled: bool


class IncomingRichMessagePostbackPayload(ProviderModel):
    user_id: str
    chat_id: str
    thread_id: str
    event_id: str
    postback: RichMessagePostback


class IncomingRichMessagePostback(LivechatWebhook[IncomingRichMessagePostbackPayload]):
    """Sent when a user clicks a rich message's button (a postback) in a chat."""


# Status --------------------------------------------------------------------------------------


class RoutingStatusSetPayload(ProviderModel):
    agent_id: str
    # The reference writes "accepting chats", the API "accepting_chats"; bots add "offline".
    # Spellings and statuses have changed before, so any string.
    status: str


class RoutingStatusSet(LivechatWebhook[RoutingStatusSetPayload]):
    """Sent when an agent's or a bot's routing status changes."""


# Customers -----------------------------------------------------------------------------------


class IncomingCustomerPayload(ProviderModel):
    customer: Customer

    @model_validator(mode="before")
    @classmethod
    def _wrap_flat_customer(cls, data: Any) -> Any:
        # The v3.5 reference nests the customer under "customer"; real v3.5 traffic sends the
        # customer object itself as the payload. Both validate, as ``payload.customer``.
        if isinstance(data, dict) and "customer" not in data and "id" in data:
            return {"customer": data}
        return data


class IncomingCustomer(LivechatWebhook[IncomingCustomerPayload]):
    """Sent when a new customer registers (v3.5; removed in v3.6)."""


class ActiveChat(ProviderModel):
    chat_id: str
    thread_id: str | None = None


class CustomerSessionFieldsUpdatedPayload(ProviderModel):
    id: str
    session_fields: list[dict[str, Any]]
    active_chat: ActiveChat | None = None


class CustomerSessionFieldsUpdated(LivechatWebhook[CustomerSessionFieldsUpdatedPayload]):
    """Sent when a chatting customer's session fields change, once per active chat."""


# Other ---------------------------------------------------------------------------------------


class EventsMarkedAsSeenPayload(ProviderModel):
    user_id: str
    chat_id: str
    seen_up_to: datetime


class EventsMarkedAsSeen(LivechatWebhook[EventsMarkedAsSeenPayload]):
    """Sent when a user has seen a chat's events up to a given time."""


__all__ = [
    "ActiveChat",
    "ChatAccessUpdated",
    "ChatAccessUpdatedPayload",
    "ChatDeactivated",
    "ChatDeactivatedPayload",
    "ChatTransferred",
    "ChatTransferredPayload",
    "CustomerSessionFieldsUpdated",
    "CustomerSessionFieldsUpdatedPayload",
    "EventDeleted",
    "EventDeletedPayload",
    "EventPayload",
    "EventUpdated",
    "EventsMarkedAsSeen",
    "EventsMarkedAsSeenPayload",
    "IncomingChat",
    "IncomingChatPayload",
    "IncomingCustomer",
    "IncomingCustomerPayload",
    "IncomingEvent",
    "IncomingRichMessagePostback",
    "IncomingRichMessagePostbackPayload",
    "RichMessagePostback",
    "RoutingStatusSet",
    "RoutingStatusSetPayload",
    "UserAddedToChat",
    "UserAddedToChatPayload",
    "UserRemovedFromChat",
    "UserRemovedFromChatPayload",
]
