"""Generate ``hookq/sources/plain/_generated.py`` from Plain's webhook JSON Schemas.

    .venv/bin/python scripts/generate_plain_models.py            # newest schema + all older ones
    .venv/bin/python scripts/generate_plain_models.py --check    # fail if the file is stale

A new schema version is one command away: drop ``webhook-schema-<date>.json`` into
``hookq/sources/plain/schemas/`` and run the first command. The newest file is the base; every older
file only loosens it, so payloads of every version still validate.

Before datamodel-code-generator sees the schema, it is rewritten so that real traffic is not
dead-lettered for reasons a consumer cannot act on:

- required = the fields every version requires (e.g. 2026 added a required ``changeType`` to
  ``thread.slack_message_updated``, which 2024 payloads lack);
- length, pattern, item-count and range limits are dropped: they are Plain's storage rules, not
  shapes a handler relies on, and they move between versions (a note's text went from 5000 to
  10000 characters);
- formats other than ``date-time`` are dropped (urls and uuids stay strings); the pinned
  ``webhookTargetVersion`` const becomes a string;
- every ``date-time`` is ``hookq.sources.plain.datetimes.DateTime``: accepted exactly where
  Plain's SDK accepts it (ajv-formats: leap seconds, year 0000, ``+00``...), still a
  ``datetime`` to handlers;
- each payload's ``eventType`` is any string: the envelope's ``type`` routes an event and
  chooses its class, and Plain's SDK does not compare the two either;
- every string enum is classified in ``OPEN_ENUMS`` or ``CLOSED_ENUMS`` below (the script
  fails on an unclassified one, so a new version forces a decision): open ones also accept any
  other string;
- unions that Plain marks as growable (they have an ``UNKNOWN`` variant) accept any other
  discriminator value in that variant, which moves last; it refuses the known values, so a
  malformed known variant is still an error instead of silently becoming "unknown";
- inline union variants become named definitions (``ThreadStatusDetailCreated`` rather than
  ``ThreadStatusDetail2``).

Unions are validated left to right (``union_mode="left_to_right"``), not in pydantic's smart
mode, which validates every variant to pick the best: for Plain's unions that gives the same
result (known variants have distinct discriminator values, each union's unknown variant comes
last and refuses the known values, and scalar unions are ``Literal[...] | str``), and a Plain
event validates about twice as fast (``bench/validation.py``). A growable union goes further:
its discriminator field chooses the one variant to try (``hookq.sources.base.by_field``), its
unknown variant for any other value, which accepts the same values a third faster again (the
actors on every object are such unions).
"""

from __future__ import annotations

import argparse
import ast
import copy
import itertools
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeGuard

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "hookq" / "sources" / "plain" / "schemas"
OUTPUT = ROOT / "hookq" / "sources" / "plain" / "_generated.py"
CODEGEN = Path(sys.executable).parent / "datamodel-codegen"

Json = Any

# Enums whose unknown values are accepted (typed ``Literal[...] | str``), with the reason.
OPEN_ENUMS = {
    "user/properties/status": "presence is informational and grew (AWAY, 2026)",
    "emailAuthenticity": "informational; Plain marks it growable (UNKNOWN_*)",
    "componentTextSize": "presentation hint only",
    "componentTextColor": "presentation hint only",
    "componentPlainTextSize": "presentation hint only",
    "componentPlainTextColor": "presentation hint only",
    "componentSpacerSize": "presentation hint only",
    "componentDividerSpacingSize": "presentation hint only",
    "componentBadgeColor": "presentation hint only",
    "threadStatus": "a new status must not stop every thread event; UNKNOWN_* marks it growable",
    "threadMessageInfo/properties/messageSource": "grows with channels (Discord is not listed)",
    "threadMessageInfo/properties/actorType/anyOf/0": "actor types grow (the actor unions do)",
    "threadField/properties/type": "grew (NUMBER, CURRENCY, DATE in 2026)",
    "msTeamsMessage/properties/type/anyOf/0": "Plain marks it growable (UNKNOWN_*)",
    "threadSlackMessageUpdatedEventPayload/properties/changeType": "marked growable (UNKNOWN_*)",
}
# Enums whose unknown values are an error, with the reason.
CLOSED_ENUMS = {
    "customerChangedPayload/properties/changeType": "the change kind says which fields are set",
    "timelineEntryChangedPayload/properties/changeType": "says which entry is null: a handler "
    "cannot read an unknown kind correctly, so it waits in the DLQ for a model update",
    "customerGroupMembershipsChangedPayload/properties/changeType": "ADDED/REMOVED is complete",
    "threadLabelsChangedPublicEventPayload/properties/changeType": "ADDED/REMOVED is complete",
}
DROPPED_KEYWORDS = (
    "pattern",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
)
# Inline objects whose generated name would be a numbered collision (Email1, Actor1).
TITLES = {
    "customer/properties/email": "CustomerEmail",
    "slackMessage/properties/slackReactions/items/properties/actors/items": "SlackReactionActor",
    "threadAssignee/anyOf/3": "ThreadAssigneeIdOnly",
}
VERSION_CONST = "webhookMetadata/properties/webhookTargetVersion"
DATE_TIME = "hookq.sources.plain.datetimes.DateTime"
UNKNOWN = "UNKNOWN"


