"""The catalogue of events teams read: which sources hookq knows, their event types and models,
and the JSON Schema of each (``hookq schema``).

Everything comes from the providers of ``hookq.sources.registry``: a source's ``events`` and
``envelope`` are the models the worker validates with, so the catalogue cannot drift from them.
"""

from __future__ import annotations

import importlib
import inspect
from importlib import resources
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hookq.sources.base import Source
from hookq.sources.registry import PROVIDERS, source_type, source_types

EXAMPLES = "examples"  # each provider package's folder of example payloads


class UnknownSelector(LookupError):
    """A ``SOURCE[.TYPE]`` that names no source, or no event type of that source."""


def summary(model: type[BaseModel]) -> str:
    """The docstring's first paragraph, on one line."""
    doc = inspect.cleandoc(model.__doc__ or "")
    return " ".join(doc.split("\n\n", 1)[0].split())


def import_path(source: type[Source], model: type[BaseModel]) -> str:
    """Where a handler imports the model from: the source's package when it re-exports it."""
    package = source.__module__.rpartition(".")[0]
    if getattr(importlib.import_module(package), model.__name__, None) is model:
        return f"{package}.{model.__name__}"
    return f"{model.__module__}.{model.__name__}"


def _entry(source: type[Source], model: type[BaseModel]) -> dict[str, str]:
    return {
        "class": model.__name__,
        "import": import_path(source, model),
        "summary": summary(model),
    }


def catalogue() -> dict[str, Any]:
    """Every source with its envelope and its event types, each with its model's name."""
    return {
        "sources": {
            name: {
                "envelope": _entry(source, source.envelope),
                "events": {
                    event_type: _entry(source, model)
                    for event_type, model in sorted(source.events.items())
                },
            }
            for name, source in source_types().items()
        },
        "note": "Events of a type not listed are validated against their source's envelope. "
        "`hookq schema SOURCE` or `hookq schema SOURCE.TYPE` prints the JSON Schemas.",
    }


def source_schema(name: str) -> dict[str, Any]:
    """One document for all of a source's models: ``envelope`` and ``events`` point (``$ref``)
    into the shared ``$defs``, so a definition used by many event types appears once."""
    source = _source(name)
    models = [source.envelope, *source.events.values()]
    refs, definitions = models_json_schema(
        [(model, "validation") for model in dict.fromkeys(models)]
    )
    return {
        "source": name,
        "envelope": refs[(source.envelope, "validation")],
        "events": {
            event_type: refs[(model, "validation")]
            for event_type, model in sorted(source.events.items())
        },
        **definitions,
    }


def event_schema(name: str, event_type: str) -> dict[str, Any]:
    source = _source(name)
    model = source.events.get(event_type)
    if model is None:
        known = ", ".join(sorted(source.events)) or "none"
        raise UnknownSelector(
            f"source {name!r} has no model for event type {event_type!r} (known: {known}); "
            f"events of other types are validated against its envelope "
            f"{source.envelope.__name__} (`hookq schema {name}`)"
        )
    return model.model_json_schema()


def schema_document(selector: str | None) -> dict[str, Any]:
    """``None``: the catalogue; ``SOURCE``: all its schemas; ``SOURCE.TYPE``: one schema.

    Event types contain dots themselves (``thread.chat_sent``), source names never do: the
    selector is split on its first dot only."""
    if not selector:
        return catalogue()
    name, _, event_type = selector.partition(".")
    return event_schema(name, event_type) if event_type else source_schema(name)


def example(name: str, event_type: str) -> bytes:
    """The example payload of a catalogued event type: a JSON body as its provider sends it.

    Shipped with the package (``hookq/sources/<source>/examples/<event type>.json``): real
    payloads where the provider published one, otherwise the smallest its schema allows (each
    folder's ORIGIN.md says which). Signing them for a request is ``hookq.testing``'s job:
    LiveChat's examples carry a placeholder ``secret_key``, Plain's an old attempt time."""
    source = _source(name)
    if event_type not in source.events:
        known = ", ".join(sorted(source.events)) or "none"
        raise UnknownSelector(
            f"source {name!r} has no example of event type {event_type!r}: only catalogued "
            f"types have one (known: {known}); give a payload of your own instead"
        )
    folder = resources.files(PROVIDERS[name].package) / EXAMPLES
    return (folder / f"{event_type}.json").read_bytes()


def _source(name: str) -> type[Source]:
    if name not in PROVIDERS:
        raise UnknownSelector(f"unknown source {name!r} (known: {', '.join(PROVIDERS)})")
    return source_type(name)


__all__ = [
    "UnknownSelector",
    "catalogue",
    "event_schema",
    "example",
    "import_path",
    "schema_document",
    "source_schema",
    "summary",
]
