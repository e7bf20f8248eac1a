"""Plain event models: the envelope, and one class per event type with its typed payload.

    from hookq.sources.plain import ThreadChatSent

    async def on_chat(event: ThreadChatSent, ctx: HandlerContext) -> None:
        event.payload.chat.text, event.payload.thread.customer.fullName

Payload objects are generated from Plain's JSON Schema into ``_generated.py`` (never edit it):
``.venv/bin/python scripts/generate_plain_models.py`` regenerates it from every
``sources/plain/schemas/webhook-schema-*.json``, the newest as the base, so payloads of the
2024-09-18 version (the seed's) and of 2026-02-27 both validate. That script also records, per
enum, whether an unknown value is accepted and why.

Routing: the envelope's ``type`` routes an event (the ingress's routing key, Plain's
``Plain-Event-Type`` header, the dedupe identity) and chooses its class here; ``payload.eventType``
is kept as the string Plain sent and never compared with it, so an event whose two disagree
reaches the handlers of its ``type`` (Plain's SDK does not compare them either). The payload
must still have the fields of that ``type``'s payload: one that lacks them (a payload of
another type, which the SDK would accept, typed by its ``eventType``) is dead-lettered with the
fields it lacks, because a handler is promised the class of the type it is bound to.

Date-times (``timestamp``, ``createdAt``...) are ``datetimes.DateTime``: accepted exactly where
Plain's SDK accepts them (a leap second, year 0000, ``+00``, no offset...; never a number),
and always a timezone-aware ``datetime`` to handlers: a leap second is ``23:59:59.999999``, year
0000 is ``datetime.min`` in UTC, an offset of a day or more (``+99:99``) the same instant in UTC
(the rules are in ``hookq/sources/plain/datetimes.py``).

Class names: the namespace, then the event name without a repeated namespace, in CamelCase
(``thread.chat_sent`` -> ``ThreadChatSent``, ``thread.thread_created`` -> ``ThreadCreated``,
``customer.customer_updated`` -> ``CustomerUpdated``). Every model keeps fields it does not know
(``model_extra``, ``model_dump``): Plain adds fields over versions and that must never
dead-letter an event. An event type missing here is validated against ``PlainEvent`` alone.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from hookq.sources.base import ProviderModel
from hookq.sources.plain import _generated as g
from hookq.sources.plain._generated import (
    ActorUnknown,
    Chat,
    Customer,
    CustomerActor,
    CustomerGroup,
    DiscordMessage,
    Email,
    Label,
    MachineUser,
    MachineUserActor,
    MsTeamsMessage,
    SlackMessage,
    SystemActor,
    Thread,
    ThreadField,
    TimelineEntry,
    User,
    UserActor,
    WebhookMetadata,
)
from hookq.sources.plain.datetimes import DateTime

# Any actor on an object's createdBy/updatedBy; ActorUnknown holds an actor type newer than the
# schema (its ``actorType`` is then a string the other classes do not list).
Actor = UserActor | MachineUserActor | SystemActor | CustomerActor | ActorUnknown


class PlainEvent(ProviderModel):
    """Any Plain webhook: the envelope every event type shares.

    ``id`` (``pEv_...``) is the same on every retry: it is the dedupe key. ``type`` routes the
    event and chooses its subclass; ``payload.eventType`` may differ and is not checked.
    ``payload`` is typed by the subclasses; here it is any object, so an event type newer than
    these models still validates and reaches handlers bound to it, its payload fields in
    ``payload.model_extra``.
    """

    id: str
    type: str
    timestamp: DateTime
    workspaceId: str
    payload: ProviderModel
    webhookMetadata: WebhookMetadata


class ThreadTenantUpdatedPayload(ProviderModel):
    """``thread.thread_tenant_updated``: listed in the schema's event types, with no payload
    definition; Plain's fields are kept as extras."""

    eventType: str


# Threads ---------------------------------------------------------------------------------


class ThreadCreated(PlainEvent):
    """A new thread was created (a customer's first message on a channel, or via the API)."""

    type: Literal["thread.thread_created"]
    payload: g.ThreadCreatedPublicEventPayload


class ThreadStatusTransitioned(PlainEvent):
    """A thread's status changed (Todo, Snoozed, Done); ``previousThread`` is before it."""

    type: Literal["thread.thread_status_transitioned"]
    payload: g.ThreadStatusTransitionedPublicEventPayload


class ThreadAssignmentTransitioned(PlainEvent):
    """A thread was assigned, reassigned or unassigned."""

    type: Literal["thread.thread_assignment_transitioned"]
    payload: g.ThreadAssignmentTransitionedPublicEventPayload


