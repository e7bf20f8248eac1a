"""LiveChat webhook models: one class per action of API v3.5 and v3.6, on a shared envelope.

``EVENTS`` maps each action to its class; an action not listed (one LiveChat adds later)
validates against the envelope, ``LivechatWebhook``, alone and still reaches its handlers.
The classes live in small modules by subject and are all re-exported here:

- ``envelope``: ``LivechatWebhook`` and what every webhook carries (``requester``...);
- ``events``, ``users``, ``objects``: the Event union, the User union, Chat and Thread;
- ``actions``, ``properties``: chat webhooks;
- ``configuration``, ``auto_access``: agents, bots, groups, tags, auto access rules.
"""

# ruff: noqa: F405 - __all__ names the classes the star imports below re-export

from __future__ import annotations

from typing import Any

from hookq.sources.livechat import actions as chat
from hookq.sources.livechat import auto_access as rules
from hookq.sources.livechat import configuration as config
from hookq.sources.livechat import properties as props
from hookq.sources.livechat.actions import *  # noqa: F403 - re-exported: this package's public API
from hookq.sources.livechat.auto_access import *  # noqa: F403
from hookq.sources.livechat.configuration import *  # noqa: F403
from hookq.sources.livechat.envelope import *  # noqa: F403
from hookq.sources.livechat.envelope import LivechatWebhook
from hookq.sources.livechat.events import *  # noqa: F403
from hookq.sources.livechat.objects import *  # noqa: F403
from hookq.sources.livechat.properties import *  # noqa: F403
from hookq.sources.livechat.users import *  # noqa: F403

EVENTS: dict[str, type[LivechatWebhook[Any]]] = {
    # Chats, access, users
    "incoming_chat": chat.IncomingChat,
    "chat_deactivated": chat.ChatDeactivated,
    "chat_access_updated": chat.ChatAccessUpdated,
    "chat_transferred": chat.ChatTransferred,
    "user_added_to_chat": chat.UserAddedToChat,
    "user_removed_from_chat": chat.UserRemovedFromChat,
    # Events
    "incoming_event": chat.IncomingEvent,
    "event_updated": chat.EventUpdated,
    "event_deleted": chat.EventDeleted,  # v3.6
    "incoming_rich_message_postback": chat.IncomingRichMessagePostback,
    # Properties
    "chat_properties_updated": props.ChatPropertiesUpdated,
    "chat_properties_deleted": props.ChatPropertiesDeleted,
    "thread_properties_updated": props.ThreadPropertiesUpdated,
    "thread_properties_deleted": props.ThreadPropertiesDeleted,
    "event_properties_updated": props.EventPropertiesUpdated,
    "event_properties_deleted": props.EventPropertiesDeleted,
    # Thread tags and summary, status, customers, other
    "thread_tagged": props.ThreadTagged,
    "thread_untagged": props.ThreadUntagged,
    "thread_summary_set": props.ThreadSummarySet,  # v3.6
    "routing_status_set": chat.RoutingStatusSet,
    "incoming_customer": chat.IncomingCustomer,  # v3.5 only
    "customer_session_fields_updated": chat.CustomerSessionFieldsUpdated,
    "events_marked_as_seen": chat.EventsMarkedAsSeen,
    # Configuration
    "agent_created": config.AgentCreated,
    "agent_approved": config.AgentApproved,
    "agent_updated": config.AgentUpdated,
    "agent_suspended": config.AgentSuspended,
    "agent_unsuspended": config.AgentUnsuspended,
    "agent_deleted": config.AgentDeleted,
    "auto_accesses_updated": rules.AutoAccessesUpdated,
    # The per-rule auto access webhooks: what real v3.5 traffic (and the SDKs) use.
    "auto_access_added": rules.AutoAccessAdded,
    "auto_access_updated": rules.AutoAccessUpdated,
    "auto_access_deleted": rules.AutoAccessDeleted,
    "bot_created": config.BotCreated,
    "bot_updated": config.BotUpdated,
    "bot_deleted": config.BotDeleted,
    "group_created": config.GroupCreated,
    "group_updated": config.GroupUpdated,
    "group_deleted": config.GroupDeleted,
    "tag_created": config.TagCreated,
    "tag_updated": config.TagUpdated,
    "tag_deleted": config.TagDeleted,
}

