"""LiveChat Chat and Thread objects, and the small structures they share (access, queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hookq.sources.base import ProviderModel
from hookq.sources.livechat.envelope import Properties
from hookq.sources.livechat.events import Event
from hookq.sources.livechat.users import User


class Access(ProviderModel):
    """Who may see a chat: group 0 means every agent."""

    group_ids: list[int] = []
    agent_ids: list[str] | None = None


class Queue(ProviderModel):
    """A chat waiting for an agent. The time it joined the queue is ``queued_at`` in v3.6 and
    in real v3.5 traffic, but ``queued_at_us`` in the v3.5 reference: both are accepted."""

    position: int | None = None
    wait_time: int | None = None
    queued_at: datetime | None = None
    queued_at_us: datetime | None = None

    @property
    def entered_at(self) -> datetime | None:
        return self.queued_at or self.queued_at_us


class Summary(ProviderModel):
    """A thread's generated summary (v3.6)."""

    text: str | None = None
    # ok, pending, failed...: a status set LiveChat controls, so any string.
    status: str | None = None
    updated_at: datetime | None = None


class ThreadSummary(ProviderModel):
    """A thread without its events, as chat summaries list it."""

    id: str
    created_at: datetime | None = None
    active: bool | None = None
    user_ids: list[str] = []
    properties: Properties | None = None
    access: Access | None = None
    tags: list[str] = []
    queue: Queue | None = None


class Thread(ThreadSummary):
    """One conversation of a chat, with its events."""

    events: list[Event] = []
    queues_duration: int | None = None
    previous_thread_id: str | None = None
    next_thread_id: str | None = None
    # Set instead of the events when the plan cannot see a thread this old.
    restricted_access: str | None = None
    summary: Summary | None = None
    customer_visit: dict[str, Any] | None = None


class Chat(ProviderModel):
    """A chat: its users and threads. Webhooks carry the current ``thread``; the Agent API's
    chat object carries ``threads``."""

    id: str
    users: list[User] = []
    thread: Thread | None = None
    threads: list[Thread] | None = None
    properties: Properties | None = None
    access: Access | None = None
    is_followed: bool | None = None


class LastEvent(ProviderModel):
    thread_id: str
    thread_created_at: datetime | None = None
    event: Event


class ChatSummary(ProviderModel):
    """A chat as ``list_chats`` summarises it: last thread and last event of each type."""

    id: str
    users: list[User] = []
    last_thread_summary: ThreadSummary | None = None
    last_event_per_type: dict[str, LastEvent] = {}
    properties: Properties | None = None
    access: Access | None = None
    is_followed: bool | None = None


class TransferTarget(ProviderModel):
    """Groups and agents a chat goes to (or came from)."""

    group_ids: list[int] = []
    agent_ids: list[str] = []


__all__ = [
    "Access",
    "Chat",
    "ChatSummary",
    "LastEvent",
    "Queue",
    "Summary",
    "Thread",
    "ThreadSummary",
    "TransferTarget",
]