def walk(node: Json, path: str = "") -> Iterator[tuple[str, Json]]:
    """Every dict in the tree with its path (``definitions/x/properties/y``)."""
    if isinstance(node, dict):
        yield path, node
        for key, child in node.items():
            yield from walk(child, f"{path}/{key}" if path else key)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from walk(child, f"{path}/{i}")


def at(node: Json, path: str) -> Json:
    for part in path.split("/") if path else []:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def follow(schema: Json, node: Json) -> Json:
    """``node`` with local ``$ref``s followed."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        node = at(schema, node["$ref"].removeprefix("#/"))
    return node


def loosen_required(base: Json, older: list[Json]) -> None:
    for path, node in walk(base):
        for old in older:
            old_node = follow(old, at(old, path))
            if "required" in node and isinstance(old_node, dict):
                kept = set(old_node.get("required", []))
                node["required"] = [name for name in node["required"] if name in kept]


def drop_limits(schema: Json) -> None:
    for path, node in list(walk(schema)):
        for key in DROPPED_KEYWORDS:
            # Only JSON Schema keywords: a property may be *named* like one.
            if not path.endswith("/properties"):
                node.pop(key, None)
        if node.get("format") not in (None, "date-time") and not path.endswith("/properties"):
            del node["format"]
    for path, title in TITLES.items():
        at(schema, f"definitions/{path}")["title"] = title
    version = at(schema, f"definitions/{VERSION_CONST}")
    version.pop("const", None)


def plain_date_times(schema: Json) -> None:
    for path, node in walk(schema):
        if node.get("format") == "date-time" and not path.endswith("/properties"):
            node["customTypePath"] = DATE_TIME


def free_event_types(schema: Json) -> None:
    """``eventType: <const>`` -> any string, in every payload (Plain's consts name its type)."""
    for name, node in schema["definitions"].items():
        event_type = node.get("properties", {}).get("eventType")
        if isinstance(event_type, dict) and "const" in event_type:
            node["properties"]["eventType"] = {"type": "string"}
        elif "eventType" in node.get("properties", {}):
            sys.exit(f"{name}.eventType is not a const: decide how to model it")


def open_enums(schema: Json) -> None:
    for path, node in list(walk(schema["definitions"], "definitions")):
        if "enum" not in node or path.endswith("/properties"):
            continue
        name = path.removeprefix("definitions/")
        if name in OPEN_ENUMS:
            known = {k: node.pop(k) for k in ("type", "enum")}
            node["anyOf"] = [known, {"type": "string"}]
        elif name not in CLOSED_ENUMS:
            sys.exit(f"unclassified enum {name!r}: add it to OPEN_ENUMS or CLOSED_ENUMS")


def camel(text: str) -> str:
    """NEW_REPLY -> NewReply, supportEmailAddress -> SupportEmailAddress."""
    if text.isupper():
        return "".join(p[:1] + p[1:].lower() for p in re.split(r"[_\W]+", text))
    return text[:1].upper() + text[1:]


def resolve(definitions: Json, node: Json) -> Json:
    while isinstance(node, dict) and "$ref" in node:
        node = at(definitions, node["$ref"].removeprefix("#/definitions/"))
    return node


def const_of(definitions: Json, variant: Json, key: str) -> str | None:
    target = resolve(definitions, variant)
    if isinstance(target, dict):
        value = target.get("properties", {}).get(key, {}).get("const")
        return value if isinstance(value, str) else None
    return None


def discriminator(definitions: Json, variants: list[Json]) -> str | None:
    """The property whose const tells a union's object variants apart."""
    resolved = [resolve(definitions, v) for v in variants]
    for variant in resolved:
        for name in variant.get("properties", {}) if variant else ():
            values = [const_of(definitions, v, name) for v in variants]
            present = [v for v in values if v is not None]
            if (len(present) > 1 and len(set(present)) == len(present)) or UNKNOWN in present:
                return str(name)
    return None


def union_name(path: str) -> str:
    """``definitions/threadStatusDetail`` -> threadStatusDetail; a property's union -> owner."""
    parts = path.split("/")
    owner = parts[1]
    if len(parts) > 2 and not owner.lower().endswith(parts[-1].lower()):
        owner += camel(parts[-1])
    return owner


def unions(definitions: Json) -> Iterator[tuple[str, list[Json], str]]:
    for path, node in list(walk(definitions, "definitions")):
        variants = node.get("anyOf")
        if isinstance(variants, list) and (key := discriminator(definitions, variants)):
            yield union_name(path), variants, key


def name_variants(schema: Json) -> None:
    """Move inline union variants to named definitions (refs into them follow)."""
    definitions = schema["definitions"]
    moved: dict[str, str] = {}
    for path, node in list(walk(definitions, "definitions")):
        variants = node.get("anyOf")
        if not isinstance(variants, list) or not (key := discriminator(definitions, variants)):
            continue
        for i, variant in enumerate(variants):
            value = variant.get("properties", {}).get(key, {}).get("const")
            if value is not None:
                new = f"{union_name(path)}{camel(value)}"
                definitions[new] = variant
                moved[f"#/{path}/anyOf/{i}"] = f"#/definitions/{new}"
                variants[i] = {"$ref": f"#/definitions/{new}"}
    for _, node in walk(schema):
        ref = node.get("$ref")
        for old, new in moved.items():
            if isinstance(ref, str) and (ref == old or ref.startswith(old + "/")):
                node["$ref"] = new + ref[len(old) :]


def open_unions(schema: Json) -> None:
    """Give each growable union its own last-tried variant for discriminators it doesn't know."""
    definitions = schema["definitions"]
    # Discriminator values first: opening one union rewrites variants that others share.
    found = [
        (o, vs, k, [const_of(definitions, v, k) for v in vs]) for o, vs, k in unions(definitions)
    ]
    for owner, variants, key, values in found:
        if UNKNOWN not in values:
            continue
        i = values.index(UNKNOWN)
        unknown = copy.deepcopy(resolve(definitions, variants.pop(i)))
        known = sorted({re.escape(v) for v in values if v not in (None, UNKNOWN)})
        unknown["properties"][key] = {"type": "string"}
        if known:
            unknown["properties"][key]["pattern"] = f"^(?!({'|'.join(known)})$)"
        definitions[f"{owner}Unknown"] = unknown
        variants.append({"$ref": f"#/definitions/{owner}Unknown"})


def unknown_variants(schema: Json) -> list[str]:
    """Definitions whose discriminator refuses the known values (needs Python's regex engine)."""
    return [
        name
        for name, node in schema["definitions"].items()
        if any("pattern" in p for p in node.get("properties", {}).values())
    ]


def prepare(files: list[Path]) -> Json:
    schemas = [json.loads(f.read_text()) for f in files]
    base, older = copy.deepcopy(schemas[-1]), schemas[:-1]
    loosen_required(base, older)
    drop_limits(base)
    open_enums(base)
    name_variants(base)
    open_unions(base)
    # Last: the steps above tell union variants apart by their consts.
    free_event_types(base)
    plain_date_times(base)
    return base


def class_name(definition: str) -> str:
    return definition[:1].upper() + definition[1:]


UNION_MODE = rb'union_mode="left_to_right"'


def members(node: ast.expr) -> list[ast.expr]:
    """The members of a ``A | B | C`` annotation (one for anything else)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return members(node.left) + members(node.right)
    return [node]


def narrow_union_modes(code: str) -> str:
    """Drop ``union_mode`` where the annotation is no union (``X | None`` is nullable ``X``, and
    pydantic refuses the mode there): datamodel-codegen puts it on every ``|``."""
    raw = code.encode()
    span = spans(raw)
    edits: list[tuple[int, int, bytes]] = []
    for node in ast.walk(ast.parse(code)):
        if not is_annotated(node):
            continue
        annotation, *metadata = node.slice.elts
        if len([m for m in members(annotation) if not _is_none(m)]) > 1:
            continue  # a real union: the mode stays
        for call in metadata:
            if not (
                isinstance(call, ast.Call) and any(k.arg == "union_mode" for k in call.keywords)
            ):
                continue
            if len(metadata) == 1 and not call.args and len(call.keywords) == 1:
                # Annotated[X | None, Field(union_mode=...)] -> X | None
                start, end = span(node)
                edits.append((start, end, raw[slice(*span(annotation))]))
            else:
                start, end = span(call)
                edits.append((start, end, re.sub(rb",?\s*" + UNION_MODE, b"", raw[start:end])))
    return apply(raw, edits, "narrow_union_modes")


def spans(raw: bytes) -> Callable[[ast.expr], tuple[int, int]]:
    """Where a node of ``raw``'s tree starts and ends, in bytes (ast's column offsets count
    UTF-8 bytes)."""
    line_starts = list(itertools.accumulate(map(len, raw.splitlines(keepends=True)), initial=0))

    def span(node: ast.expr) -> tuple[int, int]:
        end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset or 0
        return line_starts[node.lineno - 1] + node.col_offset, line_starts[end_line - 1] + end_col

    return span


def apply(raw: bytes, edits: list[tuple[int, int, bytes]], step: str) -> str:
    edits.sort()
    if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(edits)):
        sys.exit(f"nested annotations to rewrite: extend {step}")
    for start, end, text in reversed(edits):
        raw = raw[:start] + text + raw[end:]
    return raw.decode()


def is_annotated(node: ast.AST) -> TypeGuard[AnnotatedNode]:
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Annotated"
        and isinstance(node.slice, ast.Tuple)
    )


class AnnotatedNode(ast.Subscript):
    slice: ast.Tuple


def discriminate_unions(code: str) -> str:
    """Rewrite each union of models whose last variant takes the unknown values of a field the
    others each fix to one value (``open_unions``) as a union discriminated by that field: one
    alias per union at the end of the module (``ActorUnknown`` closes ``ActorUnion``)."""
    tree = ast.parse(code)
    fixed, unknown = discriminator_fields(tree)
    raw = code.encode()
    span = spans(raw)
    edits: list[tuple[int, int, bytes]] = []
    aliases: dict[str, str] = {}  # alias -> its definition
    for node in ast.walk(tree):
        if not is_annotated(node) or UNION_MODE not in raw[slice(*span(node))]:
            continue
        annotation, *metadata = node.slice.elts
        if len(metadata) != 1 or ast.unparse(metadata[0]) != "Field(union_mode='left_to_right')":
            sys.exit("a union with more than its mode: extend discriminate_unions")
        variants = members(annotation)
        nullable = any(_is_none(v) for v in variants)
        names = [v.id for v in variants if isinstance(v, ast.Name)]
        if len(names) != len(variants) - nullable or names[-1] not in unknown:
            continue
        key = unknown[names[-1]]
        values = {fixed.get(name, {}).get(key): name for name in names[:-1]}
        if None in values or len(values) != len(names) - 1:
            continue  # not every known variant fixes the field, or two fix the same value
        alias = names[-1].removesuffix("Unknown") + "Union"
        tagged = " | ".join(f'Annotated[{name}, Tag("{name}")]' for name in names)
        definition = (
            f"{alias} = Annotated[\n    {tagged},\n"
            f"    Discriminator(by_field({key!r}, {values!r}, {names[-1]!r})),\n]\n"
        )
        if aliases.setdefault(alias, definition) != definition or alias in fixed:
            sys.exit(f"two unions would be {alias}: extend discriminate_unions")
        edits.append((*span(node), (alias + (" | None" if nullable else "")).encode()))
    code = apply(raw, edits, "discriminate_unions")
    if not aliases:
        return code
    code = add_imports(code, "pydantic", "Discriminator", "Tag")
    code = add_imports(code, "hookq.sources.base", "by_field")
    note = "\n\n# Unions chosen by a field's value (the models above refer to them by name).\n"
    return code + note + "\n".join(aliases[a] for a in sorted(aliases))


def discriminator_fields(tree: ast.Module) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Per model: its fields fixed to one string (``Literal["user"]``), and the field whose
    pattern refuses the known values (an unknown variant's, ``open_unions``)."""
    fixed: dict[str, dict[str, str]] = {}
    unknown: dict[str, str] = {}
    for model in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for field in model.body:
            if not (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)):
                continue
            annotation = field.annotation
            if (
                isinstance(annotation, ast.Subscript)
                and isinstance(annotation.value, ast.Name)
                and annotation.value.id == "Literal"
                and isinstance(annotation.slice, ast.Constant)
                and isinstance(annotation.slice.value, str)
            ):
                fixed.setdefault(model.name, {})[field.target.id] = annotation.slice.value
            elif "pattern=" in ast.unparse(annotation) and "^(?!(" in ast.unparse(annotation):
                unknown[model.name] = field.target.id
    return fixed, unknown


