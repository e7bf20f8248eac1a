"""The catalogue's examples: one per catalogued event type, shipped in the package, each valid
against its model and taken by the ingress's own checks once signed."""

from __future__ import annotations

import fnmatch
import json
import time
import tomllib
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]  # no stubs; only Draft7Validator is used
import pytest

from hookq.sources.catalogue import UnknownSelector, example
from hookq.sources.registry import PROVIDERS, source_type, source_types
from hookq.testing.signing import SECRETS, signed_request, source_settings
from tests.sources.plain_schemas import SCHEMA_2024, SCHEMA_2026, event_schema

ROOT = Path(__file__).parents[2]
CATALOGUED = [(name, t) for name, source in source_types().items() for t in sorted(source.events)]


def ids(case: tuple[str, str]) -> str:
    return ".".join(case)


@pytest.mark.parametrize("case", CATALOGUED, ids=ids)
def test_every_catalogued_type_has_an_example_of_its_model(case: tuple[str, str]) -> None:
    name, event_type = case
    source = source_type(name)(source_settings(name))
    event = source.parse(event_type, example(name, event_type))
    assert type(event) is source.events[event_type]


@pytest.mark.parametrize("case", CATALOGUED, ids=ids)
def test_every_example_is_accepted_by_the_ingress_when_signed(case: tuple[str, str]) -> None:
    name, event_type = case
    request = signed_request(name, event_type)
    # A source of its own, configured as an ingress would be, checks the request again.
    ingress_side = source_type(name)(source_settings(name, SECRETS[name]))
    accepted = ingress_side.accept(request.headers, request.body, time.time())
    assert accepted.event_type == event_type
    assert accepted.delivery_id == request.delivery_id
    assert SECRETS[name].encode() not in accepted.body  # LiveChat's is cut out


def test_example_files_are_exactly_the_catalogued_types() -> None:
    for name, source in source_types().items():
        folder = ROOT / "hookq" / "sources" / name / "examples"
        shipped = {path.name.removesuffix(".json") for path in folder.glob("*.json")}
        assert shipped == set(source.events), name


def test_the_examples_are_package_data() -> None:
    """setuptools ships a package's files that match its package-data patterns: every example
    must match one (else an installed hookq has no examples)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["*"]
    for name in PROVIDERS:
        package = ROOT / "hookq" / "sources" / name
        for path in (package / "examples").glob("*.json"):
            relative = str(path.relative_to(package))
            assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative


@pytest.mark.parametrize("path", sorted((ROOT / "hookq/sources/plain/examples").glob("*.json")))
def test_plain_examples_follow_plains_json_schema(path: Path) -> None:
    """Checked against Plain's own schema, not only against hookq's models."""
    body = json.loads(path.read_text())
    version = body["webhookMetadata"]["webhookTargetVersion"]
    schema_path = {"2026-02-27": SCHEMA_2026, "2024-09-18": SCHEMA_2024}[version]
    validator = jsonschema.Draft7Validator(event_schema(schema_path, body["type"]))
    assert [error.message for error in validator.iter_errors(body)] == []
    assert path.name == f"{body['type']}.json"


@pytest.mark.parametrize(
    ("name", "event_type", "said"),
    [
        ("standard", "invoice.paid", "only catalogued types have one (known: none)"),
        ("plain", "thread.no_such_type", "known: customer.customer_changed"),
        ("plain", "../livechat/examples/incoming_chat", "has no example"),
        ("nosuch", "x", "unknown source 'nosuch'"),
    ],
)
def test_an_uncatalogued_type_has_no_example(name: str, event_type: str, said: str) -> None:
    with pytest.raises(UnknownSelector) as refused:
        example(name, event_type)
    assert said in str(refused.value)
