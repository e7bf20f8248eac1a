"""Percentiles and steady-state rates from raw samples."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of unsorted ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def steady_rate(times: Sequence[float], skip: float = 0.1) -> float:
    """Events per second over the completion times after the first ``skip`` share of them:
    start-up (connecting, first imports, caches filling) is not the steady state measured."""
    ordered = sorted(times)
    first = int(len(ordered) * skip)
    if len(ordered) - first < 2:
        return 0.0
    span = ordered[-1] - ordered[first]
    return (len(ordered) - 1 - first) / span if span > 0 else 0.0
