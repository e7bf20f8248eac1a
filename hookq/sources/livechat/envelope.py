"""The envelope every LiveChat webhook shares, generic in its payload.

``secret_key`` is not declared: the ingress checks it and strips it before the body is queued,
so the worker never sees it (and a model that required it would reject every queued body).
"""

from __future__ import annotations

from typing import Any, Generic

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from typing_extensions import TypeVar

from hookq.sources.base import ProviderModel

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

    # Error text names the field, never the value: inputs carry customers' names and emails.
    model_config = ConfigDict(hide_input_in_errors=True)

    webhook_id: str
    action: str
    # v3.2 and v3.3 sent the numeric licence id where v3.4+ send ``organization_id``; declared
    # first so that the check below sees it.
    license_id: int | None = None
    # Not a UUID in LiveChat's own examples ("390e44e6-f1e6-0368c-z6ddb-..."): a plain string.
    organization_id: str | None = Field(default=None, validate_default=True)
    payload: PayloadT
    additional_data: AdditionalData | None = None
    requester: Requester | None = None

    @field_validator("organization_id")
    @classmethod
    def _names_the_account(cls, value: str | None, info: ValidationInfo) -> str | None:
        # One of the two is always sent; the error is reported at ``organization_id``.
        if value is None and info.data.get("license_id") is None:
            raise PydanticCustomError("missing", "Field required (or, before v3.4, license_id)")
        return value


__all__ = [
    "AdditionalData",
    "DeletedProperties",
    "LivechatWebhook",
    "Properties",
    "Requester",
]