class ThreadLabelsChanged(PlainEvent):
    """Labels were added to or removed from a thread (``changeType`` says which)."""

    type: Literal["thread.thread_labels_changed"]
    payload: g.ThreadLabelsChangedPublicEventPayload


class ThreadPriorityChanged(PlainEvent):
    """A thread's priority changed (0 urgent to 3 low)."""

    type: Literal["thread.thread_priority_changed"]
    payload: g.ThreadPriorityChangedPublicEventPayload


class ThreadTenantUpdated(PlainEvent):
    """The tenant (customer's company account) a thread belongs to changed."""

    type: Literal["thread.thread_tenant_updated"]
    payload: ThreadTenantUpdatedPayload


class ThreadNoteCreated(PlainEvent):
    """A teammate wrote an internal note on a thread (never seen by the customer)."""

    type: Literal["thread.note_created"]
    payload: g.ThreadNoteCreatedEventPayload


class ThreadFieldCreated(PlainEvent):
    """A thread field (a custom attribute of the thread) was set for the first time."""

    type: Literal["thread.thread_field_created"]
    payload: g.ThreadFieldCreatedPublicEventPayload


class ThreadFieldUpdated(PlainEvent):
    """A thread field's value changed; ``previousThreadField`` is the old value."""

    type: Literal["thread.thread_field_updated"]
    payload: g.ThreadFieldUpdatedPublicEventPayload


class ThreadFieldDeleted(PlainEvent):
    """A thread field was removed from a thread."""

    type: Literal["thread.thread_field_deleted"]
    payload: g.ThreadFieldDeletedPublicEventPayload


class ThreadServiceLevelAgreementStatusTransitioned(PlainEvent):
    """An SLA on a thread changed status (pending, imminent breach, breaching, breached,
    achieved, cancelled)."""

    type: Literal["thread.service_level_agreement_status_transitioned"]
    payload: g.ThreadServiceLevelAgreementStatusTransitionedPayload


# Messages on a thread ----------------------------------------------------------------------


class ThreadEmailReceived(PlainEvent):
    """An email from the customer arrived on a thread."""

    type: Literal["thread.email_received"]
    payload: g.ThreadEmailReceivedPublicEventPayload


class ThreadEmailSent(PlainEvent):
    """An email was sent to the customer from a thread."""

    type: Literal["thread.email_sent"]
    payload: g.ThreadEmailSentPublicEventPayload


class ThreadChatReceived(PlainEvent):
    """A chat message from the customer arrived on a thread."""

    type: Literal["thread.chat_received"]
    payload: g.ThreadChatReceivedPublicEventPayload


class ThreadChatSent(PlainEvent):
    """A chat message was sent to the customer in a thread."""

    type: Literal["thread.chat_sent"]
    payload: g.ThreadChatSentPublicEventPayload


class ThreadSlackMessageReceived(PlainEvent):
    """A Slack message from the customer's channel arrived on a thread."""

    type: Literal["thread.slack_message_received"]
    payload: g.ThreadSlackMessageReceivedEventPayload


class ThreadSlackMessageSent(PlainEvent):
    """A Slack message was sent to the customer's channel from a thread."""

    type: Literal["thread.slack_message_sent"]
    payload: g.ThreadSlackMessageSentEventPayload


class ThreadSlackMessageUpdated(PlainEvent):
    """A Slack message on a thread was edited, deleted or reacted to (``changeType``, absent
    before the 2026-02-27 version)."""

    type: Literal["thread.slack_message_updated"]
    payload: g.ThreadSlackMessageUpdatedEventPayload


class ThreadDiscordMessageReceived(PlainEvent):
    """A Discord message from the customer arrived on a thread."""

    type: Literal["thread.discord_message_received"]
    payload: g.ThreadDiscordMessageReceivedEventPayload


class ThreadDiscordMessageSent(PlainEvent):
    """A Discord message was sent to the customer from a thread."""

    type: Literal["thread.discord_message_sent"]
    payload: g.ThreadDiscordMessageSentEventPayload


class ThreadDiscordMessageUpdated(PlainEvent):
    """A Discord message on a thread was edited or deleted."""

    type: Literal["thread.discord_message_updated"]
    payload: g.ThreadDiscordMessageUpdatedEventPayload


class ThreadMsTeamsMessageReceived(PlainEvent):
    """A Microsoft Teams message from the customer arrived on a thread."""

    type: Literal["thread.ms_teams_message_received"]
    payload: g.ThreadMSTeamsMessageReceivedEventPayload


