"""Counting losses and duplicates from the recorded effects, and proving each duplicate came from
a kill: the run that made the first effect was in a worker killed after that effect and before
the next one (so before its done mark)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson

from tests.reliability.procs import Kill


@dataclass(frozen=True)
class Effect:
    handler: str
    delivery_id: str
    pid: int
    at: float
    attempt: int
    kind: str = "effect"

    @classmethod
    def from_record(cls, raw: bytes | str) -> Effect:
        entry = orjson.loads(raw)
        return cls(entry["h"], entry["d"], entry["pid"], entry["t"], entry["a"], entry["k"])


@dataclass
class Verdict:
    expected: int = 0  # (handler, delivery id) pairs that must have an effect
    lost: list[tuple[str, str]] = field(default_factory=list)
    duplicated: int = 0  # effects beyond the first, per (handler, delivery id)
    unexplained: list[tuple[str, str]] = field(default_factory=list)
    runs: dict[tuple[str, str], list[Effect]] = field(default_factory=dict)  # of unexplained
    unexpected: list[tuple[str, str]] = field(default_factory=list)  # effects of refused events

    def problems(self) -> str:
        parts = []
        if self.lost:
            parts.append(f"{len(self.lost)} lost, e.g. {self.lost[:3]}")
        if self.unexplained:
            first = self.unexplained[0]
            runs = [(e.pid, round(e.at, 3), e.attempt) for e in self.runs.get(first, [])]
            parts.append(
                f"{len(self.unexplained)} unexplained duplicates: {self.unexplained[:3]}; "
                f"runs of the first (pid, time, attempt): {runs}"
            )
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} effects of refused events: {self.unexpected[:3]}")
        return "; ".join(parts)


def explained(runs: Sequence[Effect], kills: Sequence[Kill]) -> bool:
    """Every run but the last was in a worker killed after it and before the next run."""
    for first, following in itertools.pairwise(runs):
        if not any(k.pid == first.pid and first.at <= k.at <= following.at for k in kills):
            return False
    return True


def judge(
    acked: Iterable[str],
    handlers: Sequence[str],
    effects: Iterable[Effect],
    kills: Sequence[Kill] = (),
    ambiguous: Iterable[str] = (),
) -> Verdict:
    """``acked``: delivery ids answered 2xx (each needs an effect per handler). ``ambiguous``:
    ids never answered 2xx whose publish may still have reached the broker (a 503 or a broken
    connection): an effect for them is allowed, at most once; any other effect is unexpected."""
    acked_ids, maybe_ids = set(acked), set(ambiguous)
    runs: dict[tuple[str, str], list[Effect]] = defaultdict(list)
    for effect in effects:
        if effect.kind == "effect" and effect.handler in handlers:
            runs[(effect.handler, effect.delivery_id)].append(effect)
    verdict = Verdict(expected=len(acked_ids) * len(handlers))
    for key in sorted(runs):
        if key[1] not in acked_ids and key[1] not in maybe_ids:
            verdict.unexpected.append(key)
    for handler in handlers:
        verdict.lost += [(handler, d) for d in sorted(acked_ids) if (handler, d) not in runs]
    for key, found in runs.items():
        found.sort(key=lambda effect: effect.at)
        verdict.duplicated += len(found) - 1
        if len(found) > 1 and not explained(found, kills):
            verdict.unexplained.append(key)
            verdict.runs[key] = found
    return verdict
