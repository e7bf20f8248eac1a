"""``drift``: what the providers changed, computed from the archive on demand (nothing on the
worker's hot path): per source and event type, the fields archived payloads carry that the
typed model does not declare (dotted paths), and the event types the catalogue does not know
(``hookq.sources.catalogue``), with counts and first and last seen.

A model declares its fields under their JSON names (aliases), nested models at their dotted
path; a list's items share their list's path (``payload.items.sku``). Under a field typed as a
mapping or ``Any`` everything is declared. Only the topmost undeclared path is reported: a new
object ``a.b`` is one row, not one per key inside it. An event of an unknown type is one row
(``unknown_event_type``): its fields are only checked against the envelope, which says little.
A source that types no event (Standard Webhooks: any type, one envelope) has no drift.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel

from hookq.events import archive
from hookq.events.finding import selected
from hookq.events.selection import Selection
from hookq.privacy import Privacy
from hookq.settings import Settings
from hookq.sources.registry import source_types
from hookq.topology import Names

OPEN = "*"  # a declared path under which anything is declared


@dataclass(slots=True)
class Drift:
    source: str
    event_type: str
    field: str | None  # a dotted path; None for an unknown event type
    count: int
    first_seen: datetime
    last_seen: datetime

    @property
    def unknown_event_type(self) -> bool:
        return self.field is None

    def to_json(self) -> dict[str, object]:
        found: dict[str, object] = {"source": self.source, "event_type": self.event_type}
        found |= {"unknown_event_type": True} if self.field is None else {"field": self.field}
        return found | {
            "count": self.count,
            "first_seen": self.first_seen.isoformat().replace("+00:00", "Z"),
            "last_seen": self.last_seen.isoformat().replace("+00:00", "Z"),
        }


async def drift(
    settings: Settings, source: str | None = None, since: datetime | None = None
) -> list[Drift]:
    """Every drift the archive shows (since ``since``), sorted by source, type and field."""
    sources = source_types()
    found: dict[tuple[str, str, str | None], Drift] = {}
    names, privacy = Names(settings.namespace), Privacy.from_settings(settings)
    selection = Selection(source=source, since=since)
    async with await archive.connect(settings.amqp_url, "drift") as connection:
        async for event in selected(connection, names, selection, privacy):
            kind = sources.get(event.source)
            if kind is None or not kind.events:
                continue  # a source without typed events (Standard Webhooks): nothing to drift from
            model = kind.events.get(event.event_type)
            if model is None:
                _count(found, (event.source, event.event_type, None), event.received_at)
                continue
            for path in undeclared(model, _json(event.body)):
                _count(found, (event.source, event.event_type, path), event.received_at)
    return sorted(found.values(), key=lambda d: (d.source, d.event_type, d.field or ""))


def _count(
    found: dict[tuple[str, str, str | None], Drift],
    key: tuple[str, str, str | None],
    at: datetime,
) -> None:
    drift_ = found.get(key)
    if drift_ is None:
        found[key] = Drift(key[0], key[1], key[2], 1, at, at)
        return
    drift_.count += 1
    drift_.first_seen, drift_.last_seen = min(drift_.first_seen, at), max(drift_.last_seen, at)


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def undeclared(model: type[BaseModel], payload: Any) -> set[str]:
    """The topmost paths of ``payload`` that ``model`` does not declare."""
    declared = declared_paths(model)
    return {path for path in _paths(payload, "") if _new(path, declared)}


def _new(path: str, declared: frozenset[str]) -> bool:
    parts = path.split(".")
    for depth in range(1, len(parts)):
        prefix = ".".join(parts[:depth])
        if f"{prefix}.{OPEN}" in declared:
            return False  # under a mapping or Any
        if prefix not in declared:
            return False  # its parent is new already: reported once, there
    return path not in declared and f"{path}.{OPEN}" not in declared


def _paths(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from _paths(child, path)
    elif isinstance(value, list):
        for item in value:
            yield from _paths(item, prefix)


@functools.cache
def declared_paths(model: type[BaseModel]) -> frozenset[str]:
    """Every path ``model`` declares, read from its JSON Schema (aliases, nested models, unions
    and forward references resolved as pydantic resolves them for validation)."""
    schema = model.model_json_schema(mode="validation")
    found: set[str] = set()
    _walk(schema, schema.get("$defs", {}), "", found, ())
    return frozenset(found)


def _walk(
    node: Any, defs: Mapping[str, Any], path: str, found: set[str], seen: tuple[str, ...]
) -> None:
    if not isinstance(node, Mapping):
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:  # a recursive model: what lies below is declared already
            found.add(_join(path, OPEN))
            return
        _walk(defs.get(name), defs, path, found, (*seen, name))
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for option in node.get(key, ()):
            _walk(option, defs, path, found, seen)
    if "items" in node:
        _walk(node["items"], defs, path, found, seen)
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        for key, child in properties.items():
            found.add(_join(path, key))
            _walk(child, defs, _join(path, key), found, seen)
    extra = node.get("additionalProperties")
    # A mapping (dict[str, X], or an object schema with no properties): its keys are data. A
    # model that allows extras has properties too: its extras are drift.
    mapping = isinstance(extra, Mapping) or (node.get("type") == "object" and not properties)
    if mapping and path:
        found.add(_join(path, OPEN))
    if path and not _typed(node):  # Any: anything below is declared
        found.add(_join(path, OPEN))


def _typed(node: Mapping[str, Any]) -> bool:
    return any(k in node for k in ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const"))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
