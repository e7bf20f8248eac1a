"""The handler API's pure logic: backoff tiers and delays, default names, decorator errors."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookq.handlers import Backoff, HandlerContext, handler
from hookq.handlers.api import DEFAULT_MAX_ATTEMPTS, default_name, spec_of


def test_default_backoff_waits_base_times_factor_to_the_retry_minus_one() -> None:
    backoff = Backoff()

    assert [backoff.nominal(n) for n in range(1, 8)] == [1, 4, 16, 64, 256, 1024, 3600]


def test_tiers_hold_one_delay_per_possible_retry() -> None:
    # max_attempts counts every run: 5 runs leave 4 retries, so 4 tiers.
    assert Backoff().tiers(DEFAULT_MAX_ATTEMPTS) == (1.0, 4.0, 16.0, 64.0)
    assert Backoff(base=2, factor=3).tiers(4) == (2.0, 6.0, 18.0)


def test_capped_delays_share_one_tier() -> None:
    backoff = Backoff(base=10, factor=10, max_delay=500)

    assert backoff.tiers(8) == (10.0, 100.0, 500.0)
    assert backoff.delay(6, random.Random(1)) == 500.0


def test_constant_backoff_has_one_tier() -> None:
    assert Backoff(base=30, factor=1).tiers(10) == (30.0,)


def test_a_handler_that_never_retries_still_has_one_tier() -> None:
    assert Backoff().tiers(1) == (1.0,)
    assert Backoff().tier_at_least(100, max_attempts=1) == 1.0


def test_first_retry_is_never_jittered() -> None:
    rng = random.Random(0)

    assert {Backoff().delay(1, rng) for _ in range(50)} == {1.0}


def test_jitter_picks_the_tier_below_or_the_nominal_one() -> None:
    rng = random.Random(0)

    assert {Backoff().delay(3, rng) for _ in range(200)} == {4.0, 16.0}


def test_without_jitter_the_delay_is_nominal() -> None:
    backoff = Backoff(jitter=False)
    rng = random.Random(0)

    assert [backoff.delay(n, rng) for n in range(1, 5)] == [1.0, 4.0, 16.0, 64.0]


@given(
    base=st.floats(0.001, 100),
    factor=st.floats(1, 10),
    cap=st.floats(0, 5000),
    max_attempts=st.integers(1, 20),
    seed=st.integers(0, 2**32),
)
def test_every_delay_a_retry_can_get_is_a_declared_tier(
    base: float, factor: float, cap: float, max_attempts: int, seed: int
) -> None:
    backoff = Backoff(base=base, factor=factor, max_delay=base + cap)
    tiers = backoff.tiers(max_attempts)
    rng = random.Random(seed)

    for retry in range(1, max_attempts):
        assert backoff.delay(retry, rng) in tiers
    assert list(tiers) == sorted(set(tiers))


def test_requested_delay_rounds_up_to_a_tier() -> None:
    backoff = Backoff()

    assert backoff.tier_at_least(0, max_attempts=5) == 1.0
    assert backoff.tier_at_least(4, max_attempts=5) == 4.0
    assert backoff.tier_at_least(5, max_attempts=5) == 16.0
    assert backoff.tier_at_least(10_000, max_attempts=5) == 64.0  # longest when none is enough


@pytest.mark.parametrize(
    "kwargs",
    [{"base": 0}, {"factor": 0.5}, {"base": 10, "max_delay": 5}],
    ids=["zero-base", "shrinking", "cap-below-base"],
)
def test_nonsense_backoff_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="backoff needs"):
        Backoff(**kwargs)


def named(module: str, qualname: str) -> Any:
    async def func(event: object, ctx: HandlerContext) -> None:
        pass

    func.__module__, func.__qualname__ = module, qualname
    return func


@pytest.mark.parametrize(
    ("module", "qualname", "expected"),
    [
        ("billing.hooks", "OnChat", "billing-hooks-onchat"),
        ("billing.hooks", "on_chat", "billing-hooks-on_chat"),
        ("tests.x", "make.<locals>.inner", "tests-x-make--locals--inner"),
        ("__main__", "handle", "main__-handle"),  # only the ends are trimmed
        ("café.hooks", "handle", "caf--hooks-handle"),
    ],
)
def test_default_name_is_module_and_function_made_queue_safe(
    module: str, qualname: str, expected: str
) -> None:
    assert default_name(named(module, qualname)) == expected


def test_decorator_without_name_uses_the_default_name() -> None:
    func = handler("plain.#")(named("support.hooks", "sync"))

    spec = spec_of(func)
    assert spec is not None
    assert (spec.name, spec.func, spec.origin) == ("support-hooks-sync", func, "support.hooks:sync")


@pytest.mark.parametrize(
    ("patterns", "name", "error"),
    [
        (("plain.*",), "events", "invalid handler name 'events'"),
        (("plain..x",), "ok", "invalid pattern 'plain..x'"),
        ((), "ok", "has no pattern"),
    ],
)
def test_decorator_errors_name_the_function(
    patterns: tuple[str, ...], name: str, error: str
) -> None:
    with pytest.raises(ValueError, match=rf"@handler on team\.hooks:sync: .*{error}"):
        handler(*patterns, name=name)(named("team.hooks", "sync"))
