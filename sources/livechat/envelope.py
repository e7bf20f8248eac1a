"""The envelope every LiveChat webhook shares, generic in its payload.

``secret_key`` is not declared: the ingress checks it and strips it before the body is queued,
so the worker never sees it (and a model that required it would reject every queued body).
"""

from __future__ import annotations

from typing import Any, Generic, Self

from pydantic import model_validator
from typing_extensions import TypeVar

from sources.base import ProviderModel

# Namespaced properties: ``{"<namespace>": {"<name>": <value>}}``. Values are whatever the
# property's configuration allows (string, int, bool...), so they stay ``Any``.
Properties = dict[str, dict[str, Any]]
# The ``*_properties_deleted`` webhooks name the deleted properties per namespace.
DeletedProperties = dict[str, list[str]]

# Unknown actions keep whatever payload LiveChat sent: an object, or an array (as
# ``auto_accesses_updated`` sends).
PayloadT = TypeVar("PayloadT", default=dict[str, Any] | list[Any])


class Requester(ProviderModel):
    """Who made the change (v3.6 adds it to configuration webhooks)."""

    user_id: str | None = None
    account_id: str | None = None
    client_id: str | None = None


class AdditionalData(ProviderModel):
    """Extra data asked for at registration; often ``{}``."""

    chat_properties: Properties | None = None
    chat_presence_user_ids: list[str] | None = None


class LivechatWebhook(ProviderModel, Generic[PayloadT]):
    """Any LiveChat webhook: the envelope every action shares (``secret_key`` removed).

    Actions without a model of their own validate against this class, so a new action
    LiveChat adds still reaches the handlers bound to it.
    """

    webhook_id: str
    action: str
    # Not a UUID in LiveChat's own examples ("390e44e6-f1e6-0368c-z6ddb-..."): a plain string.
    organization_id: str | None = None
    # v3.2 and v3.3 sent the numeric licence id where v3.4+ send ``organization_id``.
    license_id: int | None = None
    payload: PayloadT
    additional_data: AdditionalData | None = None
    requester: Requester | None = None

    @model_validator(mode="after")
    def _names_the_account(self) -> Self:
        if self.organization_id is None and self.license_id is None:
            raise ValueError("organization_id (or, before v3.4, license_id) is required")
        return self


__all__ = [
    "AdditionalData",
    "DeletedProperties",
    "LivechatWebhook",
    "Properties",
    "Requester",
]
