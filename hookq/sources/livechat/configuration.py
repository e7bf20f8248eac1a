"""LiveChat configuration webhooks: agents, bots, groups and tags (auto access: ``auto_access``).

"created" webhooks carry the whole object, "updated" ones only what changed (so every field but
the id is optional there), "deleted" ones just the id. In v3.6 these webhooks also carry the
``requester`` who made the change (see ``LivechatWebhook``).
"""

from __future__ import annotations

from datetime import datetime

from hookq.sources.base import ProviderModel
from hookq.sources.livechat.envelope import LivechatWebhook

# Shared structures ---------------------------------------------------------------------------


class GroupPriority(ProviderModel):
    id: int
    # first, normal, last, supervisor: routing priorities LiveChat may extend, so any string.
    priority: str


class WorkSchedule(ProviderModel):
    day: str
    enabled: bool
    start: str  # "08:30", in the scheduler's timezone
    end: str


class WorkScheduler(ProviderModel):
    timezone: str | None = None
    schedule: list[WorkSchedule] = []


# Agents --------------------------------------------------------------------------------------


class AgentChanges(ProviderModel):
    """An agent's configuration; in ``agent_updated`` only the changed fields are present."""

    id: str
    name: str | None = None
    # owner, viceowner, administrator, normal: roles LiveChat may extend, so any string.
    role: str | None = None
    awaiting_approval: bool | None = None
    avatar: str | None = None
    job_title: str | None = None
    mobile: str | None = None
    max_chats_count: int | None = None
    groups: list[GroupPriority] | None = None
    notifications: list[str] | None = None
    email_subscriptions: list[str] | None = None
    work_scheduler: WorkScheduler | None = None


class AgentConfig(AgentChanges):
    """An agent's whole configuration, as ``agent_created`` sends it."""

    name: str
    awaiting_approval: bool


class AgentRef(ProviderModel):
    id: str


class AgentCreated(LivechatWebhook[AgentConfig]):
    """Sent when an agent account is created; carries its whole configuration."""


class AgentUpdated(LivechatWebhook[AgentChanges]):
    """Sent when an agent's configuration changes; carries only the changed fields."""


class AgentApproved(LivechatWebhook[AgentRef]):
    """Sent when an agent's account is approved and becomes active."""


class AgentSuspended(LivechatWebhook[AgentRef]):
    """Sent when an agent's account is suspended."""


class AgentUnsuspended(LivechatWebhook[AgentRef]):
    """Sent when an agent's account is unsuspended."""


class AgentDeleted(LivechatWebhook[AgentRef]):
    """Sent when an agent's account is deleted."""


# Bots ----------------------------------------------------------------------------------------


class BotChanges(ProviderModel):
    """A bot's configuration; in ``bot_updated`` only the changed fields are present."""

    id: str
    name: str | None = None
    avatar: str | None = None
    default_group_priority: str | None = None
    owner_client_id: str | None = None
    max_chats_count: int | None = None
    groups: list[GroupPriority] | None = None
    work_scheduler: WorkScheduler | None = None
    timezone: str | None = None
    job_title: str | None = None


class BotConfig(BotChanges):
    """A bot's whole configuration, as ``bot_created`` sends it."""

    name: str
    default_group_priority: str
    owner_client_id: str


class BotRef(ProviderModel):
    id: str


class BotCreated(LivechatWebhook[BotConfig]):
    """Sent when a bot is created; carries its whole configuration."""


class BotUpdated(LivechatWebhook[BotChanges]):
    """Sent when a bot's configuration changes; carries only the changed fields."""


class BotDeleted(LivechatWebhook[BotRef]):
    """Sent when a bot is deleted."""


# Groups --------------------------------------------------------------------------------------


class GroupChanges(ProviderModel):
    """A group; in ``group_updated`` only the changed fields are present."""

    id: int
    name: str | None = None
    language_code: str | None = None
    # agent id -> first, normal, last...: any string, as for GroupPriority.
    agent_priorities: dict[str, str] | None = None


class GroupConfig(GroupChanges):
    """A group in full, as ``group_created`` sends it."""

    name: str
    language_code: str
    agent_priorities: dict[str, str]


class GroupRef(ProviderModel):
    id: int


class GroupCreated(LivechatWebhook[GroupConfig]):
    """Sent when a group is created in the licence; carries the whole group."""


class GroupUpdated(LivechatWebhook[GroupChanges]):
    """Sent when a group is updated; carries only the changed fields."""


class GroupDeleted(LivechatWebhook[GroupRef]):
    """Sent when a group is deleted from the licence."""


# Tags ----------------------------------------------------------------------------------------


class TagChanges(ProviderModel):
    name: str
    group_ids: list[int]
    created_at: datetime | None = None
    author_id: str | None = None


class TagConfig(TagChanges):
    """A tag in full, as ``tag_created`` sends it."""

    created_at: datetime
    author_id: str


class TagRef(ProviderModel):
    name: str


class TagCreated(LivechatWebhook[TagConfig]):
    """Sent when a tag is created in the licence; carries the whole tag."""


class TagUpdated(LivechatWebhook[TagChanges]):
    """Sent when a tag is updated (its groups)."""


class TagDeleted(LivechatWebhook[TagRef]):
    """Sent when a tag is deleted from the licence."""


__all__ = [
    "AgentApproved",
    "AgentChanges",
    "AgentConfig",
    "AgentCreated",
    "AgentDeleted",
    "AgentRef",
    "AgentSuspended",
    "AgentUnsuspended",
    "AgentUpdated",
    "BotChanges",
    "BotConfig",
    "BotCreated",
    "BotDeleted",
    "BotRef",
    "BotUpdated",
    "GroupChanges",
    "GroupConfig",
    "GroupCreated",
    "GroupDeleted",
    "GroupPriority",
    "GroupRef",
    "GroupUpdated",
    "TagChanges",
    "TagConfig",
    "TagCreated",
    "TagDeleted",
    "TagRef",
    "TagUpdated",
    "WorkSchedule",
    "WorkScheduler",
]
