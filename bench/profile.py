"""Where a process's CPU time goes: py-spy's samples of it, read back by what they were doing.

``record(pid, seconds, out)`` runs ``py-spy record`` (raw format: one line per distinct stack,
``frame;frame;... count``, idle samples left out, so the shares are of CPU time) for a while;
``shares(out, buckets)`` is the share of samples whose stack passes through each bucket's
functions (inclusive: a bucket counts its callees), the first matching bucket winning. A
bucket's marks match a frame written ``<file path>:<function>``, e.g. ``inbox/claims.py:_try``
or ``asyncpg/`` (any function of asyncpg).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

Bucket = tuple[str, Sequence[str]]  # name, substrings of a frame as "<file path>:<function>"


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise RuntimeError("py-spy is not installed (pip install py-spy; it is a dev dependency)")
    return found


def record(pid: int, seconds: float, out: Path, rate: int = 250) -> subprocess.Popen[bytes]:
    """Start sampling ``pid`` for ``seconds`` (the caller waits for the returned process)."""
    return subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def shares(raw: Path, buckets: Sequence[Bucket]) -> dict[str, float]:
    """Share of all samples per bucket, plus ``other``; empty when nothing was sampled."""
    counts = dict.fromkeys([name for name, _ in buckets] + ["other"], 0)
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame(frame) for frame in stack.split(";")]
        name = next(
            (
                name
                for name, marks in buckets
                if any(mark in frame for mark in marks for frame in frames)
            ),
            "other",
        )
        counts[name] += count
    if not total:
        return {}
    return {name: count / total for name, count in counts.items()}


def _frame(frame: str) -> str:
    """``function (path:line)`` as ``path:function``."""
    function, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    return f"{path}:{function}"


def describe(found: dict[str, float]) -> str:
    return " · ".join(f"{name} {share:.0%}" for name, share in found.items() if share >= 0.005)
