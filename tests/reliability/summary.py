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
    # The transactional scenario's own figures (exactly once: no duplicate is explained away)
    tx_events: int = 0
    tx_kills: int = 0
    tx_lost: int = 0
    tx_duplicated: int = 0
    tx_scenarios: int = 0
    # The RabbitMQ cluster scenario's own figures (nodes lost, no exception for them)
    cluster_events: int = 0
    node_kills: int = 0
    node_stops: int = 0
    cluster_lost: int = 0
    cluster_duplicated: int = 0
    cluster_scenarios: int = 0
    # The Sentinel scenario's own figures: a duplicate there is a done mark the failover lost
    # (not yet replicated), which no worker kill explains.
    failover_events: int = 0
    failovers: int = 0
    failover_lost: int = 0
    failover_duplicated: int = 0
    failover_marks_lost: int = 0  # done marks missing at the end (what a retry would run again)

    def add(self, verdict: Verdict, events: int, kills: int = 0, restarts: int = 0) -> None:
        self.scenarios += 1
        self.events += events
        self.kills += kills
        self.restarts += restarts
        self.lost += len(verdict.lost)
        self.duplicated += verdict.duplicated
        self.unexplained += len(verdict.unexplained)

    def add_transactional(self, verdict: Verdict, events: int, kills: int) -> None:
        self.scenarios += 1
        self.tx_scenarios += 1
        self.tx_events += events
        self.tx_kills += kills
        self.tx_lost += len(verdict.lost)
        self.tx_duplicated += verdict.duplicated

    def add_cluster(self, verdict: Verdict, events: int, kills: int, stops: int) -> None:
        self.scenarios += 1
        self.cluster_scenarios += 1
        self.cluster_events += events
        self.node_kills += kills
        self.node_stops += stops
        self.cluster_lost += len(verdict.lost)
        self.cluster_duplicated += verdict.duplicated

    def add_failover(self, verdict: Verdict, events: int, failovers: int, marks_lost: int) -> None:
        self.scenarios += 1
        self.failover_events += events
        self.failovers += failovers
        self.failover_lost += len(verdict.lost)
        self.failover_duplicated += verdict.duplicated
        self.failover_marks_lost += marks_lost

    def line(self) -> str:
        why = (
            "(all explained by kills)"
            if not self.unexplained
            else f"({self.unexplained} NOT explained by kills)"
        )
        return (
            f"reliability: events={self.events} kills={self.kills} restarts={self.restarts} "
            f"fuzz_cases={self.fuzz_cases} lost={self.lost} duplicated={self.duplicated} {why}"
            + self._transactional()
            + self._cluster()
            + self._failover()
        )

    def _failover(self) -> str:
        if not self.failovers:
            return ""
        return (
            f"; redis failover: events={self.failover_events} failovers={self.failovers} "
            f"lost={self.failover_lost} duplicated={self.failover_duplicated} "
            f"done_marks_lost={self.failover_marks_lost} (unreplicated at the kill)"
        )

    def _transactional(self) -> str:
        if not self.tx_scenarios:
            return ""
        return (
            f"; transactional: events={self.tx_events} kills={self.tx_kills} "
            f"lost={self.tx_lost} duplicated={self.tx_duplicated} (no exception for kills)"
        )

    def _cluster(self) -> str:
        if not self.cluster_scenarios:
            return ""
        return (
            f"; cluster: events={self.cluster_events} node_kills={self.node_kills} "
            f"node_stops={self.node_stops} lost={self.cluster_lost} "
            f"duplicated={self.cluster_duplicated} (no exception for node losses)"
        )


SUMMARY = Summary()
