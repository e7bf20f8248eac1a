"""The providers hookq knows: one line each. Adding a provider is one package under
``hookq/sources/`` and one line here.

Each line names the provider's settings class (its ``config`` module: light, read at start-up
by ``hookq.settings``) and its ``Source`` class (its ``webhook`` module, which brings in its
models: imported only when the ingress, a worker or the catalogue needs it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from hookq.settings import Settings
    from hookq.sources.base import Source, SourceSettings


@dataclass(frozen=True, slots=True)
class Provider:
    package: str  # its settings class is in ``<package>.config``, its source in ``.webhook``
    settings: str
    source: str


PROVIDERS: dict[str, Provider] = {
    "plain": Provider("hookq.sources.plain", "PlainSettings", "PlainSource"),
    "livechat": Provider("hookq.sources.livechat", "LivechatSettings", "LivechatSource"),
    "starya": Provider("hookq.sources.starya", "StaryaSettings", "StaryaSource"),
    "standard": Provider("hookq.sources.standard", "StandardSettings", "StandardSource"),
}


def _load(module: str, attribute: str) -> object:
    return getattr(importlib.import_module(module), attribute)


def settings_type(name: str) -> type[SourceSettings]:
    provider = PROVIDERS[name]
    return cast("type[SourceSettings]", _load(f"{provider.package}.config", provider.settings))


def source_type(name: str) -> type[Source]:
    provider = PROVIDERS[name]
    return cast("type[Source]", _load(f"{provider.package}.webhook", provider.source))


def source_types() -> dict[str, type[Source]]:
    """Every provider's ``Source`` class, by name (imports every provider's models)."""
    return {name: source_type(name) for name in PROVIDERS}


def build_sources(settings: Settings) -> dict[str, Source]:
    """The enabled sources, keyed by name (as in ``/webhooks/{source}``)."""
    return {
        name: source_type(name)(
            settings.source(name),
            insecure=name in settings.insecure_sources,
            timestamp_tolerance=settings.timestamp_tolerance,
        )
        for name in settings.sources
    }
