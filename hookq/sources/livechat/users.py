"""LiveChat User objects: the customer and the agent (or bot) taking part in a chat.

``User`` is a union discriminated on ``type``. A user type LiveChat adds later validates as
``OtherUser`` instead of failing: a new kind of participant must not dead-letter a chat.

Names, emails, phone numbers, IPs and addresses are personal data: they are left out of the
models' ``repr`` so that logging a model by mistake does not leak them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag

from hookq.sources.base import Personal, ProviderModel


class Geolocation(ProviderModel):
    country: str | None = None
    country_code: str | None = None
    region: str | None = None
    city: str | None = None
    timezone: str | None = None
    # Strings in LiveChat's examples ("51.1043015"); numbers would be as valid.
    latitude: str | float | None = None
    longitude: str | float | None = None


class VisitedPage(ProviderModel):
    opened_at: datetime | None = None
    url: str | None = None
    title: str | None = None


class Visit(ProviderModel):
    started_at: datetime | None = None
    ended_at: datetime | None = None
    referrer: str | None = None
    ip: Annotated[str | None, Personal] = None
    user_agent: Annotated[str | None, Personal] = None
    geolocation: Geolocation | None = None
    last_pages: list[VisitedPage] = []


class Statistics(ProviderModel):
    chats_count: int | None = None
    threads_count: int | None = None
    visits_count: int | None = None
    page_views_count: int | None = None
    greetings_shown_count: int | None = None
    greetings_accepted_count: int | None = None
    tickets_count: int | None = None


class Ticket(ProviderModel):
    ticket_id: str
    created_at: datetime | None = None


class CartItem(ProviderModel):
    id: int | str
    quantity: int | None = None
    variant_id: int | str | None = None


class Cart(ProviderModel):
    """A shopping cart from a store integration (v3.6)."""

    store_uuid: str | None = None
    store_platform: str | None = None
    customer_signed_in: bool | None = None
    subtotal: float | None = None
    total: float | None = None
    subtotal_usd: float | None = None
    total_usd: float | None = None
    currency: str | None = None
    items: list[CartItem] = []
    last_updated_at: datetime | None = None


class Address(ProviderModel):
    address: str | None = None
    city: str | None = None
    country: str | None = None
    state: str | None = None
    postal_code: str | None = None


class UserBase(ProviderModel):
    """What every chat participant has."""

    id: str
    type: str
    name: Annotated[str | None, Personal] = None
    email: Annotated[str | None, Personal] = None
    avatar: str | None = None
    present: bool | None = None
    events_seen_up_to: datetime | None = None


class Customer(UserBase):
    """User > Customer: the visitor chatting. ``type`` defaults to ``customer`` because the
    flat ``incoming_customer`` payload of v3.5 omits it."""

    type: Literal["customer"] = "customer"
    email_verified: bool | None = None
    phone_number: Annotated[str | None, Personal] = None
    last_visit: Visit | None = None  # v3.5
    visit: Visit | None = None  # v3.6 renamed last_visit
    session_fields: list[dict[str, Any]] = []
    statistics: Statistics | None = None
    created_at: datetime | None = None
    agent_last_event_created_at: datetime | None = None
    customer_last_event_created_at: datetime | None = None
    followed: bool | None = None
    online: bool | None = None
    group_ids: list[int] | None = None
    # browsing, chatting, queued, invited...: a list LiveChat extends, so any string.
    state: str | None = None
    tickets: list[Ticket] | None = None
    carts: list[Cart] | None = None
    # Messenger / SMS identities: names, phone numbers.
    omnichannel: Annotated[dict[str, Any] | None, Personal] = None
    address: Annotated[Address | None, Personal] = None

    @property
    def current_visit(self) -> Visit | None:
        """The visit whichever API version named it (``visit`` in v3.6, ``last_visit`` before)."""
        return self.visit or self.last_visit


class Agent(UserBase):
    """User > Agent: an agent or a bot taking part in a chat."""

    type: Literal["agent"] = "agent"
    # "all" or "agents"; kept a string as LiveChat may add audiences.
    visibility: str | None = None
    # accepting_chats, not_accepting_chats, offline: a status set that has grown before.
    routing_status: str | None = None
    job_title: str | None = None
    is_bot: bool | None = None


class MyProfile(Agent):
    """The logged-in agent's own profile (Agent plus its permission)."""

    # owner, viceowner, administrator, normal: roles LiveChat may extend.
    permission: str | None = None


class OtherUser(UserBase):
    """A participant of a type this module does not know yet: kept, never rejected."""


def _user_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in ("customer", "agent") else "other"


User = Annotated[
    Annotated[Customer, Tag("customer")]
    | Annotated[Agent, Tag("agent")]
    | Annotated[OtherUser, Tag("other")],
    Discriminator(_user_tag),
]

__all__ = [
    "Address",
    "Agent",
    "Cart",
    "CartItem",
    "Customer",
    "Geolocation",
    "MyProfile",
    "OtherUser",
    "Statistics",
    "Ticket",
    "User",
    "UserBase",
    "Visit",
    "VisitedPage",
]
