"""hookq against Plain's own SDK (``@team-plain/typescript-sdk`` 5.12.1) on a generated corpus of
signed webhooks (issue 12, items 23 and 26, and the leniencies that are decisions).

The corpus (tests/fixtures/plain/sdk/corpus.py: about 5,800 cases from one valid event of each
of the 30 types) and the SDK's verdicts on it (``verdicts.json``, made by ``verdicts.js``
running ``verifyPlainWebhook``, which checks the signature, then ``parsePlainWebhook``, then the
attempt timestamp) are compared with hookq's verdict: the Plain source's ``accept`` (what the
ingress runs) and then its ``parse`` (what the worker validates). Classes:

- ``MATCH`` (date-time variants in every field, unknown fields, broken events, bad signatures,
  closed enums...): hookq's verdict is the SDK's, case by case;
- ``LENIENT`` (other schema versions, unknown event types, new values of open enums,
  upper-case hex signatures, integers as strings or booleans): hookq accepts by design every
  case, and the SDK refuses every one, so that each leniency stays a decision;
- ``payload.eventType`` different from ``type``: hookq accepts every one (``type`` routes; the
  payload has its type's fields); the SDK only those whose payload also fits its eventType;
- ``type`` different from ``payload.eventType``: hookq accepts exactly those whose payload has
  the fields of the type that routes it (checked with ``jsonschema`` against Plain's schemas);
  the SDK accepts them all, typing the payload by its eventType.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs; only Draft7Validator is used
import pytest
from pydantic import ValidationError

from hookq.sources.base import WebhookRejected
from hookq.sources.plain import PlainSource
from hookq.sources.plain.config import PlainSettings
from hookq.sources.plain.timestamps import attempt_time
from tests.fixtures.plain.sdk import corpus
from tests.fixtures.plain.sdk.corpus import (
    EVENT_TYPE_DIFFERS,
    KINDS,
    LENIENT,
    MATCH,
    TYPE_DIFFERS,
    Case,
)
from tests.sources.plain_schemas import SCHEMA_2024, SCHEMA_2026, payload_schema, schema

SOURCE = PlainSource(PlainSettings(secrets=[corpus.SECRET]))
SDK = "@team-plain/typescript-sdk 5.12.1"


@dataclass(frozen=True, slots=True)
class Compared:
    case: Case
    sdk: bool  # verifyPlainWebhook accepted it
    sdk_parse: bool  # parsePlainWebhook accepted it (the payload alone)
    hookq: bool


def hookq_accepts(case: Case) -> bool:
    """The ingress's ``accept`` at the case's own attempt time, then the worker's ``parse``."""
    metadata = case.event.get("webhookMetadata") if isinstance(case.event, dict) else None
    stamp = metadata.get("webhookDeliveryAttemptTimestamp") if isinstance(metadata, dict) else None
    sent = attempt_time(stamp) if isinstance(stamp, str) else None
    headers = {"Plain-Request-Signature": case.signature}
    try:
        accepted = SOURCE.accept(headers, case.body, time.time() if sent is None else sent)
    except WebhookRejected:
        return False
    try:
        SOURCE.parse(accepted.event_type, accepted.body)
    except ValidationError:
        return False
    return True


@pytest.fixture(scope="module")
def compared() -> list[Compared]:
    document = json.loads(corpus.VERDICTS.read_text())
    verdicts = document["verdicts"]
    cases = corpus.cases()
    assert document["about"]["sdk"] == SDK
    # The verdicts are this corpus's: else run verdicts.js again (see corpus.py).
    assert [row[0] for row in verdicts] == [c.digest for c in cases], "verdicts.json is stale"
    return [
        Compared(c, verify, parse, hookq_accepts(c))
        for c, (_, parse, verify) in zip(cases, verdicts, strict=True)
    ]


def of(compared: list[Compared], *kinds: str) -> list[Compared]:
    return [c for c in compared if c.case.kind in kinds]


def described(cases: list[Compared]) -> str:
    return "; ".join(f"{c.case.kind}: {c.case.name} (sdk {c.sdk}, hookq {c.hookq})" for c in cases)


