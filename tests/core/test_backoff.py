"""Backoff: full jitter under an exponential ceiling, first retry within a second."""

from __future__ import annotations

import random

import pytest

from tui.realtime.backoff import Backoff


def test_first_retry_within_one_second() -> None:
    for seed in range(200):
        assert 0.0 <= Backoff(rng=random.Random(seed)).next() <= 1.0


def test_ceiling_doubles_then_caps() -> None:
    backoff = Backoff(first=0.5, cap=30.0)
    ceilings = []
    for _ in range(10):
        ceilings.append(backoff.ceiling())
        backoff.next()
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]


def test_delays_stay_under_the_ceiling_and_are_jittered() -> None:
    backoff = Backoff(first=0.5, cap=30.0, rng=random.Random(1))
    delays = [backoff.next() for _ in range(1000)]
    assert max(delays) <= 30.0
    late = delays[10:]
    # full jitter: spread over the whole range, not clustered at the ceiling
    assert min(late) < 5.0 and max(late) > 25.0
    assert len(set(late)) == len(late)


def test_reset_starts_over() -> None:
    backoff = Backoff(rng=random.Random(2))
    for _ in range(8):
        backoff.next()
    assert backoff.ceiling() == 30.0
    backoff.reset()
    assert backoff.attempts == 0
    assert backoff.next() <= 0.5


def test_very_long_outage_does_not_overflow() -> None:
    backoff = Backoff(attempts=10_000)
    assert backoff.next() <= 30.0


@pytest.mark.parametrize(("first", "cap"), [(0.0, 30.0), (-1.0, 30.0), (5.0, 1.0)])
def test_rejects_nonsense(first: float, cap: float) -> None:
    with pytest.raises(ValueError):
        Backoff(first=first, cap=cap)
