"""The suite's summary line, added to by every scenario and printed at the end of the run."""

from __future__ import annotations

from dataclasses import dataclass

from tests.reliability.ledger import Verdict


@dataclass
class Summary:
    events: int = 0
    kills: int = 0
    restarts: int = 0
    fuzz_cases: int = 0
    lost: int = 0
    duplicated: int = 0
    unexplained: int = 0
    scenarios: int = 0

    def add(self, verdict: Verdict, events: int, kills: int = 0, restarts: int = 0) -> None:
        self.scenarios += 1
        self.events += events
        self.kills += kills
        self.restarts += restarts
        self.lost += len(verdict.lost)
        self.duplicated += verdict.duplicated
        self.unexplained += len(verdict.unexplained)

    def line(self) -> str:
        why = (
            "(all explained by kills)"
            if not self.unexplained
            else f"({self.unexplained} NOT explained by kills)"
        )
        return (
            f"reliability: events={self.events} kills={self.kills} restarts={self.restarts} "
            f"fuzz_cases={self.fuzz_cases} lost={self.lost} duplicated={self.duplicated} {why}"
        )


SUMMARY = Summary()
