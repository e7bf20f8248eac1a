"""A small line plot of the last hour, as numbers an SVG template draws.

Only coordinates are computed here (numbers formatted by Python, so nothing from outside
reaches the SVG but through the template's escaping). Gaps (a sample that could not be read, a
counter that went back when a process restarted) break the line instead of drawing zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 240, 48, 2
HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Plot:
    lines: list[str]  # each an SVG polyline's points: "x,y x,y ..."
    top: float  # the value at the top edge
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not self.lines


def plot(points: Sequence[tuple[float, float | None]], now: float, span: float = HOUR) -> Plot:
    """``points``: (Unix time, value or None), oldest first; drawn over ``span`` seconds up to
    ``now``."""
    start = now - span
    values = [v for t, v in points if v is not None and t >= start]
    top = max(values, default=0.0) or 1.0
    lines: list[str] = []
    current: list[str] = []
    for t, value in points:
        if t < start:
            continue
        if value is None:
            if len(current) > 1:
                lines.append(" ".join(current))
            current = []
            continue
        x = PAD + (t - start) / span * (WIDTH - 2 * PAD)
        y = HEIGHT - PAD - value / top * (HEIGHT - 2 * PAD)
        current.append(f"{x:.1f},{y:.1f}")
    if len(current) > 1:
        lines.append(" ".join(current))
    return Plot(lines, top)