__all__ = [
    "EVENTS",
    "EVENT_TYPES",
    "Access",
    "ActiveChat",
    "AdditionalData",
    "Address",
    "Agent",
    "AgentApproved",
    "AgentChanges",
    "AgentConfig",
    "AgentCreated",
    "AgentDeleted",
    "AgentRef",
    "AgentSuspended",
    "AgentUnsuspended",
    "AgentUpdated",
    "AutoAccessAdded",
    "AutoAccessChange",
    "AutoAccessChanges",
    "AutoAccessConditions",
    "AutoAccessDeleted",
    "AutoAccessGroups",
    "AutoAccessRef",
    "AutoAccessRule",
    "AutoAccessUpdated",
    "AutoAccessesUpdated",
    "BotChanges",
    "BotConfig",
    "BotCreated",
    "BotDeleted",
    "BotRef",
    "BotUpdated",
    "Cart",
    "CartItem",
    "Chat",
    "ChatAccessUpdated",
    "ChatAccessUpdatedPayload",
    "ChatDeactivated",
    "ChatDeactivatedPayload",
    "ChatPropertiesDeleted",
    "ChatPropertiesDeletedPayload",
    "ChatPropertiesUpdated",
    "ChatPropertiesUpdatedPayload",
    "ChatSummary",
    "ChatTransferred",
    "ChatTransferredPayload",
    "CustomEvent",
    "Customer",
    "CustomerSessionFieldsUpdated",
    "CustomerSessionFieldsUpdatedPayload",
    "DeletedEvent",
    "DeletedProperties",
    "Event",
    "EventBase",
    "EventDeleted",
    "EventDeletedPayload",
    "EventPayload",
    "EventPropertiesDeleted",
    "EventPropertiesDeletedPayload",
    "EventPropertiesUpdated",
    "EventPropertiesUpdatedPayload",
    "EventUpdated",
    "EventsMarkedAsSeen",
    "EventsMarkedAsSeenPayload",
    "FileEvent",
    "FilledFormEvent",
    "FilledFormField",
    "FormEvent",
    "FormField",
    "FormOption",
    "Geolocation",
    "GeolocationValues",
    "GroupChanges",
    "GroupConfig",
    "GroupCreated",
    "GroupDeleted",
    "GroupPriority",
    "GroupRef",
    "GroupUpdated",
    "IncomingChat",
    "IncomingChatPayload",
    "IncomingCustomer",
    "IncomingCustomerPayload",
    "IncomingEvent",
    "IncomingRichMessagePostback",
    "IncomingRichMessagePostbackPayload",
    "LastEvent",
    "LivechatWebhook",
    "MatchValue",
    "MatchValues",
    "MessageEvent",
    "MessagePostback",
    "MyProfile",
    "OtherEvent",
    "OtherUser",
    "Properties",
    "Queue",
    "Requester",
    "RichMessageButton",
    "RichMessageElement",
    "RichMessageEvent",
    "RichMessageImage",
    "RichMessagePostback",
    "RoutingStatusSet",
    "RoutingStatusSetPayload",
    "Statistics",
    "Summary",
    "SystemEvent",
    "SystemMessageEvent",
    "TagChanges",
    "TagConfig",
    "TagCreated",
    "TagDeleted",
    "TagRef",
    "TagUpdated",
    "Thread",
    "ThreadPropertiesDeleted",
    "ThreadPropertiesDeletedPayload",
    "ThreadPropertiesUpdated",
    "ThreadPropertiesUpdatedPayload",
    "ThreadSummary",
    "ThreadSummarySet",
    "ThreadSummarySetPayload",
    "ThreadTagPayload",
    "ThreadTagged",
    "ThreadUntagged",
    "Ticket",
    "TransferTarget",
    "User",
    "UserAddedToChat",
    "UserAddedToChatPayload",
    "UserBase",
    "UserRemovedFromChat",
    "UserRemovedFromChatPayload",
    "Visit",
    "VisitedPage",
    "WorkSchedule",
    "WorkScheduler",
]
