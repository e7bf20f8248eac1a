"""LiveChat auto access webhooks: the ordered rules that grant groups access to new chats.

v3.5's reference documents one webhook, ``auto_accesses_updated``, whose payload is an array
of changes; real v3.5 traffic and LiveChat's SDKs use one webhook per change
(``auto_access_added``, ``auto_access_updated``, ``auto_access_deleted``). Both are modelled.
"""

from __future__ import annotations

from hookq.sources.base import ProviderModel
from hookq.sources.livechat.envelope import LivechatWebhook
from hookq.sources.livechat.users import Geolocation

# Auto access rules ---------------------------------------------------------------------------


class MatchValue(ProviderModel):
    value: str
    exact_match: bool = False


class MatchValues(ProviderModel):
    values: list[MatchValue] = []


class GeolocationValues(ProviderModel):
    values: list[Geolocation] = []


class AutoAccessConditions(ProviderModel):
    url: MatchValues | None = None
    domain: MatchValues | None = None
    geolocation: GeolocationValues | None = None


class AutoAccessGroups(ProviderModel):
    groups: list[int] = []


class AutoAccessChanges(ProviderModel):
    """An auto access rule; when updated, only the changed fields are present."""

    id: str
    description: str | None = None
    access: AutoAccessGroups | None = None
    conditions: AutoAccessConditions | None = None
    # The rule that follows this one ("" for the last rule).
    next_id: str | None = None


class AutoAccessRule(AutoAccessChanges):
    """An auto access rule in full, as ``auto_access_added`` sends it."""

    access: AutoAccessGroups
    conditions: AutoAccessConditions


class AutoAccessRef(ProviderModel):
    id: str


class AutoAccessChange(AutoAccessChanges):
    """One entry of ``auto_accesses_updated``: a rule added (in full), updated (changed fields
    only) or deleted (id only)."""

    # added, updated, deleted: the operations on a rule. A string, so that an operation
    # LiveChat adds reaches handlers rather than the dead-letter queue.
    status: str


class AutoAccessesUpdated(LivechatWebhook[list[AutoAccessChange]]):
    """Sent when auto access rules are added, updated or deleted: one entry per rule changed
    (rules are ordered, so one change also updates its neighbours' ``next_id``)."""


class AutoAccessAdded(LivechatWebhook[AutoAccessRule]):
    """Sent when an auto access rule is added (the per-rule webhook real v3.5 traffic uses)."""


class AutoAccessUpdated(LivechatWebhook[AutoAccessChanges]):
    """Sent when an auto access rule is updated; carries only the changed fields."""


class AutoAccessDeleted(LivechatWebhook[AutoAccessRef]):
    """Sent when an auto access rule is deleted."""


__all__ = [
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
    "GeolocationValues",
    "MatchValue",
    "MatchValues",
]
