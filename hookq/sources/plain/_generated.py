"""Pydantic models of Plain's webhook payloads, generated from webhook-schema-2024-09-18.json, webhook-schema-2026-02-27.json.

Do not edit. Regenerate (after adding a schema version to hookq/sources/plain/schemas/):

    .venv/bin/python scripts/generate_plain_models.py

Handlers import the event classes from ``hookq.sources.plain`` (see ``models.py``).
"""

from __future__ import annotations

from pydantic import ConfigDict, Discriminator, Field, RootModel, Tag
from hookq.sources.plain.datetimes import DateTime
from typing import Annotated, Literal
from hookq.sources.base import ProviderModel, by_field


class ActorUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    actorType: Annotated[str, Field(pattern="^(?!(customer|machineUser|system|user)$)")]


class Attachment(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    fileName: str
    fileSizeBytes: int
    fileMimeType: str
    fileExtension: str | None
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class Chat(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    timelineEntryId: str
    id: str
    customerReadAt: DateTime | None
    text: str | None = None
    attachments: list[Attachment]
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class ChatEntry(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    entryType: Literal["chat"]
    chatId: str
    text: str | None
    attachments: list[ChatEntryAttachment]
    customerReadAt: DateTime | None


class ChatEntryAttachment(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    fileName: str
    fileSizeBytes: int
    fileMimeType: str
    fileExtension: str | None
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion
    type: Literal["CHAT"]


class ComponentBadge(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    badgeLabel: str
    badgeColor: Annotated[
        Literal["GREY", "GREEN", "YELLOW", "RED", "BLUE", "UNKNOWN_COMPONENT_BADGE_COLOR"]
        | str
        | None,
        Field(union_mode="left_to_right"),
    ]
    type: Literal["badge"]


class ComponentContainer(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["container"]
    containerContent: list[
        ComponentText
        | ComponentPlainText
        | ComponentSpacer
        | ComponentDivider
        | ComponentLinkButton
        | ComponentBadge
        | ComponentCopyButton
        | ComponentRow
        | ComponentWorkflowButton
        | ComponentContainerContentUnknown
    ]


class ComponentContainerContentUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    type: Annotated[
        str,
        Field(
            pattern="^(?!(badge|copyButton|divider|linkButton|plainText|row|spacer|text|workflowButton)$)"
        ),
    ]


class ComponentCopyButton(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    copyButtonValue: str
    copyButtonTooltipLabel: str | None
    type: Literal["copyButton"]


class ComponentDivider(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    dividerSpacingSize: Annotated[
        Literal["XS", "S", "M", "L", "XL", "UNKNOWN_COMPONENT_DIVIDER_SPACING_SIZE"] | str | None,
        Field(union_mode="left_to_right"),
    ]
    type: Literal["divider"]


class ComponentLinkButton(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    linkButtonUrl: str
    linkButtonLabel: str
    type: Literal["linkButton"]


class ComponentPlainText(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    plainTextSize: Annotated[
        Literal["S", "M", "L", "UNKNOWN_COMPONENT_PLAIN_TEXT_SIZE"] | str | None,
        Field(union_mode="left_to_right"),
    ]
    plainTextColor: Annotated[
        Literal[
            "NORMAL",
            "MUTED",
            "SUCCESS",
            "WARNING",
            "ERROR",
            "UNKNOWN_COMPONENT_PLAIN_TEXT_COLOR",
        ]
        | str
        | None,
        Field(union_mode="left_to_right"),
    ]
    plainText: str
    type: Literal["plainText"]


class ComponentRow(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["row"]
    rowMainContent: list[
        ComponentText
        | ComponentPlainText
        | ComponentSpacer
        | ComponentDivider
        | ComponentLinkButton
        | ComponentBadge
        | ComponentCopyButton
        | ComponentWorkflowButton
        | ComponentRowContentUnknown
    ]
    rowAsideContent: list[
        ComponentText
        | ComponentPlainText
        | ComponentSpacer
        | ComponentDivider
        | ComponentLinkButton
        | ComponentBadge
        | ComponentCopyButton
        | ComponentWorkflowButton
        | ComponentRowContentUnknown
    ]


class ComponentRowContentUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    type: Annotated[
        str,
        Field(
            pattern="^(?!(badge|copyButton|divider|linkButton|plainText|spacer|text|workflowButton)$)"
        ),
    ]


class ComponentSpacer(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    spacerSize: Annotated[
        Literal["XS", "S", "M", "L", "XL", "UNKNOWN_COMPONENT_SPACER_SIZE"] | str,
        Field(union_mode="left_to_right"),
    ]
    type: Literal["spacer"]


class ComponentText(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["text"]
    textSize: Annotated[
        Literal["S", "M", "L", "UNKNOWN_COMPONENT_TEXT_SIZE"] | str | None,
        Field(union_mode="left_to_right"),
    ]
    textColor: Annotated[
        Literal[
            "NORMAL",
            "MUTED",
            "SUCCESS",
            "WARNING",
            "ERROR",
            "UNKNOWN_COMPONENT_TEXT_COLOR",
        ]
        | str
        | None,
        Field(union_mode="left_to_right"),
    ]
    text: str


class ComponentUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    type: Annotated[
        str,
        Field(
            pattern="^(?!(badge|container|copyButton|divider|linkButton|plainText|row|spacer|text|workflowButton)$)"
        ),
    ]


class ComponentWorkflowButton(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    workflowButtonLabel: str
    workflowButtonWorkflowIdentifier: WorkflowButtonWorkflowIdentifier
    type: Literal["workflowButton"]


class CustomEntry(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    entryType: Literal["custom"]
    externalId: str | None
    title: str
    type: str | None
    components: list[
        ComponentText
        | ComponentPlainText
        | ComponentSpacer
        | ComponentDivider
        | ComponentLinkButton
        | ComponentBadge
        | ComponentCopyButton
        | ComponentRow
        | ComponentContainer
        | ComponentWorkflowButton
        | ComponentUnknown
    ]
    attachments: list[CustomEntryAttachment]


class CustomEntryAttachment(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    fileName: str
    fileSizeBytes: int
    fileMimeType: str
    fileExtension: str | None
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion
    type: Literal["CUSTOM_TIMELINE_ENTRY"]


class Customer(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    email: Annotated[CustomerEmail, Field(title="CustomerEmail")]
    externalId: str | None
    fullName: str
    shortName: str | None
    markedAsSpamAt: DateTime | None = None
    markedAsSpamBy: InternalActorUnion | None = None
    customerGroupMemberships: list[CustomerGroupMembership]
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class CustomerActor(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    actorType: Literal["customer"]
    customerId: str


class CustomerChangedPayload(ProviderModel):
    """
    A customer has been created or updated
    """

    model_config = ConfigDict(
        extra="allow",
    )
    changeType: Literal["ADDED", "UPDATED"]
    eventType: str
    customer: Customer
    previousCustomer: Customer | None


class CustomerCreatedPublicEventPayload(ProviderModel):
    """
    A customer has been created
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    customer: Customer


class CustomerDeletedPublicEventPayload(ProviderModel):
    """
    A customer has been deleted
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    previousCustomer: Customer


class CustomerEmail(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    email: str
    isVerified: bool
    verifiedAt: DateTime | None


class CustomerGroup(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    workspaceId: str
    name: str
    key: str
    color: str
    createdAt: DateTime
    createdBy: InternalActorUnion
    updatedAt: DateTime
    updatedBy: InternalActorUnion


class CustomerGroupChangedPayloadAdded(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    changeType: Literal["ADDED"]
    eventType: str
    customerGroup: CustomerGroup


class CustomerGroupChangedPayloadRemoved(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    changeType: Literal["REMOVED"]
    eventType: str
    previousCustomerGroup: CustomerGroup


class CustomerGroupChangedPayloadUpdated(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    changeType: Literal["UPDATED"]
    eventType: str
    customerGroup: CustomerGroup
    previousCustomerGroup: CustomerGroup


class CustomerGroupChangedPayload(
    RootModel[
        CustomerGroupChangedPayloadAdded
        | CustomerGroupChangedPayloadUpdated
        | CustomerGroupChangedPayloadRemoved
    ]
):
    root: Annotated[
        CustomerGroupChangedPayloadAdded
        | CustomerGroupChangedPayloadUpdated
        | CustomerGroupChangedPayloadRemoved,
        Field(union_mode="left_to_right"),
    ]


class CustomerGroupMembership(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    customerId: str
    customerGroupId: str
    workspaceId: str
    createdAt: DateTime
    createdBy: InternalActorUnion
    updatedAt: DateTime
    updatedBy: InternalActorUnion
    customerGroup: CustomerGroup


class CustomerGroupMembershipsChangedPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    changeType: Literal["ADDED", "REMOVED"]
    customer: Customer
    previousCustomer: Customer


class CustomerUpdatedPublicEventPayload(ProviderModel):
    """
    A customer has been updated
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    customer: Customer
    previousCustomer: Customer


class DiscordMessage(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    timelineEntryId: str
    id: str
    discordGuildId: str
    discordChannelId: str
    discordThreadId: str
    discordId: str
    discordTimestamp: DateTime
    textContent: str
    attachments: Annotated[list[Attachment] | None, Field(validate_default=True)] = []
    lastEditedOnDiscordAt: DateTime | None = None
    deletedOnDiscordAt: DateTime | None = None
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class Email(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    timelineEntryId: str
    id: str
    to: EmailParticipant
    from_: Annotated[EmailParticipant, Field(alias="from")]
    replyTo: str | None
    additionalRecipients: list[EmailParticipant]
    hiddenRecipients: list[EmailParticipant]
    subject: str | None
    textContent: str | None
    markdownContent: str | None
    authenticity: Annotated[
        Literal["PASS", "FAIL", "UNKNOWN", "UNKNOWN_EMAIL_AUTHENTICITY"] | str,
        Field(union_mode="left_to_right"),
    ]
    sentAt: DateTime | None
    receivedAt: DateTime | None
    attachments: list[Attachment]
    inReplyToEmailId: str | None
    isStartOfThread: bool
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class EmailActorDeletedCustomer(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    actorType: Literal["deletedCustomer"]
    customerId: str


class EmailActorSupportEmailAddress(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    actorType: Literal["supportEmailAddress"]
    supportEmailAddress: str


class EmailActorUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    actorType: Annotated[
        str, Field(pattern="^(?!(customer|deletedCustomer|supportEmailAddress|user)$)")
    ]


class EmailEntry(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    entryType: Literal["email"]
    emailId: str
    to: EmailParticipant
    from_: Annotated[EmailParticipant, Field(alias="from")]
    additionalRecipients: list[EmailParticipant]
    hiddenRecipients: list[EmailParticipant]
    subject: str | None
    textContent: str | None
    hasMoreTextContent: bool
    markdownContent: str | None
    hasMoreMarkdownContent: bool
    authenticity: Annotated[
        Literal["PASS", "FAIL", "UNKNOWN", "UNKNOWN_EMAIL_AUTHENTICITY"] | str,
        Field(union_mode="left_to_right"),
    ]
    sentAt: DateTime | None
    receivedAt: DateTime | None
    attachments: list[EmailEntryAttachment]
    inReplyToEmailId: str | None
    isStartOfThread: bool


class EmailEntryAttachment(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    fileName: str
    fileSizeBytes: int
    fileMimeType: str
    fileExtension: str | None
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion
    type: Literal["EMAIL"]
    emailContentId: str


class EmailParticipant(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    email: str
    name: str | None
    emailActor: EmailActorUnion | None


class InternalActorUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    actorType: Annotated[str, Field(pattern="^(?!(machineUser|system|user)$)")]


class Label(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    labelType: LabelType
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class LabelType(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    name: str
    icon: str | None = None
    isArchived: bool | None = False
    archivedAt: DateTime | None
    archivedBy: InternalActorUnion | None
    externalId: str | None = None
    isExcludedFromAi: bool | None = False
    createdAt: DateTime
    createdBy: InternalActorUnion
    updatedAt: DateTime
    updatedBy: InternalActorUnion


class Linear(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    issueId: str


class MachineUser(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    fullName: str
    publicName: str
    description: str | None
    createdAt: DateTime
    createdBy: InternalActorUnion
    updatedAt: DateTime
    updatedBy: InternalActorUnion
    deletedAt: DateTime | None
    deletedBy: InternalActorUnion | None


class MachineUserActor(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    actorType: Literal["machineUser"]
    machineUserId: str


class MsTeamsMessage(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    timelineEntryId: str
    threadId: str
    msTeamsMessageId: str
    type: Annotated[
        Literal["INBOUND", "OUTBOUND", "UNKNOWN_MS_TEAMS_MESSAGE_TYPE"] | str | None,
        Field(union_mode="left_to_right"),
    ]
    text: str
    attachments: list[Attachment]
    lastEditedOnMsTeamsAt: DateTime | None
    deletedOnMsTeamsAt: DateTime | None
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class Note(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    timelineEntryId: str
    id: str
    text: str
    markdown: str | None
    createdAt: DateTime
    createdBy: InternalActorUnion
    updatedAt: DateTime
    updatedBy: InternalActorUnion
    deletedAt: DateTime | None
    deletedBy: InternalActorUnion | None


class NoteEntry(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    entryType: Literal["note"]
    noteId: str
    text: str
    markdown: str | None


class ServiceLevelAgreementFirstResponseTime(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    tier: Tier
    useBusinessHoursOnly: bool
    threadPriorityFilter: list[float]
    createdAt: DateTime
    createdBy: InternalActorUnion
    updatedAt: DateTime
    updatedBy: InternalActorUnion
    type: Literal["FIRST_RESPONSE_TIME"]
    firstResponseTimeMinutes: float


class ServiceLevelAgreementNextResponseTime(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    tier: Tier
    useBusinessHoursOnly: bool
    threadPriorityFilter: list[float]
    createdAt: DateTime
    createdBy: InternalActorUnion
    updatedAt: DateTime
    updatedBy: InternalActorUnion
    type: Literal["NEXT_RESPONSE_TIME"]
    nextResponseTimeMinutes: float


class ServiceLevelAgreementStatusDetailAchieved(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    achievedAt: DateTime
    status: Literal["ACHIEVED"]


class ServiceLevelAgreementStatusDetailBreached(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    breachedAt: DateTime
    completedAt: DateTime
    status: Literal["BREACHED"]


class ServiceLevelAgreementStatusDetailBreaching(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    breachedAt: DateTime
    status: Literal["BREACHING"]


class ServiceLevelAgreementStatusDetailCancelled(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    cancelledAt: DateTime
    status: Literal["CANCELLED"]


class ServiceLevelAgreementStatusDetailImminentBreach(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    breachTime: DateTime
    status: Literal["IMMINENT_BREACH"]


class ServiceLevelAgreementStatusDetailPending(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    breachTime: DateTime
    status: Literal["PENDING"]


class ServiceLevelAgreementStatusDetailUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    status: Annotated[
        str,
        Field(pattern="^(?!(ACHIEVED|BREACHED|BREACHING|CANCELLED|IMMINENT_BREACH|PENDING)$)"),
    ]


class ServiceLevelAgreementUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    type: Annotated[str, Field(pattern="^(?!(FIRST_RESPONSE_TIME|NEXT_RESPONSE_TIME)$)")]


class SlackMessage(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    timelineEntryId: str
    id: str
    text: str
    resolvedText: str | None = ""
    attachments: list[Attachment]
    slackChannelId: str
    slackChannelName: str
    slackMessageLink: str
    slackReactions: Annotated[list[SlackReaction] | None, Field(validate_default=True)] = []
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class SlackReaction(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    name: str
    actors: list[SlackReactionActor]
    imageUrl: str | None = None


class SlackReactionActor(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    actorId: str
    actorType: Annotated[
        Literal["user", "machineUser", "customer", "system"] | str,
        Field(union_mode="left_to_right"),
    ]
    slackUserId: str


class SystemActor(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    actorType: Literal["system"]
    system: str


class Thread(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    customer: Customer
    title: str
    previewText: str | None = None
    priority: float
    externalId: str | None
    status: Annotated[
        Literal["TODO", "DONE", "SNOOZED", "UNKNOWN_THREAD_STATUS"] | str,
        Field(union_mode="left_to_right"),
    ]
    statusChangedAt: DateTime
    statusChangedBy: ActorUnion | None = None
    statusDetail: ThreadStatusDetailUnion | None
    assignee: Annotated[
        User | MachineUser | ThreadAssigneeIdOnly | ThreadAssigneeUnknown | None,
        Field(union_mode="left_to_right"),
    ]
    assignedAt: DateTime | None
    additionalAssignees: Annotated[
        list[User | MachineUser | ThreadAssigneeIdOnly | ThreadAssigneeUnknown] | None,
        Field(validate_default=True),
    ] = []
    labels: list[Label]
    firstInboundMessageInfo: ThreadMessageInfo | None
    firstOutboundMessageInfo: ThreadMessageInfo | None
    lastInboundMessageInfo: ThreadMessageInfo | None
    lastOutboundMessageInfo: ThreadMessageInfo | None
    supportEmailAddresses: list[str]
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class ThreadAssigneeIdOnly(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str


class ThreadAssigneeUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: str


class ThreadAssignmentTransitionedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    previousThread: Thread
    thread: Thread


class ThreadChatReceivedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    chat: Chat
    thread: Thread


class ThreadChatSentPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    chat: Chat
    thread: Thread


class ThreadCreatedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread


class ThreadDiscordMessageReceivedEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    discordMessage: DiscordMessage


class ThreadDiscordMessageSentEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    discordMessage: DiscordMessage


class ThreadDiscordMessageUpdatedEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    discordMessage: DiscordMessage


class ThreadEmailReceivedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    email: Email


class ThreadEmailSentPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    email: Email


class ThreadField(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    threadId: str
    key: str
    type: Annotated[
        Literal[
            "STRING",
            "BOOL",
            "ENUM",
            "NUMBER",
            "CURRENCY",
            "DATE",
            "UNKNOWN_THREAD_FIELD_SCHEMA_TYPE",
        ]
        | str,
        Field(union_mode="left_to_right"),
    ]
    stringValue: str | None
    booleanValue: bool | None
    numberValue: float | None = None
    dateValue: str | None = None
    createdAt: DateTime
    createdBy: ActorUnion
    updatedAt: DateTime
    updatedBy: ActorUnion


class ThreadFieldCreatedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    threadField: ThreadField


class ThreadFieldDeletedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    previousThreadField: ThreadField


class ThreadFieldUpdatedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    previousThreadField: ThreadField
    threadField: ThreadField


class ThreadLabelsChangedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    changeType: Literal["ADDED", "REMOVED"]
    thread: Thread
    previousThread: Thread


class ThreadMSTeamsMessageReceivedEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    msTeamsMessage: MsTeamsMessage


class ThreadMSTeamsMessageSentEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    msTeamsMessage: MsTeamsMessage


class ThreadMessageInfo(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    timestamp: DateTime
    messageSource: Annotated[
        Literal[
            "CHAT",
            "EMAIL",
            "API",
            "SLACK",
            "MS_TEAMS",
            "UNKNOWN_THREAD_MESSAGE_INFO_MESSAGE_SOURCE",
        ]
        | str,
        Field(union_mode="left_to_right"),
    ]
    actorId: str | None = None
    actorType: Annotated[
        Literal["user", "machineUser", "customer", "system"] | str | None,
        Field(union_mode="left_to_right"),
    ] = None


class ThreadNoteCreatedEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    note: Note


class ThreadPriorityChangedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    previousThread: Thread
    thread: Thread


class ThreadServiceLevelAgreementStatusTransitionedPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    serviceLevelAgreement: ServiceLevelAgreementUnion
    previousServiceLevelAgreementStatusDetail: ServiceLevelAgreementStatusDetailUnion
    serviceLevelAgreementStatusDetail: ServiceLevelAgreementStatusDetailUnion


class ThreadSlackMessageReceivedEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    slackMessage: SlackMessage


class ThreadSlackMessageSentEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    thread: Thread
    slackMessage: SlackMessage


class ThreadSlackMessageUpdatedEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    changeType: Annotated[
        Literal[
            "MESSAGE_EDITED",
            "MESSAGE_DELETED",
            "REACTIONS_CHANGED",
            "UNKNOWN_SLACK_MESSAGE_CHANGE_TYPE",
        ]
        | str
        | None,
        Field(union_mode="left_to_right"),
    ] = None
    thread: Thread
    slackMessage: SlackMessage


class ThreadStatusDetailCreated(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["CREATED"]
    createdAt: DateTime


class ThreadStatusDetailDoneAutomaticallySet(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["DONE_AUTOMATICALLY_SET"]
    afterSeconds: float | None = None


class ThreadStatusDetailDoneManuallySet(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["DONE_MANUALLY_SET"]


class ThreadStatusDetailIgnored(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["IGNORED"]


class ThreadStatusDetailInProgress(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["IN_PROGRESS"]


class ThreadStatusDetailNewReply(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["NEW_REPLY"]


class ThreadStatusDetailThreadDiscussionResolved(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["THREAD_DISCUSSION_RESOLVED"]
    threadDiscussionId: str | None = None


class ThreadStatusDetailThreadLinkUpdated(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["THREAD_LINK_UPDATED"]
    linear: Linear | None = None


class ThreadStatusDetailUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    type: Annotated[
        str,
        Field(
            pattern="^(?!(CREATED|DONE_AUTOMATICALLY_SET|DONE_MANUALLY_SET|IGNORED|IN_PROGRESS|NEW_REPLY|THREAD_DISCUSSION_RESOLVED|THREAD_LINK_UPDATED|WAITING_FOR_CUSTOMER|WAITING_FOR_DURATION)$)"
        ),
    ]


class ThreadStatusDetailWaitingForCustomer(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["WAITING_FOR_CUSTOMER"]


class ThreadStatusDetailWaitingForDuration(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["WAITING_FOR_DURATION"]
    waitingUntil: DateTime
    durationSeconds: float


class ThreadStatusTransitionedPublicEventPayload(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    previousThread: Thread
    thread: Thread


class Tier(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    name: str
    externalId: str | None
    color: str
    defaultThreadPriority: float | None = 2
    isDefault: bool
    createdAt: DateTime
    createdBy: InternalActorUnion
    updatedAt: DateTime
    updatedBy: InternalActorUnion


class TimelineEntry(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    customerId: str
    threadId: str | None = None
    timestamp: DateTime
    actor: ActorUnion
    entry: TimelineEntryUnion


class TimelineEntryChangedPayload(ProviderModel):
    """
    A timeline entry has been added, updated or removed
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: str
    previousTimelineEntry: Annotated[
        TimelineEntry | None,
        Field(description="null if changeType=ADDED"),
    ]
    timelineEntry: Annotated[
        TimelineEntry | None,
        Field(description="null if changeType=REMOVED"),
    ]
    changeType: Literal["ADDED", "UPDATED", "REMOVED"]


class TimelineEntryUnknown(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
        regex_engine="python-re",
    )
    entryType: Annotated[str, Field(pattern="^(?!(chat|custom|email|note)$)")]


class User(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: str
    email: str
    fullName: str
    publicName: str
    status: Annotated[
        Literal["ONLINE", "OFFLINE", "BREAK", "AWAY", "UNKNOWN_USER_STATUS"] | str,
        Field(union_mode="left_to_right"),
    ]
    statusChangedAt: DateTime
    createdAt: DateTime
    createdBy: InternalActorUnion
    updatedAt: DateTime
    updatedBy: InternalActorUnion
    deletedAt: DateTime | None
    deletedBy: InternalActorUnion | None


class UserActor(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    actorType: Literal["user"]
    userId: str


class NullableActor(
    RootModel[UserActor | MachineUserActor | SystemActor | CustomerActor | ActorUnknown | None]
):
    root: ActorUnion | None


class WebhookMetadata(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    webhookTargetId: str
    webhookTargetVersion: str
    webhookDeliveryAttemptId: str
    webhookDeliveryAttemptNumber: int
    webhookDeliveryAttemptTimestamp: DateTime


class WorkflowButtonWorkflowIdentifier(ProviderModel):
    model_config = ConfigDict(
        extra="allow",
    )
    workflowId: str


# Unions chosen by a field's value (the models above refer to them by name).
ActorUnion = Annotated[
    Annotated[UserActor, Tag("UserActor")]
    | Annotated[MachineUserActor, Tag("MachineUserActor")]
    | Annotated[SystemActor, Tag("SystemActor")]
    | Annotated[CustomerActor, Tag("CustomerActor")]
    | Annotated[ActorUnknown, Tag("ActorUnknown")],
    Discriminator(
        by_field(
            "actorType",
            {
                "user": "UserActor",
                "machineUser": "MachineUserActor",
                "system": "SystemActor",
                "customer": "CustomerActor",
            },
            "ActorUnknown",
        )
    ),
]

EmailActorUnion = Annotated[
    Annotated[UserActor, Tag("UserActor")]
    | Annotated[CustomerActor, Tag("CustomerActor")]
    | Annotated[EmailActorSupportEmailAddress, Tag("EmailActorSupportEmailAddress")]
    | Annotated[EmailActorDeletedCustomer, Tag("EmailActorDeletedCustomer")]
    | Annotated[EmailActorUnknown, Tag("EmailActorUnknown")],
    Discriminator(
        by_field(
            "actorType",
            {
                "user": "UserActor",
                "customer": "CustomerActor",
                "supportEmailAddress": "EmailActorSupportEmailAddress",
                "deletedCustomer": "EmailActorDeletedCustomer",
            },
            "EmailActorUnknown",
        )
    ),
]

InternalActorUnion = Annotated[
    Annotated[UserActor, Tag("UserActor")]
    | Annotated[MachineUserActor, Tag("MachineUserActor")]
    | Annotated[SystemActor, Tag("SystemActor")]
    | Annotated[InternalActorUnknown, Tag("InternalActorUnknown")],
    Discriminator(
        by_field(
            "actorType",
            {"user": "UserActor", "machineUser": "MachineUserActor", "system": "SystemActor"},
            "InternalActorUnknown",
        )
    ),
]

ServiceLevelAgreementStatusDetailUnion = Annotated[
    Annotated[
        ServiceLevelAgreementStatusDetailPending, Tag("ServiceLevelAgreementStatusDetailPending")
    ]
    | Annotated[
        ServiceLevelAgreementStatusDetailAchieved, Tag("ServiceLevelAgreementStatusDetailAchieved")
    ]
    | Annotated[
        ServiceLevelAgreementStatusDetailImminentBreach,
        Tag("ServiceLevelAgreementStatusDetailImminentBreach"),
    ]
    | Annotated[
        ServiceLevelAgreementStatusDetailBreaching,
        Tag("ServiceLevelAgreementStatusDetailBreaching"),
    ]
    | Annotated[
        ServiceLevelAgreementStatusDetailBreached, Tag("ServiceLevelAgreementStatusDetailBreached")
    ]
    | Annotated[
        ServiceLevelAgreementStatusDetailCancelled,
        Tag("ServiceLevelAgreementStatusDetailCancelled"),
    ]
    | Annotated[
        ServiceLevelAgreementStatusDetailUnknown, Tag("ServiceLevelAgreementStatusDetailUnknown")
    ],
    Discriminator(
        by_field(
            "status",
            {
                "PENDING": "ServiceLevelAgreementStatusDetailPending",
                "ACHIEVED": "ServiceLevelAgreementStatusDetailAchieved",
                "IMMINENT_BREACH": "ServiceLevelAgreementStatusDetailImminentBreach",
                "BREACHING": "ServiceLevelAgreementStatusDetailBreaching",
                "BREACHED": "ServiceLevelAgreementStatusDetailBreached",
                "CANCELLED": "ServiceLevelAgreementStatusDetailCancelled",
            },
            "ServiceLevelAgreementStatusDetailUnknown",
        )
    ),
]

ServiceLevelAgreementUnion = Annotated[
    Annotated[ServiceLevelAgreementFirstResponseTime, Tag("ServiceLevelAgreementFirstResponseTime")]
    | Annotated[ServiceLevelAgreementNextResponseTime, Tag("ServiceLevelAgreementNextResponseTime")]
    | Annotated[ServiceLevelAgreementUnknown, Tag("ServiceLevelAgreementUnknown")],
    Discriminator(
        by_field(
            "type",
            {
                "FIRST_RESPONSE_TIME": "ServiceLevelAgreementFirstResponseTime",
                "NEXT_RESPONSE_TIME": "ServiceLevelAgreementNextResponseTime",
            },
            "ServiceLevelAgreementUnknown",
        )
    ),
]

ThreadStatusDetailUnion = Annotated[
    Annotated[ThreadStatusDetailCreated, Tag("ThreadStatusDetailCreated")]
    | Annotated[ThreadStatusDetailNewReply, Tag("ThreadStatusDetailNewReply")]
    | Annotated[ThreadStatusDetailInProgress, Tag("ThreadStatusDetailInProgress")]
    | Annotated[ThreadStatusDetailWaitingForCustomer, Tag("ThreadStatusDetailWaitingForCustomer")]
    | Annotated[ThreadStatusDetailWaitingForDuration, Tag("ThreadStatusDetailWaitingForDuration")]
    | Annotated[ThreadStatusDetailThreadLinkUpdated, Tag("ThreadStatusDetailThreadLinkUpdated")]
    | Annotated[ThreadStatusDetailDoneManuallySet, Tag("ThreadStatusDetailDoneManuallySet")]
    | Annotated[ThreadStatusDetailIgnored, Tag("ThreadStatusDetailIgnored")]
    | Annotated[
        ThreadStatusDetailDoneAutomaticallySet, Tag("ThreadStatusDetailDoneAutomaticallySet")
    ]
    | Annotated[
        ThreadStatusDetailThreadDiscussionResolved,
        Tag("ThreadStatusDetailThreadDiscussionResolved"),
    ]
    | Annotated[ThreadStatusDetailUnknown, Tag("ThreadStatusDetailUnknown")],
    Discriminator(
        by_field(
            "type",
            {
                "CREATED": "ThreadStatusDetailCreated",
                "NEW_REPLY": "ThreadStatusDetailNewReply",
                "IN_PROGRESS": "ThreadStatusDetailInProgress",
                "WAITING_FOR_CUSTOMER": "ThreadStatusDetailWaitingForCustomer",
                "WAITING_FOR_DURATION": "ThreadStatusDetailWaitingForDuration",
                "THREAD_LINK_UPDATED": "ThreadStatusDetailThreadLinkUpdated",
                "DONE_MANUALLY_SET": "ThreadStatusDetailDoneManuallySet",
                "IGNORED": "ThreadStatusDetailIgnored",
                "DONE_AUTOMATICALLY_SET": "ThreadStatusDetailDoneAutomaticallySet",
                "THREAD_DISCUSSION_RESOLVED": "ThreadStatusDetailThreadDiscussionResolved",
            },
            "ThreadStatusDetailUnknown",
        )
    ),
]

TimelineEntryUnion = Annotated[
    Annotated[NoteEntry, Tag("NoteEntry")]
    | Annotated[ChatEntry, Tag("ChatEntry")]
    | Annotated[EmailEntry, Tag("EmailEntry")]
    | Annotated[CustomEntry, Tag("CustomEntry")]
    | Annotated[TimelineEntryUnknown, Tag("TimelineEntryUnknown")],
    Discriminator(
        by_field(
            "entryType",
            {
                "note": "NoteEntry",
                "chat": "ChatEntry",
                "email": "EmailEntry",
                "custom": "CustomEntry",
            },
            "TimelineEntryUnknown",
        )
    ),
]
