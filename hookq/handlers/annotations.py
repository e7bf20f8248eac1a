"""Checking a handler's event annotation against what its patterns bind.

The worker hands a handler the model of each event's type (the source's envelope for a type the
catalogue does not list). An annotation is a promise about that model: ``ThreadChatSent`` on a
handler bound to ``plain.thread.#`` would receive ``ThreadCreated`` too. Discovery checks the
promise: every model the patterns can deliver must be the annotated class (or a subclass), or a
member of the annotated union. ``Any``, ``object``, ``BaseModel`` and a source's envelope (the
base of its event classes) accept what they should; no annotation is ``Any``.

What a pattern binds, per source: each catalogued type its pattern matches (that type's model),
and, where the pattern can match a type the catalogue does not list (a wildcard after the
source's word, or an exact uncatalogued type), the source's envelope.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from hookq.handlers.api import HandlerSpec
from hookq.sources.base import Source
from hookq.sources.registry import source_types
from hookq.topology import topic_matches

UNLISTED = "<a type the catalogue does not list>"


class AnnotationMismatch(Exception):
    """The handler's event parameter cannot receive every event its patterns bind."""


@dataclass(frozen=True, slots=True)
class Bound:
    pattern: str
    source: str
    event_type: str  # UNLISTED for the envelope of uncatalogued types
    model: type[BaseModel]

    def __str__(self) -> str:
        return f"{self.source}.{self.event_type} ({self.model.__name__})"


def check_annotation(spec: HandlerSpec) -> None:
    """Raise ``AnnotationMismatch`` naming the handler, the pattern and the event types that do
    not fit its event parameter's annotation."""
    accepted = accepted_classes(spec)
    if accepted is None:
        return
    misfits = [b for b in bound_models(spec.patterns) if not issubclass(b.model, accepted)]
    if not misfits:
        return
    by_pattern: dict[str, list[str]] = {}
    for bound in misfits:
        by_pattern.setdefault(bound.pattern, []).append(str(bound))
    details = "; ".join(
        f"pattern {pattern!r} binds {', '.join(events)}" for pattern, events in by_pattern.items()
    )
    names = " | ".join(cls.__name__ for cls in accepted)
    raise AnnotationMismatch(
        f"handler {spec.name!r} ({spec.origin}) takes {names}, but {details}: annotate the "
        "event with a union of those models, the source's envelope or Any, or narrow the patterns"
    )


def accepted_classes(spec: HandlerSpec) -> tuple[type, ...] | None:
    """The classes the event parameter accepts; None when it accepts anything."""
    func = inspect.unwrap(spec.func)
    parameters = list(inspect.signature(func).parameters.values())
    if not parameters:
        return None
    first = parameters[0].name
    try:
        hints = typing.get_type_hints(func)
    except Exception as exc:  # a name only imported under TYPE_CHECKING, a typo...
        raise AnnotationMismatch(
            f"handler {spec.name!r} ({spec.origin}): its annotations cannot be resolved "
            f"({type(exc).__name__}: {exc}); import the event model at run time"
        ) from None
    hint = hints.get(first)
    if hint is None:
        return None
    members = tuple(_members(hint))
    if any(m is Any or m is object or m is BaseModel for m in members):
        return None
    classes = tuple(m for m in members if isinstance(m, type))
    if len(classes) != len(members):
        raise AnnotationMismatch(
            f"handler {spec.name!r} ({spec.origin}): its event annotation {hint!r} is not a "
            "model class, a union of model classes or Any"
        )
    return classes


def _members(hint: Any) -> Iterator[Any]:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        yield from _members(typing.get_args(hint)[0])
    elif origin is typing.Union or origin is types.UnionType:
        for arg in typing.get_args(hint):
            yield from _members(arg)
    elif origin is not None and isinstance(origin, type):
        yield origin  # a parametrised generic: its class
    elif isinstance(hint, type) and issubclass(hint, BaseModel):
        # A parametrised pydantic model (LivechatWebhook[Any]) is a class of its own: the
        # promise is about the generic model it was made from.
        metadata = getattr(hint, "__pydantic_generic_metadata__", None) or {}
        yield metadata.get("origin") or hint
    else:
        yield hint


def bound_models(patterns: tuple[str, ...]) -> list[Bound]:
    """Every (source, event type, model) the patterns can deliver."""
    found: list[Bound] = []
    for name, source in source_types().items():
        for pattern in patterns:
            found += _bound(pattern, name, source)
    return found


def _bound(pattern: str, name: str, source: type[Source]) -> list[Bound]:
    bound = [
        Bound(pattern, name, event_type, model)
        for event_type, model in source.events.items()
        if topic_matches(pattern, f"{name}.{event_type}")
    ]
    if _matches_unlisted(pattern, name, source):
        bound.append(Bound(pattern, name, UNLISTED, source.envelope))
    return bound


def _matches_unlisted(pattern: str, name: str, source: type[Source]) -> bool:
    """Whether the pattern can match a type of this source that the catalogue does not list."""
    words = pattern.split(".")
    if words[0] == "#":
        return True
    if words[0] not in (name, "*") or len(words) == 1:
        return False
    # A wildcard can stand for a word no catalogued type has; an exact type may be unlisted.
    probe = ".".join(_UNLISTED_WORD if w in ("*", "#") else w for w in words[1:])
    return probe not in source.events


_UNLISTED_WORD = "hookq-unlisted-word"
