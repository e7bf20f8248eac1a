"""LiveChat Event objects: the messages, files, forms... a chat thread is made of.

``Event`` is a union discriminated on ``type``. Two rules keep real traffic flowing:

- an event whose ``type`` this module does not know validates as ``OtherEvent`` (with all its
  fields kept), because LiveChat adding an event type must never dead-letter a chat;
- a deleted event (v3.6: ``"deleted": true``) keeps only its ids and original ``type``, so it
  validates as ``DeletedEvent`` whatever that type was.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from hookq.sources.base import Personal, ProviderModel
from hookq.sources.livechat.envelope import Properties


class EventBase(ProviderModel):
    """What every event has."""

    id: str
    type: str
    created_at: datetime
    custom_id: str | None = None
    # System messages and system events have no author.
    author_id: str | None = None
    # "all" or "agents"; a string, as audiences may grow.
    visibility: str | None = None
    properties: Properties | None = None


class MessagePostback(ProviderModel):
    """The rich-message button a message answers."""

    id: str
    thread_id: str | None = None
    event_id: str | None = None
    type: str | None = None
    value: str | None = None


class MessageEvent(EventBase):
    """A text message."""

    type: Literal["message"] = "message"
    text: str
    postback: MessagePostback | None = None


class FileEvent(EventBase):
    """A file (image, document...) uploaded to the chat."""

    type: Literal["file"] = "file"
    url: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    thumbnail_url: str | None = None
    thumbnail2x_url: str | None = None
    alternative_text: str | None = None


class SystemMessageEvent(EventBase):
    """A message the system writes (routing, archiving...), typed by ``system_message_type``."""

    type: Literal["system_message"] = "system_message"
    # routing.assigned, routing.archived_disconnected...: a catalogue that keeps growing.
    system_message_type: str
    text: str | None = None
    text_vars: dict[str, Any] | None = None


class RichMessageImage(ProviderModel):
    url: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    alternative_text: str | None = None


class RichMessageButton(ProviderModel):
    text: str | None = None
    # webview, message, url, phone, cancel: button kinds LiveChat has added to over time.
    type: str | None = None
    value: str | None = None
    postback_id: str | None = None
    user_ids: list[str] = []
    webview_height: str | None = None
    target: str | None = None


class RichMessageElement(ProviderModel):
    title: str | None = None
    subtitle: str | None = None
    image: RichMessageImage | None = None
    buttons: list[RichMessageButton] = []


class RichMessageEvent(EventBase):
    """A structured message: cards, quick replies or a sticker (``template_id``)."""

    type: Literal["rich_message"] = "rich_message"
    # cards, quick_replies, sticker: templates may be added, so any string.
    template_id: str
    elements: list[RichMessageElement] = []


class FormOption(ProviderModel):
    # A string in most examples, a number in some (filledFormFields): both accepted.
    id: str | int
    label: str | None = None
    group_id: int | None = None


class FormField(ProviderModel):
    # name, email, question, textarea, radio, select, checkbox, group_chooser...: open set.
    type: str
    id: str | None = None
    label: str | None = None
    required: bool | None = None
    options: list[FormOption] | None = None


class FormEvent(EventBase):
    """A form shown to the customer (pre-chat, post-chat...)."""

    type: Literal["form"] = "form"
    fields: list[FormField]
    form_id: str | None = None
    form_type: str | None = None


class FilledFormField(ProviderModel):
    """One answered field. The answer is ``answer`` (or ``answers`` for checkboxes) in the
    documented objects, but ``value`` in real v3.5 traffic: both are kept, and ``response``
    reads whichever is present."""

    type: str
    id: str | None = None
    label: str | None = None
    # Answers are often names and emails: kept out of ``repr``, like users' personal data.
    answer: Annotated[str | FormOption | None, Personal] = None
    answers: Annotated[list[FormOption] | None, Personal] = None
    value: str | FormOption | None = Field(default=None, repr=False)

    @property
    def response(self) -> str | FormOption | list[FormOption] | None:
        if self.answer is not None:
            return self.answer
        if self.answers is not None:
            return self.answers
        return self.value


class FilledFormEvent(EventBase):
    """A form the customer filled in. ``form_id`` is absent in some real traffic."""

    type: Literal["filled_form"] = "filled_form"
    fields: list[FilledFormField]
    form_id: str | None = None
    # prechat, postchat, ticket...: any string.
    form_type: str | None = None


class CustomEvent(EventBase):
    """An integration's own event: free-form ``content``."""

    type: Literal["custom"] = "custom"
    content: dict[str, Any] | None = None


class SystemEvent(EventBase):
    """A system event from an integration (v3.6), e.g. a store order; ``details`` is JSON text."""

    type: Literal["system"] = "system"
    subtype: str
    source: str | None = None
    version: int | None = None
    details: str | None = None

    def details_data(self) -> Any:
        """``details`` decoded (LiveChat sends it as a JSON string), or None."""
        return None if self.details is None else json.loads(self.details)


class DeletedEvent(EventBase):
    """An event deleted after it was sent (v3.6): only its ids and original ``type`` remain."""

    deleted: Literal[True]


class OtherEvent(EventBase):
    """An event of a type this module does not know yet: every field kept, never rejected."""


EVENT_TYPES: dict[str, type[EventBase]] = {
    "message": MessageEvent,
    "file": FileEvent,
    "system_message": SystemMessageEvent,
    "rich_message": RichMessageEvent,
    "form": FormEvent,
    "filled_form": FilledFormEvent,
    "custom": CustomEvent,
    "system": SystemEvent,
}


def _event_tag(value: Any) -> str:
    if isinstance(value, dict):
        deleted, kind = value.get("deleted"), value.get("type")
    else:
        deleted, kind = getattr(value, "deleted", None), getattr(value, "type", None)
    if deleted is True:
        return "deleted"
    return kind if isinstance(kind, str) and kind in EVENT_TYPES else "other"


Event = Annotated[
    Annotated[MessageEvent, Tag("message")]
    | Annotated[FileEvent, Tag("file")]
    | Annotated[SystemMessageEvent, Tag("system_message")]
    | Annotated[RichMessageEvent, Tag("rich_message")]
    | Annotated[FormEvent, Tag("form")]
    | Annotated[FilledFormEvent, Tag("filled_form")]
    | Annotated[CustomEvent, Tag("custom")]
    | Annotated[SystemEvent, Tag("system")]
    | Annotated[DeletedEvent, Tag("deleted")]
    | Annotated[OtherEvent, Tag("other")],
    Discriminator(_event_tag),
]

__all__ = [
    "EVENT_TYPES",
    "CustomEvent",
    "DeletedEvent",
    "Event",
    "EventBase",
    "FileEvent",
    "FilledFormEvent",
    "FilledFormField",
    "FormEvent",
    "FormField",
    "FormOption",
    "MessageEvent",
    "MessagePostback",
    "OtherEvent",
    "RichMessageButton",
    "RichMessageElement",
    "RichMessageEvent",
    "RichMessageImage",
    "SystemEvent",
    "SystemMessageEvent",
]
