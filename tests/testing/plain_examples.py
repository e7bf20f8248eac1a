"""How the Plain examples without a real one were made: generated once from Plain's JSON Schema
(2026-02-27) and committed to ``hookq/sources/plain/examples/`` (their ORIGIN.md says which).

Each is the smallest payload the schema allows that still reads like Plain's: the required
fields only, null wherever null is allowed, the first option of every other choice (but
Plain's catch-all ``UNKNOWN``), ids of Plain's shape (``th_``, ``c_``,
``u_`` and a ULID), fixed times. ``tests/testing/test_examples.py`` checks every example against
the schema with ``jsonschema`` and against hookq's models, so a regenerated file that drifted
fails there. Run again (``.venv/bin/python -m tests.testing.plain_examples``) only to add the
event types of a new schema version: it never overwrites an existing example.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.sources.plain_schemas import SCHEMA_2026, event_types, payload_schema, schema

EXAMPLES = Path(__file__).parents[2] / "hookq" / "sources" / "plain" / "examples"
ULID = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
WHEN = "2026-02-27T10:00:00.000Z"
# The id prefixes Plain uses, by the definition (or field) that holds the id.
PREFIXES = {
    "thread": "th",
    "customer": "c",
    "customerId": "c",
    "user": "u",
    "userId": "u",
    "machineUser": "mu",
    "machineUserId": "mu",
    "workspaceId": "w",
    "webhookTargetId": "whTarget",
    "webhookDeliveryAttemptId": "whAttempt",
    "chat": "ch",
    "email": "em",
    "label": "l",
    "labelType": "lt",
    "customerGroup": "cg",
    "customerGroupId": "cg",
    "timelineEntry": "t",
    "timelineEntryId": "t",
    "threadId": "th",
    "tier": "tier",
    "threadField": "tf",
    "attachment": "att",
    "serviceLevelAgreement": "sla",
}
TEXTS = {
    "email": "ada@example.com",
    "fullName": "Ada Lovelace",
    "shortName": "Ada",
    "title": "Unable to tail logs",
    "text": "Hello, I cannot tail the logs of my service.",
    "previewText": "Hello, I cannot tail the logs of my service.",
    "name": "Example",
    "subject": "Unable to tail logs",
    "markdownContent": "Hello, I cannot tail the logs of my service.",
}

Json = Any


class Generator:
    def __init__(self, root: Json) -> None:
        self.root = root
        self.counter: Iterator[int] = itertools.count(1)

    def ulid(self) -> str:
        number, digits = next(self.counter), []
        for _ in range(22):
            number, digit = divmod(number, 32)
            digits.append(ULID[digit])
        return "01JN" + "".join(reversed(digits))

    def resolve(self, ref: str) -> tuple[Json, str]:
        target = self.root
        parts = ref.removeprefix("#/").split("/")
        for part in parts:
            target = target[int(part)] if isinstance(target, list) else target[part]
        return target, parts[1]

    def placeholder(self, node: Json) -> bool:
        """The catch-all for values newer than the schema (``"UNKNOWN"``)."""
        while "$ref" in node:
            node = self.resolve(node["$ref"])[0]
        consts = [p.get("const") for p in node.get("properties", {}).values()]
        if "UNKNOWN" in consts:
            return True
        return "anyOf" in node and all(self.placeholder(o) for o in node["anyOf"])

    def value(self, node: Json, key: str, owner: str) -> Json:
        """The smallest value of ``node``, read as field ``key`` of definition ``owner``."""
        if "$ref" in node:
            target, name = self.resolve(node["$ref"])
            return self.value(target, key, owner if name in ("id", "datetime") else name)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return node["enum"][0]
        if "anyOf" in node:
            if any(o.get("type") == "null" for o in node["anyOf"]):
                return None
            options = [o for o in node["anyOf"] if not self.placeholder(o)] or node["anyOf"]
            return self.value(options[0], key, owner)
        if "allOf" in node:
            merged = {k: v for part in node["allOf"] for k, v in part.items()}
            return self.value(merged, key, owner)
        kind = node.get("type")
        if isinstance(kind, list):
            if "null" in kind:
                return None
            kind = kind[0]
        return self.typed(kind, node, key, owner)

    def typed(self, kind: str, node: Json, key: str, owner: str) -> Json:
        if kind == "object":
            return {
                name: self.value(node["properties"][name], name, owner)
                for name in node.get("required", [])
            }
        if kind == "array":
            return [self.value(node["items"], key, owner) for _ in range(node.get("minItems", 0))]
        if kind == "string":
            return self.string(node, key, owner)
        if kind == "integer":
            return node.get("minimum", node.get("exclusiveMinimum", -1) + 1)
        if kind == "number":
            return node.get("minimum", 0)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        raise AssertionError(f"schema type the generator does not know: {kind!r}")

    def string(self, node: Json, key: str, owner: str) -> str:
        pattern = node.get("pattern", "")
        if pattern.startswith("^[a-zA-Z]+_"):
            return f"{PREFIXES.get(key, PREFIXES.get(owner, 'x'))}_{self.ulid()}"
        if pattern.startswith("^(([^<>()"):
            return "ada@example.com"
        if pattern.startswith("^#"):
            return "#3b82f6"
        match node.get("format"):
            case "date-time":
                return WHEN
            case "uri":
                return "https://example.com/"
            case "uuid":
                return "5d7e6c1a-3f0b-4c7e-9a51-2f0e8b6d4c21"
        return TEXTS.get(key, f"example {key}")[: node.get("maxLength", 500)]


def example(event_type: str) -> Json:
    root = schema(SCHEMA_2026)
    generator = Generator(root)
    payload_ref = payload_schema(SCHEMA_2026, event_type)
    return {
        "timestamp": WHEN,
        "workspaceId": f"w_{generator.ulid()}",
        "payload": generator.value(payload_ref, "payload", "payload"),
        "id": f"pEv_{generator.ulid()}",
        "type": event_type,
        "webhookMetadata": generator.value(
            {"$ref": "#/definitions/webhookMetadata"}, "webhookMetadata", "webhookMetadata"
        ),
    }


def main() -> None:
    for event_type in event_types(SCHEMA_2026):
        path = EXAMPLES / f"{event_type}.json"
        if not path.exists():
            path.write_text(json.dumps(example(event_type), indent=2) + "\n")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
