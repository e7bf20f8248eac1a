"""Write a saved run into the Results section of ``docs/benchmarks.md``: its table, the command
that made it, when, and the machine it ran on.

    python -m bench.publish_docs                       # bench/results/latest.json
    python -m bench.publish_docs bench/results/20261121T081500Z.json --note "..."
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import orjson

from bench.report import Row, markdown

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = re.compile(r"(## Results\n)(.*?)(?=\n## )", re.DOTALL)


def results_section(document: dict[str, Any], note: str) -> str:
    meta, machine = document["meta"], document["meta"]["machine"]
    rows = [Row(**row) for row in document["rows"]]
    before, after = machine["load_average"][0], meta.get("load_average_after", ["?"])[0]
    lines = [
        f"Run on {meta['date']} with `{meta['command'].strip()}`.",
        "",
        f"Machine: {machine['cpus']} cores ({machine['cpu_model']}), {machine['memory_gb']} GB, "
        f"{machine['system']}, Python {machine['python']}; RabbitMQ 3.10.8 and Redis on the "
        f"same host. Load average (1 min) {before} before the run, {after} after.",
        "",
    ]
    if note:
        lines += [note, ""]
    return "\n".join([*lines, markdown(rows), ""])


def publish(results: Path, note: str = "", doc: Path = DOC) -> None:
    document = orjson.loads(results.read_bytes())
    text = doc.read_text()
    if not SECTION.search(text):
        raise SystemExit(f"{doc} has no '## Results' section followed by another section")
    section = results_section(document, note)
    doc.write_text(SECTION.sub(lambda m: m.group(1) + "\n" + section, text, count=1))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.publish_docs")
    parser.add_argument("results", nargs="?", type=Path, default=ROOT / "bench/results/latest.json")
    parser.add_argument("--note", default="", help="a paragraph to print above the table")
    args = parser.parse_args()
    publish(args.results, args.note)
    print(f"wrote the Results section of {DOC} from {args.results}")


if __name__ == "__main__":
    main()
