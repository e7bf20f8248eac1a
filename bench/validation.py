"""Validation speed per source: events per second through ``model_validate_json``, the call the
worker makes for every event (``Source.parse``), on real payloads:

- starya: the repaired seed examples (``tests/fixtures/seeds/starya``);
- livechat: the 36 v3.5 reference fixtures, without ``secret_key`` (the ingress strips it, so
  the worker never sees it);
- plain: the reference thread-created event and the seed's ``thread.chat_sent`` example
  (``tests/fixtures/seeds/plain``);
- standard: the Standard Webhooks spec's example payload.

``python -m bench.validation [--seconds N]`` prints a table; ``run(duration_s)`` returns the rows.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from hookq.sources.registry import source_types
from tests.fixtures import REFERENCE, SEEDS

# Where each source's body names its event type (what its ``accept`` reads at the ingress).
TYPE_FIELD = {"starya": "event", "livechat": "action", "plain": "type", "standard": "type"}

STANDARD_SAMPLE = {
    "type": "contact.created",
    "timestamp": "2022-11-03T20:26:10.344522Z",
    "data": {"id": "1f81eb52-5198-4599-803e-771906343485", "type": "contact"},
}


@dataclass(frozen=True, slots=True)
class Sample:
    event_type: str
    body: bytes


def _dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def load_documents() -> dict[str, list[dict[str, Any]]]:
    livechat = []
    for path in sorted((REFERENCE / "livechat" / "fixtures-v3.5").glob("*.json")):
        document = json.loads(path.read_bytes())
        document.pop("secret_key", None)
        livechat.append(document)
    return {
        "starya": [
            json.loads(path.read_bytes()) for path in sorted((SEEDS / "starya").glob("*.json"))
        ],
        "livechat": livechat,
        "plain": [
            json.loads((REFERENCE / "plain" / "plain-thread-created.raw.json").read_bytes()),
            json.loads((SEEDS / "plain" / "thread.chat_sent.json").read_bytes()),
        ],
        "standard": [STANDARD_SAMPLE],
    }


def prepare(source: str, documents: list[dict[str, Any]]) -> tuple[list[Any], int]:
    """(model, body) pairs that validate, and how many samples did not (left out: timing a
    failure would measure error formatting, not validation)."""
    instance = source_types()[source](insecure=True)
    pairs: list[tuple[type[BaseModel], bytes]] = []
    invalid = 0
    for document in documents:
        model = instance.model_for(str(document.get(TYPE_FIELD[source], "")))
        body = _dump(document)
        try:
            model.model_validate_json(body)
        except ValidationError:
            invalid += 1
            continue
        pairs.append((model, body))
    return pairs, invalid


def measure(pairs: list[tuple[type[BaseModel], bytes]], seconds: float) -> tuple[int, float]:
    """Validate the samples round after round until ``seconds`` have passed: (events, elapsed)."""
    events = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for model, body in pairs:
            model.model_validate_json(body)
        events += len(pairs)
        now = time.perf_counter()
        if now >= deadline or not pairs:
            return events, now - start


def run(duration_s: float) -> list[dict[str, Any]]:
    """One row per source; ``duration_s`` is the total, shared evenly by the sources."""
    documents = load_documents()
    share = duration_s / len(documents)
    rows = []
    for source, docs in documents.items():
        pairs, invalid = prepare(source, docs)
        events, elapsed = measure(pairs, share)
        rows.append(
            {
                "source": source,
                "samples": len(pairs),
                "invalid_samples": invalid,
                "typed_models": len(
                    {model for model, _ in pairs} - {source_types()[source].envelope}
                ),
                "mean_body_bytes": sum(len(b) for _, b in pairs) // max(len(pairs), 1),
                "events": events,
                "seconds": round(elapsed, 3),
                "events_per_s": round(events / elapsed) if elapsed else 0,
            }
        )
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    columns = list(rows[0]) if rows else []
    widths = {c: max(len(c), *(len(str(row[c])) for row in rows)) for c in columns}

    def cell(value: Any, column: str) -> str:
        text = str(value)
        return text.ljust(widths[column]) if column == "source" else text.rjust(widths[column])

    lines = ["  ".join(cell(c, c) for c in columns)]
    lines += ["  ".join(cell(row[c], c) for c in columns) for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=4.0, help="total, shared by sources")
    args = parser.parse_args()
    print(format_table(run(args.seconds)))


if __name__ == "__main__":
    main()
