"""Validation speed per source, from ``bench.validation`` (events/s through
``model_validate_json``, the call the worker makes for every event), as rows of the table."""

from __future__ import annotations

import asyncio
from typing import Any

from bench import validation
from bench.context import BenchContext
from bench.report import Row, rate


def to_row(result: dict[str, Any]) -> Row:
    samples = result.get("samples", "?")
    size = result.get("mean_body_bytes")
    detail = f"{samples} payloads" + (f", mean {size} B" if size is not None else "")
    return Row(
        f"validation {result['source']}",
        f"events/s through model_validate_json ({detail})",
        rate(float(result["events_per_s"])),
        figures=dict(result),
    )


async def run_validation(ctx: BenchContext) -> list[Row]:
    # CPU-bound and in this process: off the event loop so nothing else waits on it.
    results = await asyncio.to_thread(validation.run, ctx.seconds)
    return [to_row(result) for result in results]
