"""StaryaAI (PsycoAI) event models: ``{"event": <type>, "timestamp": <ISO-8601>, "data": {...}}``.

Field names are StaryaAI's own (camelCase), so the models read like the provider's docs; the
one exception is ``from``, a Python keyword, which is ``from_`` here. ``cpf``, ``birthDate``,
``phone`` and ``email`` are personal data (LGPD): they are left out of ``repr()`` and marked
``x-personal-data`` in the JSON Schema, so that a model that ends up in a log line or a traceback
does not carry them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from hookq.sources.base import Personal, ProviderModel

# Personal data: kept (handlers need it) but never shown by repr(), and masked wherever hookq
# shows data (hookq.privacy).
PersonalStr = Annotated[str, Personal]
PersonalDate = Annotated[date, Personal]


class StaryaData(ProviderModel):
    """The ``data`` object of an event: any JSON object (all its fields kept in ``model_extra``
    when the event type has no model of its own)."""


class StaryaEvent(ProviderModel):
    """Any StaryaAI event: ``event`` names the type, ``data`` carries it. Events of a type hookq
    has no model for are validated against this envelope only."""

    # A validation error's text (what gets logged and shown) names the field and the reason but
    # not the value: the value may be a CPF or a phone number. ``errors()`` still has it.
    model_config = ConfigDict(hide_input_in_errors=True)

    event: str
    timestamp: datetime
    data: StaryaData


# Users -------------------------------------------------------------------------------------


class CommunicationOptIn(ProviderModel):
    whatsapp: bool | None = None
    sms: bool | None = None


class Preferences(ProviderModel):
    timezone: str | None = None
    language: str | None = None
    communicationOptIn: CommunicationOptIn | None = None


class User(StaryaData):
    """A user (a customer of the StaryaAI account), as the seed's ``UserBase`` schema."""

    id: str
    name: PersonalStr
    externalIdentifier: str | None = None
    # A plain string, not EmailStr: the seed's own example carries a scraper artefact here, and
    # a stricter check than the provider's would dead-letter real traffic.
    email: PersonalStr
    # Documented as ``format: date``; a date is what handlers compare and compute with.
    birthDate: PersonalDate
    cpf: PersonalStr
    phone: PersonalStr
    gender: str
    metadata: dict[str, Any]
    preferences: Preferences | None = None


class UpdatedUser(User):
    """A user after an update, with ``oldState``, the user before it."""

    oldState: User


class DeletedUser(StaryaData):
    id: str
    externalIdentifier: str | None = None


class UserCreated(StaryaEvent):
    """Sent when a new user is created."""

    data: User


class UserUpdated(StaryaEvent):
    """Sent when an existing user's data is updated; ``data.oldState`` is the user before."""

    data: UpdatedUser


class UserDeleted(StaryaEvent):
    """Sent when a user is deleted; ``data`` carries only the user's ids."""

    data: DeletedUser


# Chats -------------------------------------------------------------------------------------


class ChatAgent(ProviderModel):
    id: str
    name: str


class Chat(StaryaData):
    id: str
    agent: ChatAgent
    userId: str


class ChatCreated(StaryaEvent):
    """Sent when a new chat is created."""

    data: Chat


class ChatDeleted(ChatCreated):
    """Sent when a chat is deleted; ``data`` is the chat as ``chat.created`` describes it."""


# Messages ----------------------------------------------------------------------------------


class MessageChat(ProviderModel):
    id: str
    userId: str
    agentId: str


class Image(ProviderModel):
    fileId: str


class MessageContent(ProviderModel):
    text: str
    image: list[Image] | None = None
    medias: list[str] | None = None


class Sender(ProviderModel):
    # Enforced: the role says whose words these are. A handler must not guess about a role it
    # does not know (e.g. answer a bot as if it were the customer); such a message is
    # dead-lettered with a readable error and replayed once the model knows the new role.
    type: Literal["user", "agent", "mediator"]
    agentId: str | None = None
    reason: str | None = None
    userId: str | None = None


class Platform(ProviderModel):
    # Not enforced: channels come and go (a new messaging app), and a message from a new
    # channel is still a message; dead-lettering all of a channel's traffic would be worse.
    # The known values are in the schema; anything else is kept as sent.
    type: Literal["api", "psycoai", "whatsapp", "sms", "call"] | str


class Message(StaryaData):
    chat: MessageChat
    id: str
    content: MessageContent
    from_: Sender = Field(alias="from")
    timestamp: datetime
    platform: Platform


class ChatMessageCreated(StaryaEvent):
    """Sent when a new message is sent within a chat, by the user, an agent or a mediator."""

    data: Message


# Modelled from the seed's only example (no schema is published): only what identifies the
# change is required, and types are as loose as the example allows.


class MessageStatus(StaryaData):
    messageId: str
    # sent, delivered, read... (the docs' words); not enforced: a status list grows over time.
    status: Literal["sent", "delivered", "read"] | str
    timestamp: datetime | None = None
    # ``false`` in the example; what a failure carries (true, a text, an object) is unknown.
    error: JsonValue = None
    chatId: str | None = None
    userId: str | None = None


class ChatMessageStatusUpdated(StaryaEvent):
    """Sent when a message's status changes, such as when it is sent, delivered or read."""

    data: MessageStatus


class TagAppended(StaryaData):
    chatId: str
    tagId: str
    tagName: str | None = None


class ChatTagAppended(StaryaEvent):
    """Sent when a tag is added to a chat or message."""

    data: TagAppended


EVENTS: dict[str, type[BaseModel]] = {
    "user.created": UserCreated,
    "user.updated": UserUpdated,
    "user.deleted": UserDeleted,
    "chat.created": ChatCreated,
    "chat.deleted": ChatDeleted,
    "chat.message.created": ChatMessageCreated,
    "chat.message.status.updated": ChatMessageStatusUpdated,
    "chat.tag.appended": ChatTagAppended,
}

__all__ = [
    "EVENTS",
    "Chat",
    "ChatAgent",
    "ChatCreated",
    "ChatDeleted",
    "ChatMessageCreated",
    "ChatMessageStatusUpdated",
    "ChatTagAppended",
    "CommunicationOptIn",
    "DeletedUser",
    "Image",
    "Message",
    "MessageChat",
    "MessageContent",
    "MessageStatus",
    "Platform",
    "Preferences",
    "Sender",
    "StaryaData",
    "StaryaEvent",
    "TagAppended",
    "UpdatedUser",
    "User",
    "UserCreated",
    "UserDeleted",
    "UserUpdated",
]