def test_every_class_is_covered(compared: list[Compared]) -> None:
    counts = Counter(c.case.kind for c in compared)
    assert set(counts) == set(KINDS)
    assert min(counts.values()) >= 15
    assert len(compared) > 5000
    sdk = {kind: Counter(c.sdk for c in of(compared, kind)) for kind in KINDS}
    # The date-time and attempt-time variants are both accepted and refused; the unchanged
    # events and the unknown fields are all accepted, the broken ones mostly refused.
    for kind in (corpus.DATE_TIMES, corpus.ATTEMPT_TIMES, EVENT_TYPE_DIFFERS):
        assert min(sdk[kind][True], sdk[kind][False]) >= 15, kind
    assert sdk[corpus.CONTROL][False] == sdk[corpus.UNKNOWN_FIELDS][False] == 0
    assert sdk[corpus.BROKEN][False] > 4 * sdk[corpus.BROKEN][True]
    # The three of item 23 in every date-time field of every type.
    named = tuple(f" = {value!r}" for value in corpus.HEADLINE)
    headline = [c for c in of(compared, corpus.DATE_TIMES) if c.case.name.endswith(named)]
    assert len(headline) > 1000
    assert all(c.sdk for c in headline)


def test_hookq_matches_the_sdk_where_it_must(compared: list[Compared]) -> None:
    differ = [c for c in of(compared, *MATCH) if c.hookq != c.sdk]
    assert not differ, f"{len(differ)} differ: {described(differ[:5])}"


def test_hookq_is_more_lenient_by_design(compared: list[Compared]) -> None:
    cases = of(compared, *LENIENT)
    differ = [c for c in cases if not c.hookq or c.sdk]
    assert not differ, f"{len(differ)} are not hookq-only: {described(differ[:5])}"


def test_a_payload_event_type_that_is_not_the_type_refuses_nothing(
    compared: list[Compared],
) -> None:
    cases = of(compared, EVENT_TYPE_DIFFERS)
    refused = [c for c in cases if not c.hookq]
    assert not refused, f"{len(refused)} refused: {described(refused[:5])}"
    # The SDK accepts those whose payload also fits the type its eventType names, no other.
    assert all(c.sdk == sdk_fits(c.case.event["payload"]) for c in cases)


def test_type_routes_and_the_payload_must_have_its_fields(compared: list[Compared]) -> None:
    cases = of(compared, TYPE_DIFFERS)
    differ = [c for c in cases if c.hookq != fits(c.case.event["payload"], c.case.event["type"])]
    assert not differ, f"{len(differ)} differ from the schema: {described(differ[:5])}"
    # Stricter than the SDK, never looser: it accepts each (a payload of its own eventType).
    assert all(c.sdk for c in cases if c.hookq)
    assert sum(c.hookq for c in cases) >= 15


def free_event_types(definitions: dict[str, Any]) -> dict[str, Any]:
    freed = copy.deepcopy(definitions)
    for node in freed.values():
        if "const" in node.get("properties", {}).get("eventType", {}):
            node["properties"]["eventType"] = {"type": "string"}
    return freed


@cache
def validator(path: Path, event_type: str, free: bool) -> Any:
    """``event_type``'s payload definition in ``path`` (``free``: with any ``eventType``)."""
    node = copy.deepcopy(payload_schema(path, event_type))
    definitions = schema(path)["definitions"]
    if free:
        definitions = free_event_types(definitions)
        if "const" in node.get("properties", {}).get("eventType", {}):
            node["properties"]["eventType"] = {"type": "string"}  # the type without a payload
    return jsonschema.Draft7Validator({**node, "definitions": definitions})


def fits(payload: Any, event_type: str) -> bool:
    """hookq's rule: ``payload`` has the fields of ``event_type``'s payload in either schema
    version, whatever its ``eventType``."""
    known = event_type in schema(SCHEMA_2026)["properties"]["type"]["enum"]
    paths = (SCHEMA_2026, SCHEMA_2024)
    return known and any(validator(path, event_type, True).is_valid(payload) for path in paths)


def sdk_fits(payload: Any) -> bool:
    """The SDK's rule: ``payload`` is a valid 2026-02-27 payload of the type its ``eventType``
    names (one the schema has a payload definition for)."""
    event_type = payload.get("eventType")
    typed = schema(SCHEMA_2026)["properties"]["type"]["enum"]
    if event_type not in typed or event_type == corpus.UNTYPED:
        return False
    return bool(validator(SCHEMA_2026, event_type, False).is_valid(payload))