class ThreadMsTeamsMessageSent(PlainEvent):
    """A Microsoft Teams message was sent to the customer from a thread."""

    type: Literal["thread.ms_teams_message_sent"]
    payload: g.ThreadMSTeamsMessageSentEventPayload


# Customers and the timeline ----------------------------------------------------------------


class CustomerCreated(PlainEvent):
    """A customer was created (first contact, the API or an import)."""

    type: Literal["customer.customer_created"]
    payload: g.CustomerCreatedPublicEventPayload


class CustomerUpdated(PlainEvent):
    """A customer's details changed; ``previousCustomer`` is before the change."""

    type: Literal["customer.customer_updated"]
    payload: g.CustomerUpdatedPublicEventPayload


class CustomerDeleted(PlainEvent):
    """A customer was deleted; ``previousCustomer`` is the customer as it was."""

    type: Literal["customer.customer_deleted"]
    payload: g.CustomerDeletedPublicEventPayload


class CustomerChanged(PlainEvent):
    """A customer was created or updated, in one event type (``changeType`` ADDED or UPDATED;
    ``previousCustomer`` is null when ADDED)."""

    type: Literal["customer.customer_changed"]
    payload: g.CustomerChangedPayload


class CustomerGroupChanged(PlainEvent):
    """A customer group was created, updated or deleted (``changeType`` ADDED, UPDATED or
    REMOVED, each with its own payload class)."""

    type: Literal["customer.customer_group_changed"]
    # Tagged on changeType, so a bad payload's error names the one variant it claims to be.
    payload: Annotated[
        g.CustomerGroupChangedPayloadAdded
        | g.CustomerGroupChangedPayloadUpdated
        | g.CustomerGroupChangedPayloadRemoved,
        Field(discriminator="changeType"),
    ]


class CustomerGroupMembershipsChanged(PlainEvent):
    """A customer was added to or removed from a customer group."""

    type: Literal["customer.customer_group_memberships_changed"]
    payload: g.CustomerGroupMembershipsChangedPayload


class TimelineEntryChanged(PlainEvent):
    """An entry of a customer's timeline (a note, chat, email or custom entry) was added,
    updated or removed; ``previousTimelineEntry`` is null when ADDED, ``timelineEntry`` when
    REMOVED."""

    type: Literal["timeline.timeline_entry_changed"]
    payload: g.TimelineEntryChangedPayload


def _event_type(model: type[PlainEvent]) -> str:
    (value,) = get_args(model.model_fields["type"].annotation)
    return str(value)


# Event type -> model, from each class's ``type`` literal (so the two cannot disagree).
EVENTS: dict[str, type[PlainEvent]] = {
    _event_type(model): model for model in PlainEvent.__subclasses__()
}

__all__ = [
    "EVENTS",
    "Actor",
    "ActorUnknown",
    "Chat",
    "Customer",
    "CustomerActor",
    "CustomerChanged",
    "CustomerCreated",
    "CustomerDeleted",
    "CustomerGroup",
    "CustomerGroupChanged",
    "CustomerGroupMembershipsChanged",
    "CustomerUpdated",
    "DiscordMessage",
    "Email",
    "Label",
    "MachineUser",
    "MachineUserActor",
    "MsTeamsMessage",
    "PlainEvent",
    "SlackMessage",
    "SystemActor",
    "Thread",
    "ThreadAssignmentTransitioned",
    "ThreadChatReceived",
    "ThreadChatSent",
    "ThreadCreated",
    "ThreadDiscordMessageReceived",
    "ThreadDiscordMessageSent",
    "ThreadDiscordMessageUpdated",
    "ThreadEmailReceived",
    "ThreadEmailSent",
    "ThreadField",
    "ThreadFieldCreated",
    "ThreadFieldDeleted",
    "ThreadFieldUpdated",
    "ThreadLabelsChanged",
    "ThreadMsTeamsMessageReceived",
    "ThreadMsTeamsMessageSent",
    "ThreadNoteCreated",
    "ThreadPriorityChanged",
    "ThreadServiceLevelAgreementStatusTransitioned",
    "ThreadSlackMessageReceived",
    "ThreadSlackMessageSent",
    "ThreadSlackMessageUpdated",
    "ThreadStatusTransitioned",
    "ThreadTenantUpdated",
    "ThreadTenantUpdatedPayload",
    "TimelineEntry",
    "TimelineEntryChanged",
    "User",
    "UserActor",
    "WebhookMetadata",
]
