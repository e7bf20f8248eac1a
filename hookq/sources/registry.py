"""The providers hookq knows, and their construction from the settings."""

from __future__ import annotations

from hookq.settings import Settings
from hookq.sources.base import Source, SourceConfig
from hookq.sources.livechat import LivechatSource
from hookq.sources.plain import PlainSource
from hookq.sources.standard import StandardSource
from hookq.sources.starya import StaryaSource

SOURCE_TYPES: dict[str, type[Source]] = {
    cls.name: cls for cls in (PlainSource, LivechatSource, StaryaSource, StandardSource)
}


def source_config(settings: Settings, name: str) -> SourceConfig:
    return SourceConfig(
        secrets=tuple(s.get_secret_value() for s in settings.secrets_for(name)),
        insecure=settings.is_insecure(name),
        timestamp_tolerance=settings.timestamp_tolerance,
        id_header=getattr(settings, f"{name}_id_header", None),
        signature_header=settings.starya_signature_header if name == "starya" else None,
    )


def build_sources(settings: Settings) -> dict[str, Source]:
    """The enabled sources, keyed by name (as in ``/webhooks/{source}``)."""
    return {name: SOURCE_TYPES[name](source_config(settings, name)) for name in settings.sources}