def add_imports(code: str, module: str, *names: str) -> str:
    """``names`` added to the ``from module import ...`` line of ``code``."""
    line = re.search(rf"^from {re.escape(module)} import (.+)$", code, re.MULTILINE)
    if line is None:
        sys.exit(f"no import from {module} to extend")
    imported = sorted({*line.group(1).split(", "), *names})
    return code[: line.start()] + f"from {module} import {', '.join(imported)}" + code[line.end() :]


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def generate(files: list[Path]) -> str:
    schema = prepare(files)
    # Python's engine: Rust's regex has no look-ahead, which "any value but the known ones" needs.
    extra = {
        class_name(n): {"config": {"regex_engine": "'python-re'"}} for n in unknown_variants(schema)
    }
    header = (
        '"""Pydantic models of Plain\'s webhook payloads, generated from '
        + ", ".join(f.name for f in files)
        + ".\n\nDo not edit. Regenerate (after adding a schema version to "
        + "hookq/sources/plain/schemas/):"
        + "\n\n    .venv/bin/python scripts/generate_plain_models.py\n\n"
        + 'Handlers import the event classes from ``hookq.sources.plain`` (see ``models.py``).\n"""'
    )
    with tempfile.TemporaryDirectory() as tmp:
        source, extra_file, output = (Path(tmp) / n for n in ("s.json", "x.json", "out.py"))
        source.write_text(json.dumps(schema))
        extra_file.write_text(json.dumps(extra))
        # fmt: off
        subprocess.run(  # noqa: S603 - a fixed executable and arguments
            [
                str(CODEGEN), "--input", str(source), "--input-file-type", "jsonschema",
                "--output", str(output), "--output-model-type", "pydantic_v2.BaseModel",
                "--target-python-version", "3.11",
                "--base-class", "hookq.sources.base.ProviderModel",
                "--extra-fields", "allow", "--collapse-root-models", "--use-annotated",
                "--use-standard-collections", "--use-union-operator", "--field-constraints",
                "--enum-field-as-literal", "all", "--use-double-quotes", "--disable-timestamp",
                "--output-datetime-class", "datetime", "--use-schema-description",
                "--extra-template-data", str(extra_file), "--custom-file-header", header,
                "--formatters", "ruff-format", "--keep-model-order", "--skip-root-model",
                "--use-title-as-name", "--union-mode", "left_to_right",
            ],
            check=True,
        )
        # fmt: on
        output.write_text(discriminate_unions(narrow_union_modes(output.read_text())))
        ruff = Path(sys.executable).parent / "ruff"
        subprocess.run([str(ruff), "format", "--quiet", str(output)], check=True)  # noqa: S603
        return output.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    args = parser.parse_args()
    files = sorted(SCHEMAS.glob("webhook-schema-*.json"))  # dated names sort by age
    if not files:
        sys.exit(f"no webhook-schema-*.json in {SCHEMAS}")
    code = generate(files)
    if args.check:
        sys.exit(0 if OUTPUT.exists() and OUTPUT.read_text() == code else f"{OUTPUT} is stale")
    OUTPUT.write_text(code)
    print(f"wrote {OUTPUT.relative_to(ROOT)} from {', '.join(f.name for f in files)}")


if __name__ == "__main__":
    main()
