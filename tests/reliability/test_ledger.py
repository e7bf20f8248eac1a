"""The judge of the scenarios (pure logic): what counts as lost, as an explained duplicate, and
as an effect that should not exist."""

from __future__ import annotations

from tests.reliability.ledger import Effect, Verdict, judge
from tests.reliability.procs import Kill
from tests.reliability.summary import Summary

HANDLERS = ("a", "b")


def effect(handler: str, delivery: str, pid: int, at: float) -> Effect:
    return Effect(handler, delivery, pid, at, attempt=1)


def test_one_effect_per_handler_is_clean() -> None:
    found = [effect("a", "d1", 10, 1.0), effect("b", "d1", 11, 1.5)]
    verdict = judge({"d1"}, HANDLERS, found)
    assert (verdict.expected, verdict.duplicated) == (2, 0)
    assert not verdict.lost
    assert not verdict.unexplained


def test_a_missing_handler_effect_is_lost() -> None:
    verdict = judge({"d1", "d2"}, HANDLERS, [effect("a", "d1", 10, 1.0), effect("b", "d1", 10, 1)])
    assert verdict.lost == [("a", "d2"), ("b", "d2")]


def test_a_duplicate_after_the_first_workers_kill_is_explained() -> None:
    found = [effect("a", "d1", 10, 1.0), effect("a", "d1", 20, 5.0), effect("b", "d1", 20, 5.1)]
    verdict = judge({"d1"}, HANDLERS, found, kills=[Kill(pid=10, at=2.0)])
    assert verdict.duplicated == 1
    assert not verdict.unexplained


def test_a_duplicate_without_a_kill_is_unexplained() -> None:
    found = [effect("a", "d1", 10, 1.0), effect("a", "d1", 20, 5.0), effect("b", "d1", 20, 5.1)]
    verdict = judge({"d1"}, HANDLERS, found, kills=[Kill(pid=20, at=2.0)])
    assert verdict.unexplained == [("a", "d1")]


def test_a_kill_after_the_second_run_explains_nothing() -> None:
    # The first worker was killed, but only after the event had already run again elsewhere:
    # the second run did not come from that kill.
    found = [effect("a", "d1", 10, 1.0), effect("a", "d1", 20, 2.0), effect("b", "d1", 20, 2)]
    verdict = judge({"d1"}, HANDLERS, found, kills=[Kill(pid=10, at=3.0)])
    assert verdict.unexplained == [("a", "d1")]


def test_effects_of_refused_events_are_unexpected_unless_ambiguous() -> None:
    found = [effect("a", "x", 10, 1.0), effect("a", "y", 10, 1.0)]
    verdict = judge(set(), HANDLERS, found, ambiguous={"y"})
    assert verdict.unexpected == [("a", "x")]


def test_hang_records_are_not_effects() -> None:
    hang = Effect("a", "d1", 10, 1.0, attempt=1, kind="hang")
    verdict = judge({"d1"}, ("a",), [hang])
    assert verdict.lost == [("a", "d1")]


def test_the_summary_line_gives_the_cluster_figures_apart() -> None:
    summary = Summary()
    assert "cluster:" not in summary.line()
    summary.add_cluster(Verdict(lost=[("rel-a", "d1")], duplicated=2), events=10, kills=3, stops=1)
    assert summary.line().endswith(
        "; cluster: events=10 node_kills=3 node_stops=1 lost=1 duplicated=2 "
        "(no exception for node losses)"
    )
    assert "reliability: events=0 kills=0" in summary.line()
