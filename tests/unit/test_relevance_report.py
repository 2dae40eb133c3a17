"""The report's numbers: credible intervals that cover, and lift over the holdout that is honest."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from versa.relevance import Counters, Policy, reallocate
from versa.relevance.report import arm_rows, lift, rows_csv

ARMS = ("a", "b")


def test_arm_rows_carry_counts_intervals_and_shares() -> None:
    c = Counters({("all", "a", "optimized"): (1000, 20), ("all", "a", "holdout"): (100, 2), ("all", "b", "optimized"): (50, 1)})
    snap = reallocate(Policy(rule="r", arms=ARMS, min_sample=0), c, None, datetime(2026, 12, 1, tzinfo=UTC), random.Random(1))
    rows = {r.arm: r for r in arm_rows(c, ARMS, snap, random.Random(2))}
    a, b = rows["a"], rows["b"]
    assert (a.impressions, a.clicks, a.ctr) == (1100, 22, 0.02)
    assert a.ctr_low < 0.02 < a.ctr_high
    # fifty impressions leave a far wider interval than 1,100
    assert (b.ctr_high - b.ctr_low) > 3 * (a.ctr_high - a.ctr_low)
    assert a.share is not None and b.share is not None and a.share + b.share == pytest.approx(1.0)
    csv = rows_csv(list(rows.values())).splitlines()
    assert csv[0] == "segment,arm,impressions,clicks,ctr,ctr_low,ctr_high,share"
    assert csv[1].startswith("all,a,1100,22,0.020000,")


def test_lift_weighs_holdout_arms_equally_and_brackets_the_truth() -> None:
    # GIVEN a holdout where arm a (1%) got three times b's (3%) impressions: a plain pooled rate would be
    # 1.5%, the uniform split's rate is 2%; the optimized traffic ran at 2.6%
    c = Counters({
        ("all", "a", "holdout"): (30000, 300), ("all", "b", "holdout"): (10000, 300),
        ("all", "a", "optimized"): (10000, 100), ("all", "b", "optimized"): (90000, 2500),
    })
    got = lift(c, "all", ARMS, random.Random(3))
    assert got.holdout_ctr == pytest.approx(0.02)
    assert got.optimized_ctr == pytest.approx(0.026)
    assert got.lift == pytest.approx(0.3)
    assert got.low is not None and got.high is not None and got.low < 0.3 < got.high
    # by the normal approximation the holdout's rate has an sd of about 0.0009 (4.5% of 2%), the
    # optimized one about 0.0005 (2% of 2.6%): the lift's 95% interval is about 0.2-0.25 wide; it must
    # not be much wider (nor collapse)
    assert 0.15 < got.high - got.low < 0.3


def test_lift_without_a_holdout_sample_says_so() -> None:
    c = Counters({("all", "a", "optimized"): (100, 2), ("all", "a", "holdout"): (10, 0)})
    got = lift(c, "all", ARMS, random.Random(1))  # b was never shown in the holdout
    assert (got.holdout_ctr, got.lift, got.low, got.high) == (None, None, None, None)
    assert got.optimized_ctr == pytest.approx(0.02)
