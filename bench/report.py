"""The one table: rows of figures, hookq beside the reference measured in the same run.

Printed as Markdown (so the same text goes into ``docs/benchmarks.md``) and saved with the raw
figures as JSON under ``bench/results/``.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

COLUMNS = ("Part", "Measure", "hookq", "Reference (same run)", "Ratio", "Target", "Met")


@dataclass
class Row:
    part: str
    measure: str
    hookq: str
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    def cells(self) -> tuple[str, ...]:
        ratio = f"{self.ratio:.2f}" if self.ratio is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[self.met]
        return (self.part, self.measure, self.hookq, self.reference, ratio, self.target, met)


def failed(part: str, measure: str, exc: BaseException) -> Row:
    """The row of a part that could not be measured: the table still has it, saying why."""
    message = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
    return Row(part, measure, f"FAILED ({message})", met=False, figures={"error": message})


def rate(value: float) -> str:
    return f"{value:,.0f}/s"


def ms(*values: float) -> str:
    return " / ".join(f"{v:.1f}" for v in values) + " ms"


def mb(value_bytes: float) -> str:
    return f"{value_bytes / 2**20:.0f} MB"


def ratio(value: float, reference: float) -> float | None:
    return value / reference if reference > 0 else None


def markdown(rows: list[Row]) -> str:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [line(COLUMNS), "| " + " | ".join("---" for _ in COLUMNS) + " |"]
    out += [line(row.cells()) for row in rows]
    return "\n".join(out)


def machine() -> dict[str, Any]:
    import os

    import psutil

    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def save(rows: list[Row], meta: dict[str, Any], directory: Path, stamp: str) -> list[Path]:
    """``<stamp>.json`` and ``<stamp>.md``, and the same as ``latest.*``."""
    directory.mkdir(parents=True, exist_ok=True)
    document = {"meta": meta, "rows": [asdict(row) for row in rows]}
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    text = markdown(rows) + "\n"
    paths = []
    for name in (stamp, "latest"):
        (directory / f"{name}.json").write_bytes(data)
        (directory / f"{name}.md").write_text(text)
        paths += [directory / f"{name}.json", directory / f"{name}.md"]
    return paths
