"""Plain's webhook JSON Schemas (the copies in ``hookq/sources/plain/schemas/``) and Hypothesis
strategies that draw payloads valid against them.

The strategies are this module's rather than hypothesis-jsonschema's: its 0.23.1 (the latest)
calls ``many.more()``, which hypothesis 6.170 removed (AttributeError on any object schema), and
it took seconds per event type to canonicalise this schema. They cover the draft-07 subset
Plain uses and fail loudly on any other keyword, so a new schema version cannot silently be
under-tested; the tests also check every drawn payload with ``jsonschema``.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

SCHEMAS = Path(__file__).parents[2] / "hookq" / "sources" / "plain" / "schemas"
SCHEMA_2026 = SCHEMAS / "webhook-schema-2026-02-27.json"
SCHEMA_2024 = SCHEMAS / "webhook-schema-2024-09-18.json"

Json = Any
SCHEMA_KEYWORDS = {
    *("$ref", "$schema", "anyOf", "allOf", "const", "enum", "type", "format", "pattern"),
    *("properties", "required", "additionalProperties", "items", "default", "description"),
    *("title", "definitions", "minLength", "maxLength", "minItems", "minimum"),
    "exclusiveMinimum",
}
LETTERS = "abcdefghijklmnopqrstuvwxyz"
ULID = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PATTERNS = {  # the start of each pattern in Plain's schemas -> a cheap strategy of its shape
    "^[a-zA-Z]+_": st.builds(
        "{}_{}".format,
        st.text(LETTERS + LETTERS.upper(), min_size=1, max_size=9),
        st.text(ULID, min_size=26, max_size=26),
    ),
    "^(([^<>()": st.builds(
        "{}@{}.{}".format,
        st.text(LETTERS + "0123456789.+", min_size=1, max_size=8).filter(
            lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
        ),
        st.text(LETTERS, min_size=1, max_size=8),
        st.sampled_from(["com", "com.br", "io"]),
    ),
    "^#": st.text("0123456789abcdefABCDEF", min_size=6, max_size=6).map("#{}".format),
}
EXTRA_VALUES = st.none() | st.booleans() | st.integers() | st.text(max_size=5)


@cache
def schema(path: Path) -> Json:
    return json.loads(path.read_text())


def event_types(path: Path) -> list[str]:
    return list(schema(path)["properties"]["type"]["enum"])


def payload_schema(path: Path, event_type: str) -> Json:
    """The payload definition whose ``eventType`` const is ``event_type`` (or a bare object:
    ``thread.thread_tenant_updated`` is listed without one)."""
    root = schema(path)
    for ref in root["properties"]["payload"]["anyOf"]:
        definition = root["definitions"][ref["$ref"].rsplit("/", 1)[-1]]
        variants = definition.get("anyOf", [definition])
        if variants[0]["properties"]["eventType"]["const"] == event_type:
            return ref
    return {
        "type": "object",
        "properties": {"eventType": {"const": event_type}},
        "required": ["eventType"],
    }


@cache
def event_schema(path: Path, event_type: str) -> Json:
    narrowed = copy.deepcopy(schema(path))
    narrowed["properties"]["type"] = {"const": event_type}
    narrowed["properties"]["payload"] = payload_schema(path, event_type)
    return narrowed


class SchemaStrategy:
    """Hypothesis strategies for the draft-07 subset Plain's schemas use (fails on others)."""

    def __init__(self, root: Json) -> None:
        self.root = root
        self.refs: dict[str, st.SearchStrategy[Json]] = {}

    def ref(self, ref: str) -> st.SearchStrategy[Json]:
        if ref not in self.refs:
            target = self.root
            for part in ref.removeprefix("#/").split("/"):
                target = target[int(part)] if isinstance(target, list) else target[part]
            self.refs[ref] = st.deferred(lambda: self.build(target))
        return self.refs[ref]

    def build(self, node: Json) -> st.SearchStrategy[Json]:
        unknown = set(node) - SCHEMA_KEYWORDS
        assert not unknown, f"schema keywords the generator does not know: {unknown}"
        if "$ref" in node:
            return self.ref(node["$ref"])
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        if "anyOf" in node:
            return st.one_of([self.build(option) for option in node["anyOf"]])
        if "allOf" in node:
            return self.build({k: v for part in node["allOf"] for k, v in part.items()})
        kind = node.get("type")
        if isinstance(kind, list):
            return st.one_of([self.build({**node, "type": k}) for k in kind])
        return self.typed(kind, node)

    def typed(self, kind: str, node: Json) -> st.SearchStrategy[Json]:
        low = node.get("minimum", node.get("exclusiveMinimum", -(2**31) - 1) + 1)
        match kind:
            case "null":
                return st.none()
            case "boolean":
                return st.booleans()
            case "integer":
                return st.integers(min_value=low, max_value=2**31)
            case "number":
                return st.integers(min_value=low, max_value=10) | st.floats(0, 10)
            case "string":
                return string(node)
            case "array":
                return st.lists(
                    self.build(node["items"]),
                    min_size=node.get("minItems", 0),
                    max_size=1 + node.get("minItems", 0),
                )
            case "object":
                return self.object(node)
        raise AssertionError(f"schema type the generator does not know: {kind!r}")

    def object(self, node: Json) -> st.SearchStrategy[Json]:
        properties = {k: self.build(v) for k, v in node.get("properties", {}).items()}
        required = set(node.get("required", []))
        known = st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
        if node.get("additionalProperties") is False:
            return known
        # Fields Plain may add later: names it does not use yet, any JSON value.
        names = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6).map(
            lambda s: f"x_{s}"
        )
        extra = st.dictionaries(names, EXTRA_VALUES, max_size=2)
        return st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})


def string(node: Json) -> st.SearchStrategy[str]:
    low, high = node.get("minLength", 0), node.get("maxLength", 30)
    match node.get("format"):
        case "date-time":
            zones = st.sampled_from([UTC, timezone(timedelta(hours=-3))])
            stamps = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=zones)
            return stamps.map(lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        case "uri":
            return st.sampled_from(["https://example.com/", "https://plain.com/a?b=c#d"])
        case "uuid":
            return st.uuids().map(str)
    if "pattern" in node:
        # from_regex drew most of the run's time; these draw the same shapes for a fraction.
        kind = next((k for k in PATTERNS if node["pattern"].startswith(k)), None)
        pattern = re.compile(node["pattern"])
        matching = PATTERNS[kind] if kind else st.from_regex(pattern, fullmatch=True)
        return matching.filter(lambda s: low <= len(s) <= high and pattern.search(s) is not None)
    return st.text(min_size=low, max_size=min(high, low + 12))


@cache
def strategies(path: Path) -> SchemaStrategy:
    # One per file: the definitions' strategies (and Hypothesis' checks of them) are shared.
    return SchemaStrategy(schema(path))
