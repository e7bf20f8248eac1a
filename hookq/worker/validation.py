"""Validating a queued body into its typed model, at the cost of validating it once.

An invalid event must not cost more than a valid one, whatever an authenticated sender puts in
it (docs/reliability.md):

- the models stop at the first error of each list or mapping (``ProviderModel``), so a million
  bad items make a handful of errors, not a million;
- the failure record keeps the first errors' field paths and reasons, never their values: a
  path segment that is not a name the source's models declare (a mapping's key: LiveChat keys
  agents by email) shows as ``*``, and messages that quote the input drop it;
- one worker process validates an invalid event once, not once per handler bound to it: the
  failure is kept (a few hundred, by delivery) for the other handlers' copies.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from hookq.message import Envelope, Failure, truncate
from hookq.sources.base import Source

MAX_VALIDATION_ERRORS = 20
MAX_MESSAGE = 4000
KEPT_FAILURES = 256
HIDDEN = "*"
# What pydantic names a union member or validator in a path (``str``, ``list[int]``,
# ``function-after[check(), str]``): the schema's words, never the input's.
SCHEMA_LABEL = re.compile(
    r"(function-(after|before|wrap|plain)|list|dict|tuple|set|frozenset|union|tagged-union|"
    r"literal|nullable|json-or-python|lax-or-strict|chain|is-instance|model|enum|default|"
    r"date|datetime|time|str|int|float|bool|none|any|bytes|decimal|uuid|url)(\[.*\])?"
)


class Validator:
    """The worker's validation: shared by every handler's pipeline in one process."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self._sources = sources
        self._failures: OrderedDict[tuple[str, str, str], tuple[bytes, Failure]] = OrderedDict()
        self._declared: dict[str, frozenset[str]] = {}

    def validate(self, envelope: Envelope, body: bytes) -> BaseModel | Failure:
        source = self._sources.get(envelope.source)
        if source is None:
            return Failure("UnknownSource", f"source {envelope.source!r} is not enabled here")
        identity = (envelope.source, envelope.event_type, envelope.delivery_id)
        known = self._failures.get(identity)
        if known is not None and known[0] == _digest(body):
            return known[1]
        try:
            return source.parse(envelope.event_type, body)
        except ValidationError as exc:
            failure = self.failure(source, exc)
        self._failures[identity] = (_digest(body), failure)
        if len(self._failures) > KEPT_FAILURES:
            self._failures.popitem(last=False)
        return failure

    def failure(self, source: Source, exc: ValidationError) -> Failure:
        """Field paths and reasons of the first errors; never the input."""
        declared = self._declared.get(source.name)
        if declared is None:
            declared = self._declared[source.name] = declared_names(source)
        return validation_failure(exc, declared)


def validation_failure(exc: ValidationError, declared: frozenset[str]) -> Failure:
    total = exc.error_count()
    errors = exc.errors(include_url=False, include_input=False, include_context=True)
    parts = [
        f"{_path(err['loc'], declared)}: {_reason(err)}" for err in errors[:MAX_VALIDATION_ERRORS]
    ]
    if total > MAX_VALIDATION_ERRORS:
        parts.append(f"... and {total - MAX_VALIDATION_ERRORS} more")
    return Failure("ValidationError", truncate(f"{exc.title}: " + "; ".join(parts), MAX_MESSAGE))


def _path(loc: tuple[int | str, ...], declared: frozenset[str]) -> str:
    shown = [
        str(p) if isinstance(p, int) or p in declared or SCHEMA_LABEL.fullmatch(p) else HIDDEN
        for p in loc
    ]
    return ".".join(shown) or "<root>"


def _reason(err: Any) -> str:
    # The messages of a few error types quote the input: rebuilt from what the schema says.
    context = err.get("ctx") or {}
    if err["type"] == "union_tag_invalid":
        expected = context.get("expected_tags", "")
        return f"Input tag does not match any of the expected tags: {expected}"
    return str(err["msg"])


def declared_names(source: Source) -> frozenset[str]:
    """Every name a path segment of a validation error can take that comes from the source's
    models, not from the input: field names and aliases, model names, union tags and labels."""
    names: set[str] = set()
    for model in {source.envelope, *source.events.values()}:
        _collect(model.__pydantic_core_schema__, names, set())
    return frozenset(names)


def _collect(node: Any, names: set[str], seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, Mapping):
        kind = node.get("type")
        if kind in ("model-fields", "typed-dict", "dataclass-args"):
            fields = node.get("fields", {})
            for name, spec in _items(fields):
                names.add(name)
                names.update(_aliases(spec))
        elif kind == "tagged-union":
            names.update(str(tag) for tag in node.get("choices", {}))
        elif kind == "model" and isinstance(node.get("cls"), type):
            names.add(node["cls"].__name__)
        if isinstance(node.get("ref"), str):
            names.add(node["ref"].split(":")[0].rsplit(".", 1)[-1])
        for value in node.values():
            _collect(value, names, seen)
    elif isinstance(node, list | tuple):
        for value in node:
            _collect(value, names, seen)


def _items(fields: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(fields, Mapping):
        yield from ((str(k), v) for k, v in fields.items())
    elif isinstance(fields, list):  # dataclass-args: a list of fields with a "name"
        yield from ((str(f.get("name")), f) for f in fields if isinstance(f, Mapping))


def _aliases(spec: Any) -> Iterator[str]:
    alias = spec.get("validation_alias") if isinstance(spec, Mapping) else None
    if isinstance(alias, str):
        yield alias
    elif isinstance(alias, list):
        for entry in alias:
            for part in entry if isinstance(entry, list) else [entry]:
                if isinstance(part, str):
                    yield part


def _digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()
